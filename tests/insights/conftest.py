"""A small fixed world of cases in April 2026, built through the case services, whose measures are
computed by hand in test_measures.py.

April 2026 has the 清明 holiday: Sun 5 and Mon 6 April are days off. Times are China Standard Time.

| case | grid | category   | story                                                                                 |
|------|------|------------|---------------------------------------------------------------------------------------|
| c7   | A2   | sanitation | Mar 25 reported, self-handled Mar 26, rated 5 Mar 27 (the previous period)             |
| c1   | A1   | sanitation | Apr 1 09:00 reported, self-handled 12:00, rated 5 Apr 2                               |
| c2   | A1   | sanitation | Apr 1 09:30; dispatched Fri Apr 3 10:00, signed for Mon Apr 6 15:00 (a holiday, so in |
|      |      |            | time: due Tue Apr 7 10:00); feedback, reviewed Apr 8 11:00; rated 4 Apr 9             |
| c3   | A2   | sanitation | Apr 2 09:00; dispatched 11:00, returned; re-dispatched Apr 3 09:00, returned again;   |
|      |      |            | adjudicated 11:00, signed for Apr 7 12:00 (late); 3 working days' extension approved; |
|      |      |            | reviewed Apr 17 11:00 (after the first deadline Apr 15, before the extended Apr 20);  |
|      |      |            | closed by the office Apr 20 without a rating                                          |
| c4   | B1   | sanitation | Apr 10 hotline; dispatched 10:00, signed for 11:00; still open, due Apr 21 (overdue)   |
| c6   | A1   | dispute    | Apr 21 reported, never acted on (due Apr 30: overdue)                                  |
| c5   | A1   | sanitation | Apr 20 reported, self-handled Apr 30 10:00 (late: due Apr 29 09:00), rated 2           |
| c8   | A2   | sanitation | Apr 15 reported, rejected                                                             |
| c9   | C1   | sanitation | Apr 8 in the sibling township: closed, rated 1 (never in 吴城乡's figures)             |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.cases.transitions import case_act
from gridgov.core.clock import LOCAL_TZ
from tests.world import World


def L(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


NOW = L(5, 6, 12)  # when the figures are read


@dataclass
class April:
    world: World
    cases: dict[str, Case]


def _report(actor: Any, when: dt.datetime, unit: Any, category: str = "sanitation", **kw: Any) -> Case:
    data: dict[str, Any] = {"title": "村口垃圾堆放", "description": "路边有生活垃圾。", "category_code": category,
                            "channel": "field", "unit_id": unit.pk,
                            "lat": None, "lng": None}
    data.update(kw)
    return case_report(actor=actor, now=when, **data).case


def _act(case: Case, action: str, actor: Any, when: dt.datetime, **params: Any) -> Case:
    return case_act(actor=actor, now=when, case_id=case.pk, action=action, **params)


def build_april(w: World) -> April:
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    c: dict[str, Case] = {}

    c["c7"] = _report(w.qian_duo, L(3, 25, 9), w.grid_a2, lat=39.05, lng=113.15)
    _act(c["c7"], "self_handle", w.qian_duo, L(3, 26, 9), result="已清运")
    _act(c["c7"], "confirm", w.qian_duo, L(3, 27, 9), rating=5)

    c["c1"] = _report(w.wang_fang, L(4, 1, 9), w.grid_a1, lat=39.05, lng=113.05)
    _act(c["c1"], "accept", w.zhao_lei, L(4, 1, 10))
    _act(c["c1"], "self_handle", w.zhao_lei, L(4, 1, 12), result="已组织清运")
    _act(c["c1"], "confirm", w.wang_fang, L(4, 2, 9), rating=5)

    c["c2"] = _report(w.wang_fang, L(4, 1, 9, 30), w.grid_a1, title="路灯不亮", lat=39.02, lng=113.02)
    _act(c["c2"], "accept", w.zhao_lei, L(4, 1, 10))
    _act(c["c2"], "dispatch", w.zhang_wei, L(4, 3, 10), department_id=w.department.pk)
    _act(c["c2"], "acknowledge", w.liu_yang, L(4, 6, 15))
    _act(c["c2"], "feedback", w.liu_yang, L(4, 8, 10), result="已维修")
    _act(c["c2"], "review", w.zhang_wei, L(4, 8, 11))
    _act(c["c2"], "confirm", w.wang_fang, L(4, 9, 9), rating=4)

    c["c3"] = _report(w.qian_duo, L(4, 2, 9), w.grid_a2, title="垃圾站满溢", lat=39.06, lng=113.16)
    _act(c["c3"], "accept", w.zhang_wei, L(4, 2, 10))
    _act(c["c3"], "dispatch", w.zhang_wei, L(4, 2, 11), department_id=w.department.pk)
    _act(c["c3"], "return", w.liu_yang, L(4, 2, 16), reason_code="overlap", note="应由环卫站处理")
    _act(c["c3"], "redispatch", w.zhang_wei, L(4, 3, 9), department_id=w.department.pk)
    _act(c["c3"], "return", w.liu_yang, L(4, 3, 10), reason_code="unclear_ownership", note="权属不清")
    _act(c["c3"], "adjudicate", w.zhang_wei, L(4, 3, 11), note="维持交办")
    _act(c["c3"], "acknowledge", w.liu_yang, L(4, 7, 12))
    _act(c["c3"], "request_extension", w.liu_yang, L(4, 8, 9), days=3, reason="需协调车辆")
    _act(c["c3"], "approve_extension", w.zhang_wei, L(4, 8, 10))
    _act(c["c3"], "feedback", w.liu_yang, L(4, 17, 10), result="已清运并加装垃圾箱")
    _act(c["c3"], "review", w.zhang_wei, L(4, 17, 11))
    _act(c["c3"], "close", w.zhang_wei, L(4, 20, 9))

    c["c4"] = _report(w.zhang_wei, L(4, 10, 9), w.grid_b1, channel="hotline", title="12345：污水外溢",
                      reporter_name="居民甲", reporter_phone="13800000000", lat=39.25, lng=113.25)
    _act(c["c4"], "accept", w.zhang_wei, L(4, 10, 9, 30))
    _act(c["c4"], "dispatch", w.zhang_wei, L(4, 10, 10), department_id=w.department.pk)
    _act(c["c4"], "acknowledge", w.liu_yang, L(4, 10, 11))

    c["c8"] = _report(w.qian_duo, L(4, 15, 9), w.grid_a2, title="垃圾又堆起来了")
    _act(c["c8"], "reject", w.zhang_wei, L(4, 15, 10), reason="已在办理")

    c["c5"] = _report(w.wang_fang, L(4, 20, 9), w.grid_a1, title="垃圾再次堆放")
    _act(c["c5"], "self_handle", w.zhao_lei, L(4, 30, 10), result="已清运")
    _act(c["c5"], "confirm", w.wang_fang, L(4, 30, 12), rating=2)

    c["c6"] = _report(w.wang_fang, L(4, 21, 9), w.grid_a1, category="dispute_neighbour", title="邻里争吵",
                      lat=39.03, lng=113.03)

    c["c9"] = _report(w.sun_li, L(4, 8, 9), w.grid_c1, title="驼峰村垃圾")
    _act(c["c9"], "self_handle", w.sun_li, L(4, 8, 10), result="已清运")
    _act(c["c9"], "confirm", w.sun_li, L(4, 8, 12), rating=1)
    for key, case in c.items():
        c[key] = Case.dangerously_unscoped.get(pk=case.pk)
    return April(world=w, cases=c)


@pytest.fixture
def april(world: World) -> April:
    return build_april(world)
