"""Deliberation counts against values computed by hand on a small fixed world (docs/measures.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.scope import scope_for
from gridgov.deliberation import services
from gridgov.deliberation.states import Stage
from gridgov.insights.deliberation_measures import DELIBERATION_MEASURES, deliberation_figures
from gridgov.insights.measures import Period

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
JANUARY = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def _values(fig) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.code: v for m, v in fig.values}


@pytest.fixture
def small_world(kit):  # type: ignore[no-untyped-def]
    """吴城村: P1 closed (passed 4:1 of 5 attending, implemented, one 满意), P2 rejected (1:4), P4 only
    raised, one talk day. 东坊村: P3 with a meeting where 2 of 7 attended (no quorum). Each consulted
    proposal has one note of 3 opinions, 2 adopted. Plus two proposals on either side of the end of
    March (local time)."""
    w = kit.world
    kit.to_stage(Stage.CLOSED)  # P1
    kit.to_stage(Stage.REJECTED)  # P2
    p3 = kit.raise_(unit_id=w.village_b.pk, actor=w.zhang_wei, title="东坊水井")
    for action in ("start_consult", "consult_note", "publish", "open_vote"):
        p3 = kit.act(p3, action, actor=w.zhang_wei)
    kit.vote_all(p3, "yy", actor=w.zhang_wei)
    p3 = kit.act(p3, "close_vote", actor=w.zhang_wei)
    assert p3.result == "no_quorum"
    kit.raise_(title="P4")
    services.talk_day_create(actor=w.li_qiang, now=kit.now, unit_id=w.village.pk, held_on="2026-03-06")
    # 23:59 on 31 March in Beijing is March; 00:00 on 1 April is not.
    services.proposal_raise(actor=w.li_qiang, now=dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC),
                            unit_id=w.village.pk, title="月末", description="月末登记", category="other",
                            source="staff")
    services.proposal_raise(actor=w.li_qiang, now=dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC),
                            unit_id=w.village.pk, title="月初", description="月初登记", category="other",
                            source="staff")
    return w


def test_township_counts_by_hand(small_world):
    w = small_world
    fig = deliberation_figures(scope=scope_for(w.zhang_wei), unit=w.township, period=MARCH)
    assert _values(fig) == {
        "raised": "5",  # P1 P2 P3 P4 and 月末; 月初 is April
        "decided": "2",  # P1 passed, P2 rejected; P3's meeting had no quorum
        "passed": "1",
        "pass_rate": "50.0%",
        "no_quorum": "1",
        "implemented": "1",
        "opinions": "9",  # 3 notes × 3
        "adopted": "6",
        "adoption_rate": "66.7%",
        "talk_days": "1",
        "evaluation_satisfaction": "100.0%",
    }
    rows = {r.unit.name: dict(zip([m.code for m in DELIBERATION_MEASURES], r.values, strict=True)) for r in fig.rows}
    assert rows["吴城村"]["raised"] == "4" and rows["吴城村"]["decided"] == "2"
    assert rows["东坊村"] == {"raised": "1", "decided": "0", "passed": "0", "pass_rate": "—", "no_quorum": "1",
                           "implemented": "0", "opinions": "3", "adopted": "2", "adoption_rate": "66.7%",
                           "talk_days": "0", "evaluation_satisfaction": "—"}


def test_an_empty_period_shows_zero_counts_and_dashes(small_world):
    fig = deliberation_figures(scope=scope_for(small_world.zhang_wei), unit=small_world.township, period=JANUARY)
    values = _values(fig)
    assert fig.empty
    assert {values[c] for c in ("pass_rate", "adoption_rate", "evaluation_satisfaction")} == {"—"}
    assert {values[c] for c in ("raised", "decided", "passed", "implemented", "talk_days")} == {"0"}


def test_counts_follow_the_scope(small_world):
    w = small_world
    assert deliberation_figures(scope=scope_for(w.liu_yang), unit=w.township, period=MARCH) is None
    outsider = deliberation_figures(scope=scope_for(w.sun_li), unit=w.sibling_township, period=MARCH)
    assert outsider is not None and outsider.empty
    village = deliberation_figures(scope=scope_for(w.li_qiang), unit=w.village, period=MARCH)
    assert _values(village)["raised"] == "4" and _values(village)["no_quorum"] == "0"


def test_the_dashboard_shows_them_with_their_definitions(small_world, login):
    w = small_world
    page = login(w.zhang_wei).get(f"/dashboard/?unit={w.township.pk}&start=2026-03-01&end=2026-03-31")
    assert page.status_code == 200
    html = page.content.decode()
    assert "群众议事" in html and 'id="d-raised"' in html
    for m in DELIBERATION_MEASURES:
        assert m.label in html and m.definition in html
    assert page.context["deliberation"].total.raised == 5
    # A department handler sees no deliberation section.
    assert "d-raised" not in login(w.liu_yang).get("/dashboard/").content.decode()
