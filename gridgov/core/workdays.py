"""Working-day arithmetic on the Chinese official calendar.

Holidays and the substituted weekend workdays (调休) come from the `holidays` package;
whatever it lacks or a locality changes is passed in as overrides (data kept elsewhere).
Everything here is a pure function of its inputs: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Never walk further than this looking for a working day: a bad override table must not hang a request.
_MAX_SCAN_DAYS = 3660


@lru_cache(maxsize=64)
def _official(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    calendar = holidays.China(years=year, categories=("public",))
    off = frozenset(calendar.keys())
    # weekend_workdays covers every year the package knows; keep this year's.
    work = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return off, work


@dataclass(frozen=True)
class WorkCalendar:
    """The official calendar plus local overrides: date → True (a working day) or False (a day off)."""

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        off, work = _official(day.year)
        if day in work:
            return True
        if day in off:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class MemoCalendar(WorkCalendar):
    """The same calendar, remembering its answers: for generators asking the same days millions of times.

    `add_working_days` also remembers (start date, days) → due date on it. Build one per run: the
    memory is not invalidated when overrides change.
    """

    working: dict[dt.date, bool] = field(default_factory=dict, compare=False, repr=False)
    after: dict[tuple[dt.date, int], dt.date] = field(default_factory=dict, compare=False, repr=False)

    def is_working_day(self, day: dt.date) -> bool:
        answer = self.working.get(day)
        if answer is None:
            answer = self.working[day] = super().is_working_day(day)
        return answer


def memoized(calendar: WorkCalendar) -> MemoCalendar:
    return MemoCalendar(overrides=calendar.overrides)


def calendar_with(overrides: Iterable[tuple[dt.date, bool]] = ()) -> WorkCalendar:
    return WorkCalendar(overrides=dict(overrides))


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: every datetime in GridGov is timezone-aware")
    return moment


def add_working_days(calendar: WorkCalendar, start: dt.datetime, days: int) -> dt.datetime:
    """The same local time of day on the `days`-th working day after the start's local date.

    A start on a day off counts from the next working day, so a case reported on a Sunday
    with one working day is due on Tuesday (Monday is the first full working day to act).
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local = _aware(start).astimezone(LOCAL_TZ)
    day = local.date()
    if days == 0:
        return start
    if isinstance(calendar, MemoCalendar):
        key = (day, days)
        due = calendar.after.get(key)
        if due is None:
            due = calendar.after[key] = _nth_working_day_after(calendar, day, days)
        day = due
    else:
        day = _nth_working_day_after(calendar, day, days)
    result = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
    return result.astimezone(start.tzinfo)


def _nth_working_day_after(calendar: WorkCalendar, day: dt.date, days: int) -> dt.date:
    counted = 0
    scanned = 0
    while counted < days:
        day += dt.timedelta(days=1)
        scanned += 1
        if scanned > _MAX_SCAN_DAYS:
            raise ValueError("no working day found within ten years: check the calendar overrides")
        if calendar.is_working_day(day):
            counted += 1
    return day


def add_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """Clock hours, holidays included: emergencies do not wait for Monday."""
    return _aware(start) + dt.timedelta(hours=hours)


def working_days_between(calendar: WorkCalendar, start: dt.datetime, end: dt.datetime) -> int:
    """Working days after start's local date up to and including end's local date (0 if end ≤ start)."""
    a = _aware(start).astimezone(LOCAL_TZ).date()
    b = _aware(end).astimezone(LOCAL_TZ).date()
    count = 0
    while a < b:
        a += dt.timedelta(days=1)
        if calendar.is_working_day(a):
            count += 1
    return count


def shift_due(before: WorkCalendar, after: WorkCalendar, due: dt.datetime, since: dt.date) -> dt.datetime:
    """A working-day deadline carried from one calendar to another, counted from `since` (the local day a
    calendar change took effect): the same number of working days after `since` under `after` as under
    `before`, at the same local time of day. The days up to `since` were already counted and stay as they
    were; a deadline on or before `since` is unchanged."""
    local = _aware(due).astimezone(LOCAL_TZ)
    if local.date() <= since:
        return due
    counted = 0
    day = since
    while day < local.date():
        day += dt.timedelta(days=1)
        if before.is_working_day(day):
            counted += 1
    if counted == 0:
        return due
    moved = _nth_working_day_after(after, since, counted)
    result = dt.datetime.combine(moved, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
    return result.astimezone(due.tzinfo)


def official_working_day(day: dt.date) -> bool:
    """The `holidays` package's answer alone (no local overrides)."""
    return WorkCalendar().is_working_day(day)
