"""The workforce measures against values computed by hand on a small fixed world (March 2026,
default county rules): late confirmation, late work, withdrawn and out-of-period items, deductions,
a manual entry and the monthly cap; nothing due and no workers show "—"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from gridgov.insights.measures import Period
from gridgov.insights.workforce_measures import figures
from gridgov.workforce import services
from tests.workforce.conftest import DAY, issue
from tests.world import T0

pytestmark = pytest.mark.django_db
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def march(world, rules):  # type: ignore[no-untyped-def]
    w = world
    a = issue(w, to_workers=[w.wang_fang], title="任务A").items.get()           # due 3-05: done 3-03, confirmed 3-10
    b = issue(w, to_workers=[w.qian_duo], title="任务B").items.get()            # due 3-05: done late 3-07
    issue(w, to_units=[w.grid_b1], title="任务C")                               # due 3-05: never done
    issue(w, to_workers=[w.wang_fang], title="任务D", due=dt.datetime(2026, 4, 5, tzinfo=dt.UTC))  # April
    e = issue(w, to_workers=[w.qian_duo], title="任务E")                        # withdrawn
    services.duty_list_withdraw(actor=w.zhang_wei, now=T0, list_id=e.pk, reason="重复下发的任务")
    services.duty_item_done(actor=w.wang_fang, now=T0 + DAY, item_id=a.pk, text="已核查完毕。")
    services.duty_sweep(now=T0 + 4 * DAY)                                  # B, C overdue; 钱多 −1
    services.duty_item_done(actor=w.qian_duo, now=T0 + 5 * DAY, item_id=b.pk, text="补做完成。")
    services.duty_item_confirm(actor=w.zhang_wei, now=T0 + 6 * DAY, item_id=b.pk)   # late: no points
    services.duty_item_confirm(actor=w.zhang_wei, now=T0 + 8 * DAY, item_id=a.pk)   # on time: 王芳 +3
    for i in range(31):                                                    # +2 each, capped at 60
        services.points_award_event(worker_id=w.wang_fang.pk, kind="visit", source_type="visit", source_id=str(i),
                                    at=T0 + dt.timedelta(hours=i), now=T0)
    services.points_adjust(actor=w.zhang_wei, now=T0 + 9 * DAY, worker_id=w.qian_duo.pk, points=-5,
                           reason="网格例会无故缺席")
    return w


def values(unit):  # type: ignore[no-untyped-def]
    return {v.measure.code: (v.text, v.parts) for v in figures(unit=unit, period=MARCH)}


def test_township_by_hand(march):
    # due in March: A (on time, confirmed late), B (done late), C (never) → 1/3; D is April, E withdrawn.
    # points: 王芳 3 + 60 = 63; 钱多 −1 −5 = −6; net 57 over 3 workers (王芳, 赵磊, 钱多) = 19.0
    assert values(march.township) == {
        "duty_completion_rate": ("33.3%", "1/3"),
        "points_net": ("57", "加 63 / 减 6"),
        "points_average": ("19.0", "57/3 人"),
    }


def test_grid_and_edges_by_hand(march):
    assert values(march.grid_b1) == {
        "duty_completion_rate": ("0.0%", "0/1"), "points_net": ("0", "加 0 / 减 0"), "points_average": ("—", "0/0 人")}
    assert values(march.grid_a2)["points_net"] == ("-6", "加 0 / 减 6")
    assert values(march.sibling_township)["duty_completion_rate"] == ("—", "0/0")
    april = {v.measure.code: v.text for v in figures(unit=march.township,
                                                     period=Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))}
    assert april["duty_completion_rate"] == "0.0%"  # D is due in April and not done


def test_dashboard_shows_them_with_definitions_to_assessors_only(march, login):
    url = reverse("staff:dashboard") + f"?unit={march.township.pk}&preset=custom&start=2026-03-01&end=2026-03-31"
    page = login(march.zhang_wei).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "责任清单按时完成率" in text and "33.3%" in text and "确认可晚于期限" in text
    worker = login(march.wang_fang).get(reverse("staff:dashboard"))
    assert worker.status_code == 200 and "责任清单按时完成率" not in worker.content.decode()
