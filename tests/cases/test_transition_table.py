"""Every (state, action) pair of the table: allowed pairs move the case to the table's target and
write one history row; forbidden pairs are refused with a Conflict and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.states import ACTIONS, STATUSES, Status, Who, target_of
from gridgov.cases.transitions import HANDLERS, case_act
from gridgov.core.errors import Conflict, NotFound

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def params_for(action: str, kit: Any, other: Case) -> dict[str, Any]:
    w = kit.world
    return {
        "reject": {"reason": "不属于受理范围"},
        "merge": {"target_case_id": other.pk},
        "self_handle": {"result": "已现场清理"},
        "dispatch": {"department_id": w.department.pk},
        "redispatch": {"department_id": w.department.pk},
        "return": {"reason_code": "wrong_place", "note": "事发地不在本所辖区"},
        "adjudicate": {"note": "经审定由派出所办理"},
        "request_extension": {"days": 3, "reason": "需协调多个部门"},
        "feedback": {"result": "已处理完毕"},
        "redo": {"reason": "现场仍有垃圾"},
        "confirm": {"rating": 4},
        "reopen": {"reason": "问题没有解决"},
        "cancel": {"reason": "反映人撤回"},
    }.get(action, {})


def test_every_action_has_a_handler_and_every_target_is_a_status():
    assert set(HANDLERS) == set(ACTIONS)
    for spec in ACTIONS.values():
        assert spec.sources <= set(Status)
        assert spec.target is None or spec.target in Status
    assert set(STATUSES) == {s.value for s in Status}


@pytest.mark.parametrize("state", [s.value for s in Status])
def test_every_state_action_pair(kit, state):
    w = kit.world
    case = kit.to_state(state)
    other = kit.report(title="另一处垃圾")
    problems: list[str] = []
    for code, spec in ACTIONS.items():
        actor = w.liu_yang if spec.who == Who.DEPARTMENT else w.chen_jing
        try:
            with transaction.atomic():
                if code in ("approve_extension", "deny_extension") and state == Status.ACKNOWLEDGED:
                    kit.act(case, "request_extension", w.liu_yang, days=2, reason="等材料")
                before = Case.dangerously_unscoped.get(pk=case.pk)
                events_before = CaseEvent.dangerously_unscoped.filter(case=case).count()
                params = params_for(code, kit, other)
                if code == "deny_extension":
                    params = {"reason": "时限足够"}
                if spec.allowed_from(state):
                    after = case_act(actor=actor, now=kit.tick(), case_id=case.pk, action=code, **params)
                    if after.status != target_of(spec, state):
                        problems.append(f"{state}/{code}: went to {after.status}")
                    if CaseEvent.dangerously_unscoped.filter(case=case).count() != events_before + 1:
                        problems.append(f"{state}/{code}: no history row")
                    if after.version != before.version + 1:
                        problems.append(f"{state}/{code}: version not bumped")
                else:
                    try:
                        case_act(actor=actor, now=kit.tick(), case_id=case.pk, action=code, **params)
                        problems.append(f"{state}/{code}: forbidden pair was allowed")
                    except Conflict as exc:
                        assert "不能" in exc.message
                    except NotFound:
                        # A department never sees a case that was not dispatched to it.
                        assert spec.who == Who.DEPARTMENT
                        assert not CaseEvent.dangerously_unscoped.filter(case=case, to_department=w.department).exists()
                    now_case = Case.dangerously_unscoped.get(pk=case.pk)
                    if (now_case.version, now_case.status) != (before.version, before.status):
                        problems.append(f"{state}/{code}: forbidden pair changed the case")
                    if CaseEvent.dangerously_unscoped.filter(case=case).count() != events_before:
                        problems.append(f"{state}/{code}: forbidden pair wrote history")
                raise _Rollback
        except _Rollback:
            pass
    assert problems == []


def test_forbidden_pair_count_is_what_the_table_says(kit):
    allowed = sum(len(a.sources) for a in ACTIONS.values())
    assert 0 < allowed < len(ACTIONS) * len(Status)
