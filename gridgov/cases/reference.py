"""The reference cache: the active categories and the work calendar (official calendar + local overrides),
kept by each app process under the reference stamp it read them with.

Intake reads both on every case. They change a few times a year, so each process keeps them, and
checks one number instead: `cases_referencestamp.value`, which database triggers replace in the same
transaction as any change to `cases_category` or `cases_calendaroverride` (migration 0008). A change
made anywhere (another process, the admin, a queryset update, psql) commits together with a new stamp;
the next read of the stamp, in any process, no longer matches and the tables are read afresh.

Reading after the stamp: under READ COMMITTED the tables are read by a later statement than the stamp,
so what is kept under a stamp is never older than the state that stamp stands for (at worst newer, if
a change commits in between; the next stamp read then differs and reads again). No stamp row (a
database flushed by a test) means no keeping: every call reads the tables.

The kept `Category` instances are shared by every request of the process: read them, never change or
save them (the category editor reads its own).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection

from gridgov.core.workdays import WorkCalendar, calendar_with

from .models import CalendarOverride, Category

STAMP_SQL = "SELECT value FROM cases_referencestamp WHERE id = 1"


@dataclass(frozen=True)
class Reference:
    stamp: int | None
    categories: Mapping[str, Category]  # the active ones, by code
    calendar: WorkCalendar


_kept: Reference | None = None
_lock = threading.Lock()


def read_stamp() -> int | None:
    """The current reference stamp (one statement); None when the row is missing."""
    with connection.cursor() as cur:
        cur.execute(STAMP_SQL)
        row = cur.fetchone()
    return None if row is None else int(row[0])


def reference(stamp: int | None) -> Reference:
    """The categories and calendar as of `stamp` (read by the caller with `read_stamp`, or in the same
    statement as something else it needed): this process's kept copy when the stamp matches."""
    global _kept
    kept = _kept
    if stamp is not None and kept is not None and kept.stamp == stamp:
        return kept
    fresh = Reference(
        stamp=stamp,
        categories={c.code: c for c in Category.objects.filter(is_active=True)},
        calendar=calendar_with(CalendarOverride.objects.values_list("date", "is_workday")),
    )
    if stamp is not None:
        with _lock:
            _kept = fresh
    return fresh


def forget() -> None:
    """Drop this process's kept copy (tests that count the statements of a cold intake)."""
    global _kept
    with _lock:
        _kept = None
