"""The mediation world: the small named world of tests/world.py plus two mediators (调解员):
徐秀英 at 吴城乡 (the township 调委会) and 马红 at the sibling township 驼峰乡 (another township's
mediator), and helpers that bring a mediation case into each state through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.access.models import User
from gridgov.access.services import grant_create, user_create
from gridgov.mediation import services
from gridgov.mediation.models import MediationCase
from gridgov.residents import idnumber
from tests.world import T0, World

ID_A = idnumber.make("140225", dt.date(1968, 5, 3), 215)
ID_B = idnumber.make("140225", dt.date(1972, 9, 14), 118)
PHONE_A = "13812345678"
PHONE_B = "13998765432"


def add_mediator(world: World, username: str, name: str, unit: Any) -> User:
    user = user_create(actor=None, now=T0, username=username, full_name=name, password=None)
    grant_create(actor=None, now=T0, user=user, role_code="mediator", unit=unit)
    return user


@pytest.fixture
def mworld(world: World) -> World:
    world.xu = add_mediator(world, "xuxiuying", "徐秀英", world.township)  # type: ignore[attr-defined]
    world.ma = add_mediator(world, "mahong", "马红", world.sibling_township)  # type: ignore[attr-defined]
    return world


def parties() -> list[dict[str, str]]:
    return [
        {"role": "applicant", "name": "张建国", "phone": PHONE_A, "id_number": ID_A},
        {"role": "respondent", "name": "李卫东", "phone": PHONE_B, "id_number": ID_B},
    ]


def register(w: World, *, actor: Any = None, now: dt.datetime = T0, level: str = "township",
             presiding: Any = "default", **kw: Any) -> MediationCase:
    args: dict[str, Any] = {
        "title": "宅基地边界纠纷", "summary": "两户因宅基地边界的院墙位置发生争执。", "dispute_type": "land",
        "source": "grid", "mode": "people", "level": level, "unit_id": w.grid_a1.pk, "parties": parties(),
    }
    args.update(kw)
    if presiding == "default":
        presiding = w.xu.pk  # type: ignore[attr-defined]
    return services.mediation_register(actor=actor, now=now, presiding_id=presiding, **args)


VALID: dict[str, dict[str, Any]] = {
    "assign": {"co_mediators": "王大爷（五老）"},
    "start": {"rights_informed": True, "facts": "已走访双方，核实院墙位置。"},
    "record_session": {"held_on": "2026-03-03", "place": "吴城村调解室", "attendees": "双方当事人、村调委会",
                       "notes": "双方陈述意见，同意以原界桩为准。"},
    "extend": {"days": 10, "reason": "双方同意延期，待土地所复测。"},
    "agree": {"terms": "一、院墙以原界桩为准；二、李卫东于三月底前拆除越界部分。", "signed": True},
    "fail": {"channel": "litigation", "note": "双方分歧较大。"},
    "terminate": {"reason": "申请人撤回申请。"},
    "follow_up": {"fulfilment": "full", "note": "已拆除。"},
    "close": {"note": "协议已履行完毕。"},
}


def act(w: World, m: MediationCase, action: str, *, actor: Any = None, now: dt.datetime | None = None,
        **params: Any) -> MediationCase:
    p = dict(VALID[action])
    if action == "assign":
        p["presiding_id"] = w.xu.pk  # type: ignore[attr-defined]
    p.update(params)
    return services.mediation_act(actor=actor, now=now or T0 + dt.timedelta(days=2), mediation_id=m.pk,
                                  action=action, **p)


# How to bring a fresh case into each state (the list of actions after registering).
PATHS: dict[str, list[str]] = {
    "accepted": [],
    "mediating": ["start", "record_session"],
    "agreed": ["start", "record_session", "agree"],
    "failed": ["start", "fail"],
    "terminated": ["terminate"],
    "following_up": ["start", "record_session", "agree", "follow_up"],
    "closed": ["start", "fail", "close"],
}


def in_state(w: World, state: str, **kw: Any) -> MediationCase:
    m = register(w, **kw)
    for action in PATHS[state]:
        m = act(w, m, action)
    assert m.status == state
    return m
