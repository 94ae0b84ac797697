"""The case closed loop's transitions: `case_act`, the ONE locked transition of a case, run by the
workflow engine (core/workflow.py) with the table of states.py; the handlers of its actions; and
`transition`, the same change worked out in memory for the deadline sweep's batches."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import transaction

from gridgov.access.models import Department, User
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_build
from gridgov.core.clock import local
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.core.workdays import WorkCalendar
from gridgov.core.workflow import Action as WorkflowAction
from gridgov.core.workflow import StatusSpec, Step, Workflow
from gridgov.geo.geometry import validate_point
from gridgov.notify.services import notify_users, outbox_put
from gridgov.units.models import Unit

from . import deadlines, reporter
from .holders import case_link, holder_user_ids
from .models import LEVEL_RANK, Case, CaseAttachment, CaseEvent, Urgency
from .numbering import FormKind, next_number
from .places import ON_SITE_RADIUS_M, distance_m, unit_rank
from .states import ACTIONS, STATUSES, UNRESOLVED, Action, Status, Who
from .text import text_field as _text


class ReturnReason:
    WRONG_PLACE = "wrong_place"
    UNCLEAR_OWNERSHIP = "unclear_ownership"
    OVERLAP = "overlap"
    OTHER = "other"
    LABELS = {
        WRONG_PLACE: "属地不符",
        UNCLEAR_OWNERSHIP: "权属不清",
        OVERLAP: "职能交叉",
        OTHER: "其他",
    }


@dataclass
class _Step(Step[Case]):
    reason_code: str = ""
    reporter_token: str = ""
    notify_extra: list[int] = field(default_factory=list)
    _calendar: WorkCalendar | None = None
    # Where form numbers come from: one `nextval` each by default; the sweep passes numbers it took
    # for a whole batch at once (sweep.NumberPool).
    numbers: Callable[[Unit, int, str, str], str] | None = None
    # The holder and the deadline before the handler ran (for the history row).
    before_unit: int | None = None
    before_department: int | None = None
    before_due: dt.datetime | None = None

    @property
    def case(self) -> Case:
        return self.obj

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = deadlines.work_calendar()
        return self._calendar


def case_visible(scope: Scope, case: Case) -> bool:
    return Case.objects.within(scope).filter(pk=case.pk).exists()


_visible = case_visible


def _authorize(step: _Step) -> str:
    """Check the actor may take this action on this case now; return the role for the history row."""
    action, case, scope = step.action, step.case, step.scope
    assert isinstance(action, Action)
    if scope is None:
        if action.who == Who.REPORTER and step.reporter_token:
            if not hmac.compare_digest(step.reporter_token, case.tracking_token):
                raise NotFound()
            return "reporter"
        if action.automatic:
            return "system"
        raise PermissionDenied()
    if action.who == Who.DEPARTMENT:
        if case.holder_department_id not in scope.department_ids:
            raise PermissionDenied("该事件不在本部门办理中。")
        return "department_handler"
    if action.who == Who.HOLDER:
        assert case.holder_unit is not None
        path = case.holder_unit.path
    else:
        path = case.owner_path
    if action.who == Who.REPORTER and case.reported_by_id == scope.user_id:
        return "reporter"
    if not scope.can(action.perm, path):
        raise PermissionDenied(f"您不能对该事件执行「{action.label}」。")
    return scope.role_at(path)


def _department(department_id: Any, holder: Unit) -> Department:
    try:
        dept_pk = int(department_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择承办部门。", field="department_id")
    dept = Department.dangerously_unscoped.select_related("unit").filter(pk=dept_pk, is_active=True).first()
    # A department of this office's unit, an ancestor (county bureaus) or a unit below (stations).
    if dept is None or not (holder.path.startswith(dept.unit.path) or dept.unit.path.startswith(holder.path)):
        raise ValidationFailed("承办部门不存在或不在本辖区。", field="department_id")
    return dept


def _stage(step: _Step, resolve_days: Any = None) -> None:
    case = step.case
    due = deadlines.stage_deadlines(step.calendar, case.category, case.urgency, step.now)
    resolve = due.resolve_due
    if resolve_days not in (None, ""):
        try:
            days = int(resolve_days)
        except (TypeError, ValueError):
            raise ValidationFailed("办理时限应为工作日天数。", field="resolve_days")
        if not 1 <= days <= 60:
            raise ValidationFailed("办理时限应在 1 到 60 个工作日之间。", field="resolve_days")
        resolve = deadlines.extended(step.calendar, step.now, days)
    case.respond_due, case.resolve_due = due.respond_due, max(resolve, due.respond_due)
    case.responded_at = None
    case.warned_for = case.overdue_for = case.respond_urged_for = None
    case.overdue = False
    case.extension_days_requested = None


def _on_site(step: _Step, checkin_lat: Any, checkin_lng: Any) -> None:
    """四必到: acting on such a category needs a GPS check-in near the case's place."""
    case = step.case
    if not case.category.on_site:
        return
    if checkin_lat in (None, "") or checkin_lng in (None, ""):
        raise ValidationFailed("该类事件须到现场办理（四必到），请先定位签到。", field="checkin")
    try:
        lat, lng = float(checkin_lat), float(checkin_lng)
    except (TypeError, ValueError):
        raise ValidationFailed("签到位置格式不正确。", field="checkin")
    validate_point(lat, lng)
    if case.lat is not None and case.lng is not None:
        dist = distance_m(lat, lng, case.lat, case.lng)
        if dist > ON_SITE_RADIUS_M:
            raise ValidationFailed(f"签到位置距事发地 {dist:.0f} 米，须在 {ON_SITE_RADIUS_M:.0f} 米以内。",
                                   field="checkin")
    step.detail["checkin"] = [round(lat, 6), round(lng, 6)]


def _attach(step: _Step, attachment_ids: Any) -> None:
    """Link already uploaded files of this case to the history row (evidence, photos of the result)."""
    if not attachment_ids:
        return
    if not isinstance(attachment_ids, list | tuple):
        attachment_ids = str(attachment_ids).split(",")
    try:
        ids = sorted({int(i) for i in attachment_ids})
    except (TypeError, ValueError):
        raise ValidationFailed("附件编号不正确。", field="attachment_ids")
    found = set(CaseAttachment.dangerously_unscoped.filter(case=step.case, pk__in=ids).values_list("pk", flat=True))
    if found != set(ids):
        raise ValidationFailed("附件不存在。", field="attachment_ids")
    step.detail["attachments"] = ids


def _form(step: _Step, kind: str) -> None:
    case = step.case
    year = local(step.now).year
    prefix = case.number_prefix  # captured at creation: a later code change renumbers nothing
    step.detail["form_number"] = (step.numbers(case.county, year, kind, prefix) if step.numbers is not None
                                  else next_number(county=case.county, year=year, kind=kind, prefix=prefix))


def _last_event_department(case: Case, action: str) -> int | None:
    ev = (CaseEvent.dangerously_unscoped.filter(case=case, action=action, from_department__isnull=False)
          .order_by("-seq").first())
    return ev.from_department_id if ev else None


# Handlers: each validates its own parameters and changes the case in memory.

def _accept(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    step.case.responded_at = step.now


def _reject(step: _Step, *, reason: str = "") -> None:
    step.note = _text(reason, field_name="reason", label="不予受理的理由", required=True, max_len=500)
    step.case.closed_at = step.now


def _merge(step: _Step, *, target_case_id: Any = None, note: str = "") -> None:
    case = step.case
    # Staff know cases by number (140225-2026-S00012); clients may send the id.
    text = str(target_case_id or "").strip()
    if text.isdecimal():
        target_pk = int(text)
    else:
        found = Case.dangerously_unscoped.filter(number=text, county_id=case.county_id).values_list("pk",
                                                                                                    flat=True).first()
        if found is None:
            raise ValidationFailed("请填写要并入的原事件编号。", field="target_case_id")
        target_pk = found
    if target_pk == case.pk:
        raise ValidationFailed("不能与自身合并。", field="target_case_id")
    target = Case.dangerously_unscoped.select_for_update().filter(pk=target_pk).first()
    if target is None or (step.scope is not None and not _visible(step.scope, target)):
        raise ValidationFailed("原事件不存在。", field="target_case_id")
    if target.status not in UNRESOLVED or target.county_id != case.county_id:
        raise ValidationFailed("只能并入同一县内正在办理的事件。", field="target_case_id")
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    case.merged_into = target
    case.closed_at = step.now
    step.detail["merged_into"] = target.number
    # The reporter moves to the original: its timeline records them, and they are told by SMS.
    seq = (CaseEvent.dangerously_unscoped.filter(case=target).order_by("-seq").values_list("seq",
                                                                                           flat=True).first() or 0) + 1
    CaseEvent.dangerously_unscoped.create(
        case=target, seq=seq, action="merged_in", at=step.now, actor=step.actor, from_status=target.status,
        to_status=target.status, to_unit=target.holder_unit, to_department=None,
        note=f"合并事件 {case.number}", resolve_due_before=target.resolve_due, resolve_due_after=target.resolve_due,
        detail={"from_case": case.number, "reporter_name": "" if case.anonymous else case.reporter_name_masked},
    )
    Case.dangerously_unscoped.filter(pk=target.pk).update(version=target.version + 1, updated_at=step.now)
    if case.reporter_phone_cipher:
        # The outbox seals the number again (notify.services): no phone in clear at rest.
        outbox_put(kind="sms", topic="case.merged", dedupe_key=f"case:{case.pk}:merged:sms", now=step.now,
                   payload={"channel": "sms", "to": [reporter.reveal_phone(case)],
                            "text": f"您反映的问题已并入事件 {target.number} 一并办理，可凭原查询码查看进度。"})


def _self_handle(step: _Step, *, result: str = "", checkin_lat: Any = None, checkin_lng: Any = None,
                 attachment_ids: Any = None) -> None:
    case = step.case
    assert case.holder_unit is not None
    lowest = LEVEL_RANK[case.category.lowest_level]  # type: ignore[index]
    if unit_rank(case.holder_unit) < lowest:
        raise ValidationFailed(f"「{case.category.name}」须由{case.category.get_lowest_level_display()}"
                               "及以上办结，请上报。", field="action")
    result = _text(result, field_name="result", label="办理结果", required=True, max_len=2000)
    _on_site(step, checkin_lat, checkin_lng)
    _attach(step, attachment_ids)
    case.result = result
    step.note = result
    case.resolved_at = step.now
    case.responded_at = case.responded_at or step.now
    _form(step, FormKind.FEEDBACK)


def _escalate(step: _Step, *, to_unit_id: Any = None, note: str = "") -> None:
    case = step.case
    holder = case.holder_unit
    assert holder is not None
    if holder.parent_id is None:
        parent = None
    elif Unit.parent.is_cached(holder):  # the sweep loads it with the batch
        parent = holder.parent
    else:
        parent = Unit.dangerously_unscoped.select_related("kind").filter(pk=holder.parent_id).first()
    if parent is None:
        raise ValidationFailed("已是最高层级，无法继续上报，请交办职能部门。", field="action")
    target = parent
    if to_unit_id not in (None, "") and str(to_unit_id) != str(parent.pk):
        try:
            to_pk = int(to_unit_id)
        except (TypeError, ValueError):
            raise ValidationFailed("上报单位不正确。", field="to_unit_id")
        if to_pk not in holder.ancestor_ids():
            raise ValidationFailed("只能上报给本单位的上级。", field="to_unit_id")
        if case.urgency != Urgency.EMERGENCY:
            raise ValidationFailed("只有紧急事件可以越级上报。", field="to_unit_id")
        target = Unit.dangerously_unscoped.select_related("kind").get(pk=to_pk)
        skipped = Unit.dangerously_unscoped.filter(pk__in=holder.ancestor_ids(),
                                                   depth__gt=target.depth).order_by("-depth")
        step.detail["skipped"] = [u.name for u in skipped]
    step.note = _text(note, field_name="note", label="上报说明", required=False, max_len=500)
    case.holder_unit = target
    case.owner_unit = target
    case.owner_path = target.path
    case.responded_at = case.responded_at or step.now


def _dispatch(step: _Step, *, department_id: Any = None, resolve_days: Any = None, note: str = "") -> None:
    case = step.case
    assert case.holder_unit is not None
    dept = _department(department_id, case.holder_unit)
    step.note = _text(note, field_name="note", label="交办意见", required=False, max_len=1000)
    _stage(step, resolve_days)
    case.owner_unit = case.holder_unit
    case.owner_path = case.holder_unit.path
    case.holder_unit = None
    case.holder_department = dept
    case.dispatch_final = False
    _form(step, FormKind.DISPATCH)


def _acknowledge(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    step.case.responded_at = step.now


def _return(step: _Step, *, reason_code: str = "", note: str = "", attachment_ids: Any = None) -> None:
    case = step.case
    if reason_code not in ReturnReason.LABELS:
        raise ValidationFailed("请选择退回理由（属地不符、权属不清、职能交叉或其他）。", field="reason_code")
    step.reason_code = reason_code
    step.note = _text(note, field_name="note", label="退回说明和依据", required=True, max_len=1000)
    _attach(step, attachment_ids)
    case.holder_unit = case.owner_unit
    case.holder_department = None


def _redispatch(step: _Step, *, department_id: Any = None, resolve_days: Any = None, note: str = "") -> None:
    case = step.case
    dept = _department(department_id, case.owner_unit)
    step.note = _text(note, field_name="note", label="交办意见", required=False, max_len=1000)
    _stage(step, resolve_days)
    case.holder_unit = None
    case.holder_department = dept
    case.dispatch_final = False
    _form(step, FormKind.DISPATCH)


def _adjudicate(step: _Step, *, note: str = "", resolve_days: Any = None) -> None:
    case = step.case
    dept_id = _last_event_department(case, "return")
    if dept_id is None:
        raise ValidationFailed("找不到原承办部门。", field="action")
    step.note = _text(note, field_name="note", label="审定意见", required=True, max_len=1000)
    _stage(step, resolve_days)
    case.holder_unit = None
    case.holder_department = Department.dangerously_unscoped.get(pk=dept_id)
    case.dispatch_final = True
    _form(step, FormKind.DISPATCH)


def _request_extension(step: _Step, *, days: Any = None, reason: str = "") -> None:
    case = step.case
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise ValidationFailed("请填写需要延长的工作日天数。", field="days")
    cap = case.category.max_extension_days
    if not 1 <= n <= cap:
        raise ValidationFailed(f"延时应在 1 到 {cap} 个工作日之间。", field="days")
    step.note = _text(reason, field_name="reason", label="延时理由", required=True, max_len=500)
    case.extension_days_requested = n
    step.detail["days"] = n


def _approve_extension(step: _Step, *, note: str = "") -> None:
    case = step.case
    if not case.extension_days_requested or case.resolve_due is None:  # the guard said so; for the types
        raise ValidationFailed("没有待审批的延时申请。", field="action")
    step.note = _text(note, field_name="note", label="审批意见", required=False, max_len=500)
    step.detail["days"] = case.extension_days_requested
    case.resolve_due = deadlines.extended(step.calendar, case.resolve_due, case.extension_days_requested)
    case.extension_days_requested = None
    case.extension_count += 1
    case.warned_for = None
    if case.resolve_due > step.now:
        case.overdue = False


def _deny_extension(step: _Step, *, reason: str = "") -> None:
    case = step.case
    step.note = _text(reason, field_name="reason", label="不同意的理由", required=True, max_len=500)
    step.detail["days"] = case.extension_days_requested
    case.extension_days_requested = None


def _urge(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="催办意见", required=False, max_len=500)
    step.case.urge_count += 1
    step.detail["count"] = step.case.urge_count
    step.detail["auto"] = step.actor is None
    _form(step, FormKind.URGE)


def _supervise(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="督办意见", required=False, max_len=500)
    step.case.supervised = True


def _feedback(step: _Step, *, result: str = "", checkin_lat: Any = None, checkin_lng: Any = None,
              attachment_ids: Any = None) -> None:
    case = step.case
    result = _text(result, field_name="result", label="办理结果", required=True, max_len=2000)
    _on_site(step, checkin_lat, checkin_lng)
    _attach(step, attachment_ids)
    case.result = result
    step.note = result
    case.holder_unit = case.owner_unit
    case.holder_department = None
    case.extension_days_requested = None
    _form(step, FormKind.FEEDBACK)


def _review(step: _Step, *, note: str = "") -> None:
    case = step.case
    step.note = _text(note, field_name="note", label="审核意见", required=False, max_len=500)
    case.resolved_at = step.now
    if case.reporter_phone_cipher:
        outbox_put(kind="sms", topic="case.resolved", now=step.now,
                   dedupe_key=f"case:{case.pk}:resolved:{case.version}:sms",
                   payload={"channel": "sms", "to": [reporter.reveal_phone(case)],
                            "text": f"您反映的问题（{case.number}）已办结，请查看结果并评价。"})


def _redo(step: _Step, *, reason: str = "") -> None:
    case = step.case
    dept_id = _last_event_department(case, "feedback")
    if dept_id is None:
        raise ValidationFailed("找不到原承办部门。", field="action")
    step.note = _text(reason, field_name="reason", label="重办理由", required=True, max_len=500)
    _stage(step)
    case.responded_at = step.now  # the department already holds it: no new sign-for
    case.result = ""
    case.holder_unit = None
    case.holder_department = Department.dangerously_unscoped.get(pk=dept_id)


def _confirm(step: _Step, *, rating: Any = None, note: str = "") -> None:
    case = step.case
    try:
        stars = int(rating)
    except (TypeError, ValueError):
        raise ValidationFailed("请评价（1 到 5 分）。", field="rating")
    if not 1 <= stars <= 5:
        raise ValidationFailed("评价应为 1 到 5 分。", field="rating")
    case.rating = stars
    case.rating_note = _text(note, field_name="note", label="评价意见", required=False, max_len=200)
    step.note = case.rating_note
    step.detail["rating"] = stars
    case.closed_at = case.closed_at or step.now  # a follow-up after the system archived it keeps that time


def _reopen(step: _Step, *, reason: str = "") -> None:
    case = step.case
    step.note = _text(reason, field_name="reason", label="不满意的理由", required=True, max_len=500)
    _stage(step)
    case.result = ""
    case.resolved_at = None
    case.closed_at = None  # reopened by a follow-up after the system archived it
    case.holder_unit = case.owner_unit
    case.holder_department = None


def _close(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="归档说明", required=False, max_len=500)
    step.case.closed_at = step.now


def _cancel(step: _Step, *, reason: str = "") -> None:
    case = step.case
    step.note = _text(reason, field_name="reason", label="注销理由", required=True, max_len=500)
    case.holder_unit = case.holder_unit or case.owner_unit
    case.holder_department = None
    case.closed_at = step.now


HANDLERS: dict[str, Callable[..., None]] = {
    "accept": _accept, "reject": _reject, "merge": _merge, "self_handle": _self_handle, "escalate": _escalate,
    "dispatch": _dispatch, "acknowledge": _acknowledge, "return": _return, "redispatch": _redispatch,
    "adjudicate": _adjudicate, "request_extension": _request_extension, "approve_extension": _approve_extension,
    "deny_extension": _deny_extension, "urge": _urge, "supervise": _supervise, "feedback": _feedback,
    "review": _review, "redo": _redo, "confirm": _confirm, "reopen": _reopen, "close": _close, "cancel": _cancel,
}


@dataclass
class Change:
    """One transition worked out in memory: the case changed (not saved), its history row and audit
    row (not saved), and the in-app notification to send to the holders, if any (notify_users'
    arguments but the recipients). `case_act` writes one; the deadline sweep writes a batch."""

    case: Case
    event: CaseEvent
    audit: AuditEvent
    notify: dict[str, Any] | None


def _next_seq(case: Case) -> int:
    return (CaseEvent.dangerously_unscoped.filter(case=case).order_by("-seq").values_list("seq",
                                                                                          flat=True).first() or 0) + 1


def _change(step: _Step, *, seq_of: Callable[[Case], int]) -> Change:
    case, spec, actor, now, action = step.case, step.action, step.actor, step.now, step.action.code
    seq = seq_of(case)
    event = CaseEvent(
        case=case, seq=seq, action=action, at=now, actor=actor, actor_role=step.role,
        from_status=step.before, to_status=case.status,
        from_unit_id=step.before_unit, to_unit_id=case.holder_unit_id,
        from_department_id=step.before_department, to_department_id=case.holder_department_id,
        note=step.note, reason_code=step.reason_code,
        resolve_due_before=step.before_due, resolve_due_after=case.resolve_due, detail=step.detail,
    )
    audit = audit_build(action=f"case.{action}", actor=actor, now=now, obj=case, unit_path=case.owner_path,
                        role=step.role, detail={"from": step.before, "to": case.status, "number": case.number})
    notify = None
    if STATUSES[case.status].type in ("open", "in_progress") or action in ("review",):
        notify = {"topic": f"case.{action}", "title": f"{spec.label}：{case.title}",
                  "body": f"{case.number} · {case.get_status_display()}" + (f" · {step.note[:80]}" * bool(step.note)),
                  "link": case_link(case), "dedupe_key": f"case:{case.pk}:ev:{seq}:inbox", "now": now}
    return Change(case=case, event=event, audit=audit, notify=notify)


class CaseFlow(Workflow[Case]):
    name = "cases"
    title = "Case workflow (事件闭环)"
    statuses = tuple(StatusSpec(d.status.value, d.status.label, d.type) for d in STATUSES.values())
    actions = ACTIONS
    handlers = HANDLERS
    initial = (Status.REPORTED.value, "report 登记")
    service = "gridgov.cases.transitions.case_act"
    stale_message = "该事件已被他人处理，请刷新后再操作。"
    state_message = "该事件当前状态为「{status}」，不能{action}。"
    step_class: ClassVar[type[Step[Any]]] = _Step
    note = "Actions without a target keep the status (urge, supervise, extension requests)."

    def doc_status_columns(self) -> list[tuple[str, Callable[[StatusSpec], str]]]:
        return [("public status", lambda s: f"{STATUSES[s.code].public.value} ({STATUSES[s.code].public.label})"),
                ("held by", lambda s: "department" if STATUSES[s.code].held_by_department else "unit")]

    def doc_action_columns(self) -> list[tuple[str, Callable[[WorkflowAction], str]]]:
        def case_action(a: WorkflowAction) -> Action:
            assert isinstance(a, Action)
            return a
        return [("who", lambda a: case_action(a).who.value),
                ("automatic", lambda a: "yes" if case_action(a).automatic else ""),
                ("new deadline", lambda a: "yes" if case_action(a).sets_deadline else "")]

    def scope(self, actor: User | None) -> Scope:
        return scope_for(actor)

    def lock(self, pk: Any) -> Case | None:
        return (Case.dangerously_unscoped.select_for_update(of=("self",)).select_related("category",
                                                                                         "holder_unit__kind", "county")
                .filter(pk=pk).first())

    def visible(self, scope: Scope, obj: Case) -> bool:
        return case_visible(scope, obj)

    def authorize(self, step: Step[Case]) -> str:
        assert isinstance(step, _Step)
        return _authorize(step)

    def apply(self, step: Step[Case], params: Any) -> None:
        assert isinstance(step, _Step)
        case = step.case
        step.before_unit, step.before_department, step.before_due = (
            case.holder_unit_id, case.holder_department_id, case.resolve_due)
        super().apply(step, params)
        if case.holder_unit_id is None and case.holder_department_id is None:  # pragma: no cover - handlers
            raise ValidationFailed("事件必须有承办方。")

    def record(self, step: Step[Case]) -> None:
        assert isinstance(step, _Step)
        change = _change(step, seq_of=_next_seq)
        case, actor = change.case, step.actor
        case.save()
        change.event.save()
        change.audit.save()
        if change.notify is not None:
            recipients = [u for u in holder_user_ids(case) if actor is None or u != actor.pk]
            notify_users(user_ids=recipients, **change.notify)


FLOW = CaseFlow()


def action_params(action: str) -> frozenset[str]:
    return FLOW.params(action)


@transaction.atomic
def case_act(
    *,
    actor: User | None,
    now: dt.datetime,
    case_id: int,
    action: str,
    expected_version: int | None = None,
    reporter_token: str = "",
    **params: Any,
) -> Case:
    """Take one action on a case. The case row is locked for the whole change: of two people acting
    at once, one wins and the other gets a Conflict naming the status the first one left."""
    return FLOW.act(actor=actor, now=now, pk=case_id, action=action, expected_version=expected_version,
                    params=params, step_fields={"reporter_token": reporter_token})


def transition(step: _Step, role: str, params: dict[str, Any], *, seq_of: Callable[[Case], int]) -> Change:
    """Run the action (guards, handler, new status) on the locked case and build what must be written,
    without writing it (the sweep writes a batch). The caller has checked the status and the actor."""
    step.role = role
    FLOW.apply(step, params)
    return _change(step, seq_of=seq_of)


def allowed_actions(*, case: Case, actor: User, now: dt.datetime | None = None) -> list[Action]:
    """The actions this actor may take on this case now (for pages and the API). Without `now`, the
    guards that read the clock (an extension past the deadline) are not applied."""
    return [a for a in FLOW.allowed(case, actor=actor, now=now) if isinstance(a, Action)]
