"""Each measure against values computed by hand from the fixed April world (see conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.scope import scope_for
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.insights import measures as m
from gridgov.insights.board import board

from .conftest import NOW, L

pytestmark = pytest.mark.django_db

APRIL = m.Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))


def values(april, user, unit, period=APRIL, category=None):
    scope = scope_for(user)
    by = m.tallies_by_place(scope=scope, unit=unit, period=period, now=NOW, category=category)
    t = m.rollup(by, unit.path)
    return t, {v.measure.code: v for v in m.evaluate(t)}


def test_township_measures_by_hand(april):
    w = april.world
    t, v = values(april, w.zhang_wei, w.township)
    # Dispatches: c2 once, c3 three times (dispatch, re-dispatch, adjudicate), c4 once.
    # Signed for in time: c2 (the 清明 holiday moved its deadline to Tue Apr 7) and c4.
    assert (t.dispatched, t.responded) == (5, 2)
    assert v["response_rate"].text == "40.0%" and v["response_rate"].parts == "2/5"
    # Closed in April: c1, c2, c3, c5. Judged resolved (rated ≥ 3): c1, c2. c3 closed unrated.
    assert (t.closed, t.resolved) == (4, 2)
    assert v["resolution_rate"].text == "50.0%"
    # Rated: c1 (5), c2 (4), c5 (2); satisfied: c1, c2.
    assert (t.rated, t.satisfied) == (3, 2)
    assert v["satisfaction_rate"].text == "66.7%"
    # On time: c1, c2, c3 (within its approved extension); c5 late.
    assert t.on_time == 3 and v["on_time_rate"].text == "75.0%"
    # Open now: c4 (due Apr 21) and c6 (due Apr 30): both overdue on May 6.
    assert (t.open_now, t.overdue_open) == (2, 2) and v["overdue_open"].text == "2"
    # Returns: c3 twice → rate 2/5, and one ping-pong case.
    assert (t.returned, t.pingpong) == (2, 1)
    assert v["return_rate"].text == "40.0%" and v["pingpong"].text == "1"
    # Reported in April: c1 c2 c3 c4 c5 c6 c8. Repeats: c2 (c1, 30 min before), c3 (c7 on Mar 25),
    # c5 (c1/c2 on Apr 1), c8 (c3 on Apr 2). c6 is another category, c4 the only case in B1.
    assert (t.reported, t.repeats) == (7, 4)
    assert v["repeat_rate"].text == "57.1%"
    # Handling hours: c1 3, c2 169.5 (Apr 1 09:30 → Apr 8 11:00), c3 362, c5 241 → 775.5 / 4.
    assert t.handled == 4
    assert v["handling_time"].value == pytest.approx(193.875)
    assert v["handling_time"].text == "193.9 小时"


def test_the_sibling_township_is_never_counted(april):
    w = april.world
    t, v = values(april, w.chen_jing, w.county)
    # The county adds c9 (closed, rated 1) and nothing else.
    assert (t.closed, t.rated, t.satisfied, t.resolved, t.reported) == (5, 4, 2, 2, 8)
    t, v = values(april, w.sun_li, w.sibling_township)
    assert (t.closed, t.rated, t.satisfied, t.dispatched) == (1, 1, 0, 0)
    assert v["satisfaction_rate"].text == "0.0%"
    assert v["response_rate"].text == m.DASH


def test_grid_figures(april):
    w = april.world
    t, v = values(april, w.wang_fang, w.grid_a1)
    # A1: c1, c2, c5 closed; c6 open and overdue; dispatches only c2.
    assert (t.closed, t.on_time, t.dispatched, t.responded, t.open_now, t.overdue_open) == (3, 2, 1, 1, 1, 1)
    assert v["on_time_rate"].text == "66.7%"
    t, v = values(april, w.qian_duo, w.grid_a2)
    assert (t.closed, t.returned, t.pingpong, t.reported, t.repeats) == (1, 2, 1, 2, 2)


def test_category_filter_takes_the_category_and_its_children(april):
    w = april.world
    from gridgov.cases.models import Category

    t, _ = values(april, w.zhang_wei, w.township, category=Category.objects.get(code="sanitation"))
    assert (t.reported, t.open_now) == (6, 1)
    t, _ = values(april, w.zhang_wei, w.township, category=Category.objects.get(code="dispute"))
    assert (t.reported, t.open_now, t.overdue_open, t.closed) == (1, 1, 1, 0)


def test_empty_period_shows_dashes_not_errors(april):
    w = april.world
    _t, v = values(april, w.zhang_wei, w.township, period=m.Period(dt.date(2026, 1, 5), dt.date(2026, 1, 11)))
    for code in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "return_rate",
                 "repeat_rate", "handling_time"):
        assert v[code].value is None and v[code].text == "—", code
    assert v["overdue_open"].text == "2"  # a count as of now, not of the period
    assert v["pingpong"].text == "0"


def test_trend_against_the_previous_period(april):
    w = april.world
    b = board(scope=scope_for(w.zhang_wei), unit=w.township, period=APRIL, now=NOW)
    assert b.previous == m.Period(dt.date(2026, 3, 2), dt.date(2026, 3, 31))
    sat = next(v for v in b.values if v.measure.code == "satisfaction_rate")
    # March: c7 rated 5 (100%); April 66.7%: down 33.3 points, for the worse.
    assert sat.previous == 1.0 and sat.trend == "down" and sat.good is False
    assert sat.trend_text == "↓33.3 个百分点"
    resp = next(v for v in b.values if v.measure.code == "response_rate")
    assert resp.previous is None and resp.trend == ""
    # Rankings of the villages, on-time rate best first; the circular lists units below floors.
    assert [r.unit.name for r in b.ranking] == ["吴城村", "东坊村"]  # no data ranks last
    assert [r.value("on_time_rate").text for r in b.ranking] == ["75.0%", "—"]
    circular = {r.unit.name: [v.measure.code for v in low] for r, low in b.circular}
    assert circular == {"吴城村": ["response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate"]}
    assert [c.number for c in b.worst_overdue] == [april.cases["c4"].number, april.cases["c6"].number]
    assert dict(b.by_category) == {"环境卫生": 6, "矛盾纠纷": 1}
    assert dict(b.by_channel) == {"网格员巡查": 6, "12345热线": 1}
    days = {d: (r, c) for d, r, c in b.by_day}
    assert days["04-01"] == (2, 0) and days["04-02"] == (1, 1) and days["04-30"] == (0, 1)
    assert sum(r for r, _ in days.values()) == 7 and sum(c for _, c in days.values()) == 4


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-04-30", "2026-04-01", "开始日期不能晚于结束日期"),
        ("2026-06-01", "2026-06-30", "开始日期在未来"),
        ("2026-04-01", "2026-05-20", "结束日期不能晚于今天"),
        ("2024-01-01", "2026-05-01", "时间跨度不能超过 366 天"),
        ("2026-4-1x", "2026-04-30", "开始日期格式不正确"),
        ("2026-04-01", "", "请同时填写开始日期和结束日期"),
    ],
)
def test_bad_periods_get_clear_messages(start, end, message):
    with pytest.raises(ValidationFailed) as exc:
        m.period_from(start, end, now=NOW)
    assert message in exc.value.message


def test_presets_and_a_full_year_is_allowed():
    assert m.period_from(now=NOW) == m.Period(dt.date(2026, 5, 1), dt.date(2026, 5, 6))
    assert m.period_from(now=NOW, preset="last_month") == APRIL
    assert m.period_from(now=NOW, preset="last_week") == m.Period(dt.date(2026, 4, 27), dt.date(2026, 5, 3))
    assert m.period_from("2025-05-06", "2026-05-06", now=NOW).days == 366


def test_units_out_of_scope_are_not_found(april):
    w = april.world
    with pytest.raises(NotFound):
        m.measure_unit(scope=scope_for(w.sun_li), unit_id=w.township.pk)
    with pytest.raises(NotFound):
        m.measure_unit(scope=scope_for(w.wang_fang), unit_id=w.grid_a2.pk)
    with pytest.raises(NotFound):
        m.measure_unit(scope=scope_for(w.liu_yang), unit_id=w.township.pk)  # departments read no figures
    assert m.home_unit(scope_for(w.wang_fang)) == w.grid_a1
    assert m.home_unit(scope_for(w.zhang_wei)) == w.township


def test_response_deadline_holiday_matters(april):
    """Without the 清明 holiday c2's sign-for (Mon Apr 6 15:00) would be late: the deadline moved."""
    from gridgov.cases import deadlines

    c2 = april.cases["c2"]
    due = deadlines.stage_deadlines(deadlines.work_calendar(), c2.category, c2.urgency, L(4, 3, 10)).respond_due
    assert due == L(4, 7, 10)


def test_overdue_is_a_snapshot_without_trend(april):
    w = april.world
    b = board(scope=scope_for(w.zhang_wei), unit=w.township, period=APRIL, now=NOW)
    overdue = next(v for v in b.values if v.measure.code == "overdue_open")
    assert overdue.text == "2" and overdue.trend == "" and overdue.trend_text == ""
