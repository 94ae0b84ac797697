from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gridgov.core.workdays import add_hours, add_working_days, calendar_with, working_days_between

CST = ZoneInfo("Asia/Shanghai")
CAL = calendar_with()


def at(y, m, d, h=10):  # type: ignore[no-untyped-def]
    return dt.datetime(y, m, d, h, tzinfo=CST)


def test_official_holidays_and_make_up_workdays():
    assert not CAL.is_working_day(dt.date(2026, 2, 17))  # Spring Festival
    assert CAL.is_working_day(dt.date(2026, 2, 14))  # Saturday make-up workday (调休)
    assert CAL.is_working_day(dt.date(2026, 9, 20))  # Sunday make-up workday
    assert not CAL.is_working_day(dt.date(2026, 10, 7))
    assert not CAL.is_working_day(dt.date(2026, 3, 7))  # an ordinary Saturday


def test_add_working_days_skips_holidays_and_counts_make_up_days():
    assert add_working_days(CAL, at(2026, 9, 30), 1) == at(2026, 10, 8)
    assert add_working_days(CAL, at(2026, 9, 18), 1) == at(2026, 9, 20)  # Sunday 调休
    assert add_working_days(CAL, at(2026, 3, 6), 1) == at(2026, 3, 9)  # Friday → Monday
    assert add_working_days(CAL, at(2026, 3, 6), 0) == at(2026, 3, 6)


def test_result_keeps_the_callers_timezone():
    start = dt.datetime(2026, 3, 6, 2, tzinfo=dt.UTC)  # 10:00 in China
    assert add_working_days(CAL, start, 1) == dt.datetime(2026, 3, 9, 2, tzinfo=dt.UTC)


def test_overrides_win_over_the_library():
    cal = calendar_with([(dt.date(2026, 3, 9), False), (dt.date(2026, 3, 7), True)])
    assert add_working_days(cal, at(2026, 3, 6), 2) == at(2026, 3, 10)


def test_clock_hours_ignore_the_calendar():
    assert add_hours(at(2026, 10, 1, 20), 24) == at(2026, 10, 2, 20)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        add_working_days(CAL, dt.datetime(2026, 3, 6, 10), 1)


def test_working_days_between():
    assert working_days_between(CAL, at(2026, 9, 30), at(2026, 10, 9)) == 2
