"""The case workflow as data: statuses, their types and public statuses, one transition table, and
the guards its actions carry.

Every state change goes through `transitions.case_act` (the workflow engine, core/workflow.py),
which looks the action up here. docs/workflows/cases.md is generated from this module
(`manage.py workflow_docs`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models

from gridgov.access.roles import P
from gridgov.core.errors import ValidationFailed
from gridgov.core.workflow import Action as WorkflowAction
from gridgov.core.workflow import Guarded, StatusType, Step, needs_now


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
# Not yet resolved: duplicates are looked for among these, and a case may be merged into one.
UNRESOLVED = frozenset({Status.REPORTED, Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED,
                        Status.FEEDBACK})
# Statuses in which a resolution clock runs (the sweep watches these).
CLOCKED = frozenset({Status.REPORTED, Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED})


class Who(models.TextChoices):
    """Whose permission an action needs, checked at which unit."""

    HOLDER = "holder", "当前承办单位"  # perm at the unit holding the case
    OWNER = "owner", "责任单位"  # perm at the unit answerable for it (the dispatching office)
    DEPARTMENT = "department", "承办部门"  # a handler of the department holding the case
    REPORTER = "reporter", "反映人"  # the reporter (tracking token), or staff on their behalf


@dataclass(frozen=True)
class Action(WorkflowAction):
    who: Who = Who.HOLDER
    # The system (sweep job) may take it without a person.
    automatic: bool = False
    # Starts a new stage: the deadlines are set afresh (dispatch, redo, reopen).
    sets_deadline: bool = False


# --- guards: refusals that depend on the case, not only on its status --------------------------

# After the sweep archived a resolved case nobody rated (`close`, by the system), staff may still
# record a follow-up call or visit (回访) for this many days: it rates the case, or reopens it.
FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS = 15


def follow_up_window_days() -> int:
    return int(getattr(settings, "GRIDGOV_FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS", FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS))


def _no_pending_extension(step: Step[Any]) -> None:
    if step.obj.extension_days_requested:
        raise ValidationFailed("已有待审批的延时申请。", field="action")


def _pending_extension(step: Step[Any]) -> None:
    if not step.obj.extension_days_requested:
        raise ValidationFailed("没有待审批的延时申请。", field="action")


def _deadline_not_passed(message: str) -> Any:
    @needs_now
    def guard(step: Step[Any]) -> None:
        due = step.obj.resolve_due
        if due is not None and step.now > due:
            raise ValidationFailed(message, field="action")
    guard.__name__ = "deadline_not_passed"
    return guard


def _not_adjudicated(step: Step[Any]) -> None:
    if step.obj.dispatch_final:
        raise ValidationFailed("该交办已经审定，不能再退回，请按期办理。", field="action")


def _not_supervised(step: Step[Any]) -> None:
    if step.obj.supervised:
        raise ValidationFailed("该事件已在督办中。", field="action")


def _auto_closed_lately(step: Step[Any]) -> None:
    """回访 after the system archived the case: staff only, unrated, within the policy window."""
    from .models import CaseEvent

    case, days = step.obj, follow_up_window_days()
    if step.actor is None or case.rating is not None:
        raise ValidationFailed(f"该事件已办结归档，不能{step.action.label}。", field="action")
    if case.closed_at is None or step.now - case.closed_at > dt.timedelta(days=days):
        raise ValidationFailed(f"该事件归档已超过 {days} 天，不能再回访。", field="action")
    last = CaseEvent.dangerously_unscoped.filter(case=case).order_by("-seq").values_list("action", "actor_id").first()
    if last != ("close", None):
        raise ValidationFailed(f"该事件已办结归档，不能{step.action.label}。", field="action")


_AFTER_AUTO_CLOSE = "系统自动归档后，回访期限内"


def _a(code: str, label: str, sources: frozenset[Status], target: Status | None, who: Who, perm: str,
       **kw: Any) -> Action:
    return Action(code, label, sources, frozenset({target}) if target is not None else frozenset(), perm,
                  who=who, **kw)


_UNIT_OPEN = frozenset({Status.REPORTED, Status.HANDLING})
_IN_FLIGHT = frozenset({Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED})

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        _a("accept", "受理", frozenset({Status.REPORTED}), Status.HANDLING, Who.HOLDER, P.CASE_ACCEPT,
           hint="确认受理，由本级办理或上报、交办"),
        _a("reject", "不予受理", frozenset({Status.REPORTED}), Status.REJECTED, Who.HOLDER, P.CASE_ACCEPT,
           hint="须说明理由"),
        _a("merge", "合并", _UNIT_OPEN, Status.MERGED, Who.HOLDER, P.CASE_ACCEPT,
           hint="与已有事件重复，并入原事件"),
        _a("self_handle", "自办自结", _UNIT_OPEN, Status.RESOLVED, Who.HOLDER, P.CASE_HANDLE,
           hint="本级处理完毕，填写办理结果"),
        _a("escalate", "上报", _UNIT_OPEN, Status.HANDLING, Who.HOLDER, P.CASE_ESCALATE, automatic=True,
           hint="报上一级处理"),
        _a("dispatch", "交办", frozenset({Status.HANDLING}), Status.DISPATCHED, Who.HOLDER, P.CASE_DISPATCH,
           sets_deadline=True, hint="交职能部门限时办理"),
        _a("acknowledge", "签收", frozenset({Status.DISPATCHED}), Status.ACKNOWLEDGED, Who.DEPARTMENT,
           P.CASE_DEPARTMENT, hint="确认承办"),
        _a("return", "退回", frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED}), Status.RETURNED,
           Who.DEPARTMENT, P.CASE_DEPARTMENT, hint="不属本部门职责，说明理由并附依据", guards=(_not_adjudicated,)),
        _a("redispatch", "重新交办", frozenset({Status.RETURNED}), Status.DISPATCHED, Who.OWNER, P.CASE_DISPATCH,
           sets_deadline=True, hint="改交其他部门"),
        _a("adjudicate", "审定", frozenset({Status.RETURNED}), Status.DISPATCHED, Who.OWNER, P.CASE_DISPATCH,
           sets_deadline=True, hint="维持原交办，部门不得再退回"),
        _a("request_extension", "申请延时", frozenset({Status.ACKNOWLEDGED}), None, Who.DEPARTMENT,
           P.CASE_DEPARTMENT, hint="说明理由和需要的工作日",
           guards=(_no_pending_extension, _deadline_not_passed("办理期限已过，不能再申请延时，请尽快办结。"))),
        _a("approve_extension", "同意延时", frozenset({Status.ACKNOWLEDGED}), None, Who.OWNER, P.CASE_DISPATCH,
           guards=(_pending_extension, _deadline_not_passed("办理期限已过，不能再同意延时，请督促部门尽快办结。"))),
        _a("deny_extension", "不同意延时", frozenset({Status.ACKNOWLEDGED}), None, Who.OWNER, P.CASE_DISPATCH,
           guards=(_pending_extension,)),
        _a("urge", "催办", _IN_FLIGHT | {Status.REPORTED}, None, Who.OWNER, P.CASE_DISPATCH, automatic=True),
        _a("supervise", "督办", _IN_FLIGHT | {Status.REPORTED, Status.FEEDBACK}, None, Who.OWNER,
           P.CASE_SUPERVISE, hint="列入督办", guards=(_not_supervised,)),
        _a("feedback", "反馈", frozenset({Status.ACKNOWLEDGED}), Status.FEEDBACK, Who.DEPARTMENT,
           P.CASE_DEPARTMENT, hint="填写办理结果，可附照片"),
        _a("review", "审核通过", frozenset({Status.FEEDBACK}), Status.RESOLVED, Who.OWNER, P.CASE_REVIEW),
        _a("redo", "重办", frozenset({Status.FEEDBACK}), Status.ACKNOWLEDGED, Who.OWNER, P.CASE_REVIEW,
           sets_deadline=True, hint="办理结果不合格，退部门重办"),
        _a("confirm", "验收评价", frozenset({Status.RESOLVED}), Status.CLOSED, Who.REPORTER, P.CASE_HANDLE,
           hint="反映人确认结果并评价",
           also_from=(Guarded(Status.CLOSED, _auto_closed_lately, _AFTER_AUTO_CLOSE),)),
        _a("reopen", "重新办理", frozenset({Status.RESOLVED}), Status.HANDLING, Who.REPORTER, P.CASE_HANDLE,
           sets_deadline=True, hint="反映人不满意，说明理由",
           also_from=(Guarded(Status.CLOSED, _auto_closed_lately, _AFTER_AUTO_CLOSE),)),
        _a("close", "办结归档", frozenset({Status.RESOLVED}), Status.CLOSED, Who.OWNER, P.CASE_REVIEW,
           automatic=True, hint="反映人未评价时归档"),
        _a("cancel", "注销", frozenset(ACTIVE), Status.CANCELLED, Who.OWNER, P.CASE_DISPATCH,
           hint="撤销事件，须说明理由"),
    )
}


def status_def(status: str) -> StatusDef:
    return STATUSES[status]


def actions_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if a.allowed_from(status)]


def target_of(action: Action, status: str) -> str:
    return action.target_from(status)
