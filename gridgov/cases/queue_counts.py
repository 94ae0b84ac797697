"""How many cases wait in the work queues 待办, 即将超期 and 已超期, for the home page (今日工作).

The conditions are `selectors.case_queue`'s, so a figure on the home page is the length of the list it
links to (tests/functional/test_home_today.py compares them for every persona). Each count stops at `cap`
(the queue pages list 100): a county office's 已超期 is counted over at most cap + 1 index entries, never
over the whole county's cases."""

from __future__ import annotations

import datetime as dt

from gridgov.access.roles import P
from gridgov.access.scope import Scope

from . import deadlines
from .models import Case
from .selectors import _held_by_me
from .states import ACTIVE, CLOCKED

HOME_QUEUES = ("todo", "due_soon", "overdue")


def queue_counts(*, scope: Scope, now: dt.datetime, cap: int = 100) -> dict[str, int]:
    """{queue: rows, at most cap + 1} for 待办, 即将超期 and 已超期: one query each."""
    qs = Case.objects.within(scope)
    mine = _held_by_me(scope)
    clocked = [s.value for s in CLOCKED]
    overdue = qs.filter(status__in=clocked, resolve_due__lt=now)
    if not scope.can(P.CASE_VIEW):
        overdue = overdue.filter(mine)  # a department's 已超期 is what it holds (as on the queue page)
    wanted = {
        "todo": qs.filter(mine, status__in=[s.value for s in ACTIVE]),
        "due_soon": qs.filter(mine, status__in=clocked, resolve_due__gt=now,
                              resolve_due__lte=now + deadlines.WARN_BEFORE * 2),
        "overdue": overdue,
    }
    return {name: q.order_by().values("pk")[: cap + 1].count() for name, q in wanted.items()}
