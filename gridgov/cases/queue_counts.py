"""How many cases wait in the work queues 待办, 即将超期 and 已超期, for the home page (今日工作).

The conditions are the work queues' own (`selectors.queue_filter`), so a figure on the home page is the
length of the list it links to (tests/functional/test_home_today.py compares them for every persona).
Each count stops at `cap` (the queue pages list 100): a county office's 已超期 is counted over at most
cap + 1 index entries, never over the whole county's cases."""

from __future__ import annotations

import datetime as dt

from gridgov.access.scope import Scope

from .models import Case
from .selectors import queue_filter

HOME_QUEUES = ("todo", "due_soon", "overdue")


def queue_counts(*, scope: Scope, now: dt.datetime, cap: int = 100) -> dict[str, int]:
    """{queue: rows, at most cap + 1} for 待办, 即将超期 and 已超期: one query each."""
    qs = Case.objects.within(scope)
    return {name: queue_filter(qs, scope=scope, queue=name, now=now).order_by().values("pk")[: cap + 1].count()
            for name in HOME_QUEUES}
