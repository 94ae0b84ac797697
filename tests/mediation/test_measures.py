"""The mediation measures against hand-computed values on a small fixed world (docs/measures.md).

March 2026 in 吴城乡 (local days 03-01 … 03-31); registered at 10:00 local:
  A 03-02 people        agreed 03-10                         → concluded, agreement, on time
  B 02-20 administrative extended +20 d (due 03-22 → 04-11), failed 03-25 → concluded, on time only by the extension
  C 03-05 judicial      terminated 03-06                     → concluded, on time, no agreement
  D 02-01 people        agreed 03-15 (due 03-03)             → concluded, agreement, late
  E 03-20 people        still open (due 04-19)               → open at the end, not overdue
  F 01-10 people        still open (due 02-09)               → open at the end, overdue
  G 03-03 people in 驼峰乡                                     → outside 吴城乡
Registered in March (吴城乡): A, C, E → people 2, administrative 0, judicial 1.
Concluded in March: A, B, C, D → agreements 2 (50.0 %), on time A, B, C (75.0 %).
February: registered B, D; nothing concluded → success and on-time rates "—".
"""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.insights.measures import Period
from gridgov.insights.mediation_measures import fmt, mediation_figures
from tests.mediation.conftest import act, register

pytestmark = pytest.mark.django_db


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 2, 0, tzinfo=dt.UTC)  # 10:00 China time


@pytest.fixture
def ledger(mworld):  # type: ignore[no-untyped-def]
    w = mworld
    a = register(w, now=at(3, 2))
    for action in ("start", "record_session"):
        a = act(w, a, action, now=at(3, 3))
    act(w, a, "agree", now=at(3, 10))
    b = register(w, now=at(2, 20), mode="administrative")
    b = act(w, b, "start", now=at(2, 21))
    b = act(w, b, "extend", now=at(3, 1), days=20)
    act(w, b, "fail", now=at(3, 25))
    c = register(w, now=at(3, 5), mode="judicial")
    act(w, c, "terminate", now=at(3, 6))
    d = register(w, now=at(2, 1))
    d = act(w, d, "start", now=at(2, 2))
    d = act(w, d, "record_session", now=at(2, 3), held_on="2026-02-03")
    act(w, d, "agree", now=at(3, 15))
    register(w, now=at(3, 20))
    register(w, now=at(1, 10))
    register(w, now=at(3, 3), unit_id=w.grid_c1.pk, presiding=w.ma.pk)
    return w


def test_march_in_the_township(ledger):
    f = mediation_figures(scope=_scope(ledger.zhang_wei), unit=ledger.township,
                          period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)), now=at(4, 10))
    assert f.registered == 3
    assert (f.by_mode.get("people", 0), f.by_mode.get("administrative", 0), f.by_mode.get("judicial", 0)) == (2, 0, 1)
    assert [r["share"] for r in f.rows()] == ["66.7%", "0.0%", "33.3%"]
    assert (f.concluded, f.agreed, f.on_time) == (4, 2, 3)
    assert (f.success_rate_text, f.on_time_rate_text) == ("50.0%", "75.0%")
    assert (f.open_at_end, f.overdue_at_end) == (2, 1)


def test_none_concluded_is_a_dash_not_zero(ledger):
    f = mediation_figures(scope=_scope(ledger.zhang_wei), unit=ledger.township,
                          period=Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)), now=at(4, 10))
    assert (f.registered, f.by_mode.get("administrative"), f.by_mode.get("people")) == (2, 1, 1)
    assert f.concluded == 0
    assert (f.success_rate_text, f.on_time_rate_text) == ("—", "—")
    assert fmt(None) == "—"
    # End of February: B and D were open; D (due 03-03) was not yet late, F (due 02-09) was.
    assert (f.open_at_end, f.overdue_at_end) == (3, 1)


def test_unit_and_scope(ledger):
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    county = mediation_figures(scope=_scope(ledger.chen_jing), unit=ledger.county, period=march, now=at(4, 10))
    assert county.registered == 4  # G of 驼峰乡 too
    village_b = mediation_figures(scope=_scope(ledger.zhang_wei), unit=ledger.village_b, period=march, now=at(4, 10))
    assert (village_b.registered, village_b.concluded, village_b.success_rate_text) == (0, 0, "—")
    # The same county seen by the township office of 吴城乡: only what it may see.
    seen = mediation_figures(scope=_scope(ledger.zhang_wei), unit=ledger.county, period=march, now=at(4, 10))
    assert seen.registered == 3


def _scope(user):  # type: ignore[no-untyped-def]
    from gridgov.access.scope import scope_for

    return scope_for(user)


def test_the_dashboard_shows_them_with_their_definitions(ledger, login):
    page = login(ledger.zhang_wei).get("/dashboard/", {"unit": ledger.township.pk, "start": "2026-03-01",
                                                       "end": "2026-03-31"})
    assert page.status_code == 200
    body = page.content.decode()
    section = body[body.index('id="mediation-measures"'):]
    assert "调解成功率" in section and "50.0%" in section and "2/4" in section
    assert "按期调结率" in section and "75.0%" in section and "3/4" in section
    assert "66.7%" in section and "延长后的期限" in section
    assert 'id="mediation-measures"' not in login(ledger.liu_yang).get("/dashboard/").content.decode()
