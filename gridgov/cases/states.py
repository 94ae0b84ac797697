"""The case workflow as data: statuses, their types and public statuses, and one transition table.

Every state change goes through `services.case_act`, which looks the action up here.
docs/workflows/cases.md is generated from this module (`manage.py case_workflow_doc`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from gridgov.access.roles import P


class Status(models.TextChoices):
    REPORTED = "reported", "待受理"
    HANDLING = "handling", "办理中"
    DISPATCHED = "dispatched", "待签收"
    ACKNOWLEDGED = "acknowledged", "部门办理中"
    RETURNED = "returned", "退回待审定"
    FEEDBACK = "feedback", "待审核"
    RESOLVED = "resolved", "待验收"
    CLOSED = "closed", "已办结"
    REJECTED = "rejected", "不予受理"
    MERGED = "merged", "已合并"
    CANCELLED = "cancelled", "已注销"


class StatusType(models.TextChoices):
    OPEN = "open", "待处理"
    IN_PROGRESS = "in_progress", "处理中"
    DONE = "done", "已完成"
    REJECTED = "rejected", "未受理/已撤销"


class PublicStatus(models.TextChoices):
    """The few statuses residents and Open311 clients see."""

    SUBMITTED = "submitted", "已提交"
    IN_PROGRESS = "in_progress", "正在办理"
    RESOLVED = "resolved", "已办结，请评价"
    CLOSED = "closed", "已办结"
    NOT_ACCEPTED = "not_accepted", "未受理"


@dataclass(frozen=True)
class StatusDef:
    status: Status
    type: StatusType
    public: PublicStatus
    # Who holds a case in this status: a unit (grid, village, office) or a department.
    held_by_department: bool = False


STATUSES: dict[str, StatusDef] = {
    s.status.value: s
    for s in (
        StatusDef(Status.REPORTED, StatusType.OPEN, PublicStatus.SUBMITTED),
        StatusDef(Status.HANDLING, StatusType.IN_PROGRESS, PublicStatus.IN_PROGRESS),
        StatusDef(Status.DISPATCHED, StatusType.IN_PROGRESS, PublicStatus.IN_PROGRESS, held_by_department=True),
        StatusDef(Status.ACKNOWLEDGED, StatusType.IN_PROGRESS, PublicStatus.IN_PROGRESS, held_by_department=True),
        StatusDef(Status.RETURNED, StatusType.IN_PROGRESS, PublicStatus.IN_PROGRESS),
        StatusDef(Status.FEEDBACK, StatusType.IN_PROGRESS, PublicStatus.IN_PROGRESS),
        StatusDef(Status.RESOLVED, StatusType.DONE, PublicStatus.RESOLVED),
        StatusDef(Status.CLOSED, StatusType.DONE, PublicStatus.CLOSED),
        StatusDef(Status.REJECTED, StatusType.REJECTED, PublicStatus.NOT_ACCEPTED),
        StatusDef(Status.MERGED, StatusType.REJECTED, PublicStatus.IN_PROGRESS),
        StatusDef(Status.CANCELLED, StatusType.REJECTED, PublicStatus.NOT_ACCEPTED),
    )
}

TERMINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED, Status.CANCELLED})
ACTIVE = frozenset(s for s in Status if s not in TERMINAL)
# Statuses in which a resolution clock runs (the sweep watches these).
CLOCKED = frozenset({Status.REPORTED, Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED})


class Who(models.TextChoices):
    """Whose permission an action needs, checked at which unit."""

    HOLDER = "holder", "当前承办单位"  # perm at the unit holding the case
    OWNER = "owner", "责任单位"  # perm at the unit answerable for it (the dispatching office)
    DEPARTMENT = "department", "承办部门"  # a handler of the department holding the case
    REPORTER = "reporter", "反映人"  # the reporter (tracking token), or staff on their behalf


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: frozenset[Status]
    # None: the status does not change (urge, supervise, extension requests).
    target: Status | None
    who: Who
    perm: str
    # The system (sweep job) may take it without a person.
    automatic: bool = False
    # Starts a new stage: the deadlines are set afresh (dispatch, redo, reopen).
    sets_deadline: bool = False
    hint: str = ""

    def allowed_from(self, status: str) -> bool:
        return status in self.sources


_UNIT_OPEN = frozenset({Status.REPORTED, Status.HANDLING})
_IN_FLIGHT = frozenset({Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED})

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action("accept", "受理", frozenset({Status.REPORTED}), Status.HANDLING, Who.HOLDER, P.CASE_ACCEPT,
               hint="确认受理，由本级办理或上报、交办"),
        Action("reject", "不予受理", frozenset({Status.REPORTED}), Status.REJECTED, Who.HOLDER, P.CASE_ACCEPT,
               hint="须说明理由"),
        Action("merge", "合并", _UNIT_OPEN, Status.MERGED, Who.HOLDER, P.CASE_ACCEPT,
               hint="与已有事件重复，并入原事件"),
        Action("self_handle", "自办自结", _UNIT_OPEN, Status.RESOLVED, Who.HOLDER, P.CASE_HANDLE,
               hint="本级处理完毕，填写办理结果"),
        Action("escalate", "上报", _UNIT_OPEN, Status.HANDLING, Who.HOLDER, P.CASE_ESCALATE, automatic=True,
               hint="报上一级处理"),
        Action("dispatch", "交办", frozenset({Status.HANDLING}), Status.DISPATCHED, Who.HOLDER, P.CASE_DISPATCH,
               sets_deadline=True, hint="交职能部门限时办理"),
        Action("acknowledge", "签收", frozenset({Status.DISPATCHED}), Status.ACKNOWLEDGED, Who.DEPARTMENT,
               P.CASE_DEPARTMENT, hint="确认承办"),
        Action("return", "退回", frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED}), Status.RETURNED,
               Who.DEPARTMENT, P.CASE_DEPARTMENT, hint="不属本部门职责，说明理由并附依据"),
        Action("redispatch", "重新交办", frozenset({Status.RETURNED}), Status.DISPATCHED, Who.OWNER, P.CASE_DISPATCH,
               sets_deadline=True, hint="改交其他部门"),
        Action("adjudicate", "审定", frozenset({Status.RETURNED}), Status.DISPATCHED, Who.OWNER, P.CASE_DISPATCH,
               sets_deadline=True, hint="维持原交办，部门不得再退回"),
        Action("request_extension", "申请延时", frozenset({Status.ACKNOWLEDGED}), None, Who.DEPARTMENT,
               P.CASE_DEPARTMENT, hint="说明理由和需要的工作日"),
        Action("approve_extension", "同意延时", frozenset({Status.ACKNOWLEDGED}), None, Who.OWNER, P.CASE_DISPATCH),
        Action("deny_extension", "不同意延时", frozenset({Status.ACKNOWLEDGED}), None, Who.OWNER, P.CASE_DISPATCH),
        Action("urge", "催办", _IN_FLIGHT | {Status.REPORTED}, None, Who.OWNER, P.CASE_DISPATCH, automatic=True),
        Action("supervise", "督办", _IN_FLIGHT | {Status.REPORTED, Status.FEEDBACK}, None, Who.OWNER,
               P.CASE_SUPERVISE, hint="列入督办"),
        Action("feedback", "反馈", frozenset({Status.ACKNOWLEDGED}), Status.FEEDBACK, Who.DEPARTMENT,
               P.CASE_DEPARTMENT, hint="填写办理结果，可附照片"),
        Action("review", "审核通过", frozenset({Status.FEEDBACK}), Status.RESOLVED, Who.OWNER, P.CASE_REVIEW),
        Action("redo", "重办", frozenset({Status.FEEDBACK}), Status.ACKNOWLEDGED, Who.OWNER, P.CASE_REVIEW,
               sets_deadline=True, hint="办理结果不合格，退部门重办"),
        Action("confirm", "验收评价", frozenset({Status.RESOLVED}), Status.CLOSED, Who.REPORTER, P.CASE_HANDLE,
               hint="反映人确认结果并评价"),
        Action("reopen", "重新办理", frozenset({Status.RESOLVED}), Status.HANDLING, Who.REPORTER, P.CASE_HANDLE,
               sets_deadline=True, hint="反映人不满意，说明理由"),
        Action("close", "办结归档", frozenset({Status.RESOLVED}), Status.CLOSED, Who.OWNER, P.CASE_REVIEW,
               automatic=True, hint="反映人未评价时归档"),
        Action("cancel", "注销", frozenset(ACTIVE), Status.CANCELLED, Who.OWNER, P.CASE_DISPATCH,
               hint="撤销事件，须说明理由"),
    )
}


def status_def(status: str) -> StatusDef:
    return STATUSES[status]


def actions_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if a.allowed_from(status)]


def target_of(action: Action, status: str) -> str:
    return action.target.value if action.target is not None else status
