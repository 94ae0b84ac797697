"""The mediation workflow as data: statuses, and one transition table.

The six steps of seed 002 (受理纠纷 → 指定调解主持人 → 了解核实情况 → 告知权利义务 → 依法调解 →
签订调解协议) and the return visits of seed 001 (履行回访) map onto it: registering is 受理;
`assign` names the presiding mediator; `start` records that the parties were told their rights and
duties; `record_session` is each 调解记录; `agree` is the signed written agreement; `follow_up` is a
return visit on fulfilment; `close` files the case (结案).

Every state change goes through `services.mediation_act` (the workflow engine, core/workflow.py),
which looks the action up here and writes the history row and the audit row in the same transaction.
docs/workflows/mediation.md is generated from this module (`manage.py workflow_docs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from gridgov.access.roles import P
from gridgov.core.errors import ValidationFailed
from gridgov.core.workflow import Action as WorkflowAction
from gridgov.core.workflow import StatusSpec, StatusType, Step


class Status(models.TextChoices):
    ACCEPTED = "accepted", "已受理"
    MEDIATING = "mediating", "调解中"
    AGREED = "agreed", "达成协议"
    FAILED = "failed", "调解不成"
    TERMINATED = "terminated", "终止调解"
    FOLLOWING_UP = "following_up", "履行回访"
    CLOSED = "closed", "已结案"


# Still being mediated: the 30-day clock runs.
OPEN = frozenset({Status.ACCEPTED, Status.MEDIATING})
# The mediation has an outcome (agreement, failure or termination); `concluded_at` is set.
CONCLUDED = frozenset({Status.AGREED, Status.FAILED, Status.TERMINATED, Status.FOLLOWING_UP, Status.CLOSED})


# Each status and its status type (core/workflow.py), for the diagram and shared counts.
STATUS_TYPES: dict[str, StatusType] = {
    Status.ACCEPTED: StatusType.OPEN, Status.MEDIATING: StatusType.IN_PROGRESS, Status.AGREED: StatusType.DONE,
    Status.FAILED: StatusType.DONE, Status.TERMINATED: StatusType.REJECTED,
    Status.FOLLOWING_UP: StatusType.IN_PROGRESS, Status.CLOSED: StatusType.DONE,
}
STATUS_SPECS = tuple(StatusSpec(s.value, s.label, STATUS_TYPES[s]) for s in Status)


@dataclass(frozen=True)
class Action(WorkflowAction):
    danger: bool = False


def _not_extended(step: Step[Any]) -> None:
    if step.obj.extended_days:
        raise ValidationFailed("调解期限只能延长一次。", field="action")


def _has_presiding(step: Step[Any]) -> None:
    if step.obj.presiding_id is None:
        raise ValidationFailed("请先指定调解主持人。", field="action")


def _a(code: str, label: str, sources: frozenset[Status], target: Status | None, perm: str, **kw: Any) -> Action:
    return Action(code, label, sources, frozenset({target}) if target is not None else frozenset(), perm, **kw)


ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        _a("assign", "指定主持人", OPEN, None, P.MEDIATION_HANDLE,
           hint="指定调解主持人，可写明其他参与调解的人员（如“五老”、金牌调解员）"),
        _a("start", "开始调解", frozenset({Status.ACCEPTED}), Status.MEDIATING, P.MEDIATION_HANDLE,
           hint="已了解核实情况，并告知当事人享有的权利和承担的义务", guards=(_has_presiding,)),
        _a("record_session", "填写调解记录", frozenset({Status.MEDIATING}), None, P.MEDIATION_HANDLE,
           hint="每次调解的时间、地点、参加人员和经过"),
        _a("extend", "延长期限", frozenset({Status.MEDIATING}), None, P.MEDIATION_HANDLE,
           hint="经当事人同意可延长一次，最多 30 天，须说明理由", guards=(_not_extended,)),
        _a("agree", "达成协议", frozenset({Status.MEDIATING}), Status.AGREED, P.MEDIATION_HANDLE,
           hint="填写协议内容；当事人已在书面调解协议书上签名"),
        _a("fail", "调解不成", frozenset({Status.MEDIATING}), Status.FAILED, P.MEDIATION_HANDLE,
           hint="告知当事人可依法通过诉讼、仲裁或行政途径解决", danger=True),
        _a("terminate", "终止调解", OPEN, Status.TERMINATED, P.MEDIATION_HANDLE,
           hint="当事人撤回申请、拒绝调解或已起诉等，须说明理由", danger=True),
        _a("follow_up", "履行回访", frozenset({Status.AGREED, Status.FOLLOWING_UP}), Status.FOLLOWING_UP,
           P.MEDIATION_HANDLE, hint="上门或电话回访协议履行情况"),
        _a("close", "结案归档", frozenset({Status.FAILED, Status.TERMINATED, Status.FOLLOWING_UP}),
           Status.CLOSED, P.MEDIATION_HANDLE, hint="协议未全部履行时须写明处理情况"),
    )
}


def actions_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if a.allowed_from(status)]


def target_of(action: Action, status: str) -> str:
    return action.target_from(status)
