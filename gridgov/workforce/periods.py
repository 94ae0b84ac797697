"""Months and periods in local (China Standard Time) days: a point earned at 23:30 CST on the 31st
belongs to that month, whatever UTC says."""

from __future__ import annotations

import datetime as dt

from gridgov.core.clock import LOCAL_TZ, local


def month_of(at: dt.datetime) -> dt.date:
    d = local(at).date()
    return d.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the local month as aware datetimes."""
    start = dt.datetime.combine(month.replace(day=1), dt.time(), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=LOCAL_TZ)
    return start, end


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of `first`, start of the day after `last`) in local time."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    return start, end


def end_of_day(day: dt.date) -> dt.datetime:
    """A due date given as a day means the end of that local day."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=LOCAL_TZ)


def parse_month(text: str | None, *, default: dt.date) -> dt.date:
    """"2026-03" → 2026-03-01; anything else → the default."""
    try:
        year, mon = (int(x) for x in (text or "").split("-")[:2])
        return dt.date(year, mon, 1)
    except (ValueError, TypeError):
        return default
