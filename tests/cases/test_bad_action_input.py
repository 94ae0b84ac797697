"""Bad input to actions (the issue's list): a clear Chinese message, nothing changed: no case change,
no history row, no audit row, no outbox row."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case, CaseEvent
from gridgov.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from gridgov.notify.models import Outbox

pytestmark = pytest.mark.django_db


def _snapshot(case: Case) -> tuple[object, ...]:
    c = Case.dangerously_unscoped.get(pk=case.pk)
    return (
        c.version,
        c.status,
        c.resolve_due,
        c.holder_unit_id,
        c.holder_department_id,
        c.result,
        c.extension_days_requested,
        CaseEvent.dangerously_unscoped.filter(case=case).count(),
        AuditEvent.objects.count(),
        Outbox.objects.count(),
    )


CASES = [
    # (state, action, who, params, error, message fragment)
    ("acknowledged", "feedback", "liu_yang", {"result": "  "}, ValidationFailed, "请填写办理结果"),
    ("acknowledged", "feedback", "liu_yang", {}, ValidationFailed, "请填写办理结果"),
    (
        "acknowledged",
        "request_extension",
        "liu_yang",
        {"days": 11, "reason": "等材料"},
        ValidationFailed,
        "延时应在 1 到 10 个工作日之间",
    ),
    ("acknowledged", "request_extension", "liu_yang", {"days": 0, "reason": "等材料"}, ValidationFailed, "延时应在"),
    ("acknowledged", "request_extension", "liu_yang", {"days": 2}, ValidationFailed, "请填写延时理由"),
    ("dispatched", "return", "liu_yang", {"reason_code": "because", "note": "x"}, ValidationFailed, "请选择退回理由"),
    ("dispatched", "return", "liu_yang", {"reason_code": "overlap"}, ValidationFailed, "请填写退回说明和依据"),
    ("handling", "dispatch", "zhang_wei", {"department_id": 987654}, ValidationFailed, "承办部门不存在"),
    ("handling", "dispatch", "zhang_wei", {"department_id": 1, "resolve_days": 99}, ValidationFailed, ""),
    ("reported", "reject", "zhao_lei", {}, ValidationFailed, "请填写不予受理的理由"),
    ("handling", "escalate", "zhao_lei", {"to_unit_id": "county"}, ValidationFailed, "上报单位不正确"),
    ("resolved", "confirm", "zhang_wei", {"rating": 9}, ValidationFailed, "评价应为 1 到 5 分"),
    # Not allowed in this state, or not for this user.
    ("closed", "feedback", "liu_yang", {"result": "再办一次"}, DomainError, ""),
    ("reported", "dispatch", "zhang_wei", {"department_id": 1}, Conflict, "不能交办"),
    ("handling", "dispatch", "wang_fang", {"department_id": 1}, PermissionDenied, "不能对该事件执行「交办」"),
    ("dispatched", "acknowledge", "zhang_wei", {}, PermissionDenied, "不在本部门办理中"),
    ("acknowledged", "feedback", "zhao_lei", {"result": "已办"}, PermissionDenied, ""),
    ("acknowledged", "approve_extension", "zhang_wei", {}, ValidationFailed, "没有待审批的延时申请"),
    ("handling", "accept", "zhao_lei", {}, Conflict, "不能受理"),
    ("acknowledged", "feedback", "liu_yang", {"result": "已办", "unknown": 1}, ValidationFailed, "不接受这些参数"),
]


@pytest.mark.parametrize(
    ("state", "action", "who", "params", "error", "fragment"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)],
)
def test_refused_with_a_message_and_nothing_changed(kit, state, action, who, params, error, fragment):
    case = kit.to_state(state, reporter_phone="13800000000", channel="hotline")
    if "department_id" in params and params["department_id"] == 1:
        params = {**params, "department_id": kit.world.department.pk}
    before = _snapshot(case)
    with pytest.raises(error) as info:
        kit.act(case, action, getattr(kit.world, who), **params)
    assert fragment in info.value.message
    assert _snapshot(case) == before


def test_on_site_categories_need_a_check_in_near_the_place(kit):
    w = kit.world
    case = kit.to_state("acknowledged", category="hazard", lat=39.05, lng=113.05, unit_id=None)
    before = _snapshot(case)
    with pytest.raises(ValidationFailed, match="须到现场办理"):
        kit.act(case, "feedback", w.liu_yang, result="已排除隐患")
    with pytest.raises(ValidationFailed, match="须在 500 米以内"):
        kit.act(case, "feedback", w.liu_yang, result="已排除隐患", checkin_lat=39.10, checkin_lng=113.05)
    assert _snapshot(case) == before
    done = kit.act(case, "feedback", w.liu_yang, result="已排除隐患", checkin_lat=39.0501, checkin_lng=113.0501)
    assert done.status == "feedback"
