"""Writes of the workforce module: one service per use case, keyword-only `actor` and `now`, one
transaction, the history row (duty items) and the audit row written with the change.

- Duty lists: issue → mark done with evidence → confirm (or return); the sweep marks overdue.
- Points: `points_award_event` is THE hook other workflows feed (worker, kind, source, at): it
  applies the rule in force and its monthly cap and is idempotent; manual awards and deductions
  need a reason and are audited; nothing is edited, a correction is a new entry.
- Assessment: settings per unit, publishing a month freezes its ranked rows (the circular).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.core.photos import check_photo
from gridgov.core.workflow import Step, Workflow
from gridgov.notify.services import notify_users
from gridgov.units.models import Unit

from . import duty_states, staff
from .models import (
    Assessment,
    AssessmentRow,
    AssessmentSetting,
    DutyEvent,
    DutyItem,
    DutyList,
    EvidenceKind,
    PointEntry,
    PointKind,
    PointRule,
)
from .periods import month_of

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
MAX_RECIPIENTS = 500

# The rules a new county starts with (the rules page offers them; the demo world seeds them).
DEFAULT_RULES: tuple[tuple[str, int, int | None], ...] = (
    (PointKind.VISIT, 2, 60),
    (PointKind.CASE_SELF_HANDLED, 5, 50),
    (PointKind.CASE_REPORTED_RESOLVED, 2, 20),
    (PointKind.CASE_OVERDUE, -2, 20),
    (PointKind.DUTY_ON_TIME, 3, 30),
    (PointKind.DUTY_OVERDUE, -1, 10),
)


def _clean(text: Any, *, limit: int, label: str, field: str, required: bool = True, minimum: int = 1) -> str:
    value = str(text or "").strip()
    if "\x00" in value:
        raise ValidationFailed(f"{label}含有无效字符。", field=field)
    if required and len(value) < minimum:
        raise ValidationFailed(f"请填写{label}" + (f"（至少 {minimum} 个字）。" if minimum > 1 else "。"), field=field)
    if len(value) > limit:
        raise ValidationFailed(f"{label}不能超过 {limit} 个字。", field=field)
    return value


def _unit(unit_id: Any) -> Unit:
    try:
        unit = Unit.dangerously_unscoped.select_related("kind").filter(pk=int(unit_id), is_active=True).first()
    except (TypeError, ValueError):
        unit = None
    if unit is None:
        raise NotFound()
    return unit


def _role(actor: User | None, path: str) -> str:
    return scope_for(actor).role_at(path) if actor is not None else "system"


def _event(item: DutyItem, *, action: str, actor: User | None, now: dt.datetime, from_state: str,
           note: str = "") -> None:
    DutyEvent.objects.create(item=item, action=action, at=now, actor=actor, from_state=from_state,
                             to_state=item.state, note=note[:500])


# --- duty lists --------------------------------------------------------------------------------

@transaction.atomic
def duty_list_issue(*, actor: User | None, now: dt.datetime, unit_id: Any, title: str, description: str = "",
                    due_at: dt.datetime | None, evidence: str = EvidenceKind.TEXT,
                    target_unit_ids: Iterable[Any] = (), worker_ids: Iterable[Any] = ()) -> DutyList:
    """Issue a list from `unit` to units below it and/or named workers below it (one item each)."""
    unit = _unit(unit_id)
    if actor is not None:
        scope_for(actor).require(P.DUTY_ISSUE, unit.path)
    title = _clean(title, limit=80, label="任务名称", field="title", minimum=2)
    description = _clean(description, limit=2000, label="任务要求", field="description", required=False)
    if evidence not in EvidenceKind.values:
        raise ValidationFailed("请选择佐证要求。", field="evidence")
    if due_at is None:
        raise ValidationFailed("请填写完成期限。", field="due_at")
    if due_at <= now:
        raise ValidationFailed("完成期限必须晚于现在。", field="due_at")
    if due_at > now + dt.timedelta(days=366):
        raise ValidationFailed("完成期限不能超过一年。", field="due_at")
    try:
        unit_ids = sorted({int(x) for x in target_unit_ids if str(x).strip()})
        user_ids = sorted({int(x) for x in worker_ids if str(x).strip()})
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("下发对象不正确。", field="targets") from exc
    if not unit_ids and not user_ids:
        raise ValidationFailed("请至少选择一个下发单位或网格员。", field="targets")
    if len(unit_ids) + len(user_ids) > MAX_RECIPIENTS:
        raise ValidationFailed(f"一次最多下发给 {MAX_RECIPIENTS} 个对象。", field="targets")
    targets = list(Unit.dangerously_unscoped.filter(pk__in=unit_ids, is_active=True, path__startswith=unit.path)
                   .exclude(pk=unit.pk))
    if len(targets) != len(unit_ids):
        raise ValidationFailed("只能下发给本单位的下级单位。", field="targets")
    grants = {g.user_id: g for g in staff.assessed_grants(unit.path)}
    if any(uid not in grants for uid in user_ids):
        raise ValidationFailed("只能下发给本单位范围内的网格员。", field="targets")
    duty = DutyList.objects.create(title=title, description=description, unit=unit, issued_by=actor,
                                   issued_at=now, due_at=due_at, evidence=evidence)
    items = [DutyItem(duty_list=duty, unit=t, due_at=due_at) for t in targets]
    items += [DutyItem(duty_list=duty, unit=grants[uid].unit, assignee_id=uid, due_at=due_at) for uid in user_ids]
    for item in items:
        item.save()
        _event(item, action="issue", actor=actor, now=now, from_state="")
    audit_record(action="duty.issue", actor=actor, now=now, obj=duty, unit_path=unit.path,
                 role=_role(actor, unit.path),
                 detail={"title": title, "due_at": due_at.isoformat(), "units": unit_ids, "workers": user_ids,
                         "evidence": evidence})
    recipients = set(user_ids)
    for t in targets:
        recipients |= set(staff.field_workers_at(t.pk))
    if recipients:
        notify_users(user_ids=sorted(recipients), topic="duty.issued", title=f"新任务：{title}",
                     body=f"请在 {due_at:%Y-%m-%d} 前完成。", link="/workforce/my/",
                     dedupe_key=f"duty:{duty.pk}:issued", now=now)
    return duty


def _locked_item(item_id: Any) -> DutyItem:
    item = FLOW.lock(item_id)
    if item is None:
        raise NotFound()
    return item


def _check_photo(stream: IO[bytes]) -> tuple[bytes, str, str]:
    photo = check_photo(stream.read(MAX_PHOTO_BYTES + 1), max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
    return photo.data, photo.content_type, photo.ext


# --- duty items on the workflow engine ----------------------------------------------------------

@dataclass
class _Step(Step[DutyItem]):
    # The audit row's unit and detail, and what follows once the rows are written (the issuer's
    # notice, points), set by the handler.
    audit_path: str = ""
    audit_detail: dict[str, Any] | None = None
    then: list[Callable[[], None]] = field(default_factory=list)

    @property
    def item(self) -> DutyItem:
        return self.obj


def _done(step: _Step, *, text: str = "", photo: IO[bytes] | None = None) -> None:
    item, actor, now = step.item, step.actor, step.now
    need = item.duty_list.evidence
    text = _clean(text, limit=1000, label="完成情况", field="text",
                  required=need in (EvidenceKind.TEXT, EvidenceKind.TEXT_PHOTO), minimum=4)
    data: tuple[bytes, str, str] | None = None
    if photo is not None:
        data = _check_photo(photo)
    elif need in (EvidenceKind.PHOTO, EvidenceKind.TEXT_PHOTO):
        raise ValidationFailed("这项任务要求上传现场照片。", field="photo")
    item.done_at, item.done_by, item.evidence_text = now, actor, text
    if data is not None:
        content, content_type, ext = data
        item.evidence_photo.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(content), save=False)
        item.evidence_type, item.evidence_size = content_type, len(content)
    step.note = text[:200]
    step.audit_path = item.unit.path
    step.audit_detail = {"list": item.duty_list_id, "on_time": item.on_time, "photo": data is not None}

    def tell_issuer() -> None:
        if item.duty_list.issued_by_id:
            notify_users(user_ids=[item.duty_list.issued_by_id], topic="duty.done",
                         title=f"任务已完成待确认：{item.duty_list.title}", body=item.unit.name,
                         link=f"/workforce/lists/{item.duty_list_id}/",
                         dedupe_key=f"duty-item:{item.pk}:done:{item.version}", now=now)
    step.then.append(tell_issuer)


def _confirm(step: _Step) -> None:
    item, now = step.item, step.now
    item.confirmed_at, item.confirmed_by = now, step.actor
    step.audit_path = item.duty_list.unit.path
    step.audit_detail = {"on_time": item.on_time}

    def award() -> None:
        if item.on_time and item.done_by_id:
            points_award_event(worker_id=item.done_by_id, kind=PointKind.DUTY_ON_TIME, source_type="duty_item",
                               source_id=str(item.pk), at=item.done_at or now, now=now,
                               detail=item.duty_list.title)
    step.then.append(award)


def _return(step: _Step, *, reason: str = "") -> None:
    item, now = step.item, step.now
    reason = _clean(reason, limit=200, label="退回理由", field="reason", minimum=4)
    step.target = DutyItem.State.OVERDUE if item.due_at < now else DutyItem.State.ISSUED
    if step.target == DutyItem.State.OVERDUE and item.overdue_at is None:
        item.overdue_at = now
    item.done_at = None
    item.done_by = None
    step.note = reason
    step.audit_path = item.duty_list.unit.path
    step.audit_detail = {"reason": reason}


def _overdue(step: _Step) -> None:
    item, now = step.item, step.now
    item.overdue_at = now
    step.note = "超过完成期限，系统标记逾期"
    step.audit_path = item.unit.path

    def deduct() -> None:
        if item.assignee_id:
            points_award_event(worker_id=item.assignee_id, kind=PointKind.DUTY_OVERDUE, source_type="duty_item",
                               source_id=str(item.pk), at=item.due_at, now=now, detail=item.duty_list.title)
    step.then.append(deduct)


def _withdraw(step: _Step, *, reason: str = "") -> None:
    step.note = reason  # the list's audit row speaks for all its items


class DutyFlow(Workflow[DutyItem]):
    name = "duty"
    title = "Duty item workflow (责任清单任务)"
    statuses = duty_states.STATE_SPECS
    actions = duty_states.ACTIONS
    handlers = {"done": _done, "confirm": _confirm, "return": _return, "overdue": _overdue, "withdraw": _withdraw}
    initial = (DutyItem.State.ISSUED.value, "issue 下发")
    service = "gridgov.workforce.services.duty_item_done / duty_item_confirm / duty_item_return"
    status_attr = "state"
    status_key = "state"
    # "Not yours" before "already handed in", as the pages always said.
    authorize_first = True
    step_class: ClassVar[type[Step[Any]]] = _Step
    note = ("`overdue` is taken by the sweep (`duty_sweep`); `withdraw` by withdrawing the whole list "
            "(`duty_list_withdraw`), which writes one audit row for the list.")

    def scope(self, actor: User | None) -> Scope:
        return scope_for(actor)

    def lock(self, pk: Any) -> DutyItem | None:
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        return (DutyItem.dangerously_unscoped.select_for_update(of=("self",)).select_related("duty_list",
                                                                                             "duty_list__unit", "unit")
                .filter(pk=key).first())

    def visible(self, scope: Scope, obj: DutyItem) -> bool:
        return DutyItem.objects.within(scope).filter(pk=obj.pk).exists()

    def authorize(self, step: Step[DutyItem]) -> str:
        item, actor, code = step.obj, step.actor, step.action.code
        if code == "done":
            if item.assignee_id is not None:
                if actor is None or actor.pk != item.assignee_id:
                    raise PermissionDenied("这项任务是下发给指定网格员的，只能由本人完成。")
            elif not scope_for(actor).can(P.DUTY_DO, item.unit.path):
                raise PermissionDenied("您不能完成这项任务。")
            return _role(actor, item.unit.path)
        if actor is not None and not scope_for(actor).can(P.DUTY_ISSUE, item.duty_list.unit.path):
            raise PermissionDenied("只有下发单位可以确认或退回任务。")
        return _role(actor, item.duty_list.unit.path)

    def refusal(self, step: Step[DutyItem]) -> str:
        if step.action.code == "done":
            return "这项任务已经提交过了。" if step.obj.state != DutyItem.State.WITHDRAWN else "这项任务已撤回。"
        return super().refusal(step)

    def record(self, step: Step[DutyItem]) -> None:
        assert isinstance(step, _Step)
        item, code = step.item, step.action.code
        item.save()
        _event(item, action=code, actor=step.actor, now=step.now, from_state=step.before, note=step.note)
        if code != "withdraw":
            audit_record(action=f"duty.{code}", actor=step.actor, now=step.now, obj=item, unit_path=step.audit_path,
                         role=step.role, detail=step.audit_detail)
        for then in step.then:
            then()


FLOW = DutyFlow()


@transaction.atomic
def duty_item_done(*, actor: User | None, now: dt.datetime, item_id: Any, text: str = "",
                   photo: IO[bytes] | None = None) -> DutyItem:
    """The worker (or, for a unit's item, anyone doing duty work there) reports it done with the
    evidence the list asks for."""
    return FLOW.act(actor=actor, now=now, pk=item_id, action="done", params={"text": text, "photo": photo})


@transaction.atomic
def duty_item_confirm(*, actor: User | None, now: dt.datetime, item_id: Any) -> DutyItem:
    """The issuer accepts the evidence. On-time work (done by the due time, however late the
    confirmation) earns the on-time points of the rule in force."""
    return FLOW.act(actor=actor, now=now, pk=item_id, action="confirm", params={})


@transaction.atomic
def duty_item_return(*, actor: User | None, now: dt.datetime, item_id: Any, reason: str) -> DutyItem:
    """The issuer sends the work back (evidence not good enough); it is open again."""
    return FLOW.act(actor=actor, now=now, pk=item_id, action="return", params={"reason": reason})


@transaction.atomic
def duty_list_withdraw(*, actor: User | None, now: dt.datetime, list_id: Any, reason: str) -> DutyList:
    """The issuer calls a list back: its open items are withdrawn (done work stays on record)."""
    try:
        duty = DutyList.dangerously_unscoped.select_for_update().select_related("unit").filter(pk=int(list_id)).first()
    except (TypeError, ValueError):
        duty = None
    if duty is None or (actor is not None
                        and not DutyList.objects.within(scope_for(actor)).filter(pk=duty.pk).exists()):
        raise NotFound()
    if actor is not None:
        scope_for(actor).require(P.DUTY_ISSUE, duty.unit.path)
    reason = _clean(reason, limit=200, label="撤回理由", field="reason", minimum=4)
    if duty.withdrawn_at is not None:
        raise Conflict("这份清单已经撤回。")
    duty.withdrawn_at = now
    duty.save(update_fields=["withdrawn_at"])
    for item in DutyItem.dangerously_unscoped.select_for_update().filter(
            duty_list=duty, state__in=[DutyItem.State.ISSUED, DutyItem.State.OVERDUE]):
        FLOW.take(item, actor=actor, now=now, action="withdraw", role=_role(actor, duty.unit.path),
                  params={"reason": reason})
    audit_record(action="duty.withdraw", actor=actor, now=now, obj=duty, unit_path=duty.unit.path,
                 role=_role(actor, duty.unit.path), detail={"reason": reason})
    return duty


def duty_sweep(*, now: dt.datetime, limit: int = 2000) -> int:
    """Mark open items past their due time overdue (history, audit) and apply the overdue rule to
    named workers. Idempotent: an overdue item is not touched again."""
    ids = list(DutyItem.dangerously_unscoped.filter(state=DutyItem.State.ISSUED, due_at__lt=now)
               .order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
    marked = 0
    for pk in ids:
        with transaction.atomic():
            item = _locked_item(pk)
            if item.state != DutyItem.State.ISSUED or item.due_at >= now:
                continue
            FLOW.take(item, actor=None, now=now, action="overdue", role="system")
            marked += 1
    return marked


# --- points ------------------------------------------------------------------------------------

def rule_in_force(unit: Unit, kind: str) -> PointRule | None:
    """The active rule of this kind set nearest above (or at) the unit: a township's own rule
    overrides the county's."""
    ids = unit.path_ids()
    rules = {r.unit_id: r for r in PointRule.dangerously_unscoped.filter(unit_id__in=ids, kind=kind)}
    for uid in reversed(ids):
        rule = rules.get(uid)
        if rule is not None:
            return rule if rule.is_active else None
    return None


def points_award_event(*, worker_id: int, kind: str, source_type: str, source_id: str, at: dt.datetime,
                       now: dt.datetime, detail: str = "", unit_id: int | None = None) -> PointEntry | None:
    """THE hook: a workflow fact (a visit logged, a case self-handled, a duty item confirmed…)
    scores the worker by the rule in force, within the rule's monthly cap.

    Idempotent per (worker, kind, source): feeding the same fact twice returns the first entry.
    Returns None when the person is not an assessed worker or no rule of that kind is in force.
    Reaching the cap still writes a 0-point entry saying so, so the worker sees why."""
    if kind not in PointKind.values:
        raise ValueError(f"unknown point kind {kind}")
    source_id = str(source_id)[:40]
    with transaction.atomic():
        # One worker's awards are serialised: the cap is read and written under this lock.
        if not User.objects.select_for_update().filter(pk=worker_id).exists():
            return None
        existing = PointEntry.dangerously_unscoped.filter(worker_id=worker_id, kind=kind,
                                                          source=PointEntry.Source.EVENT,
                                              source_type=source_type, source_id=source_id).first()
        if existing is not None:
            return existing
        unit = Unit.dangerously_unscoped.filter(pk=unit_id).first() if unit_id else staff.worker_grid(worker_id)
        if unit is None:
            return None
        rule = rule_in_force(unit, kind)
        if rule is None:
            return None
        month = month_of(at)
        points = rule.points
        label = PointKind(kind).label
        reason = f"{label}：{detail}" if detail else label
        if rule.monthly_cap is not None:
            so_far = PointEntry.dangerously_unscoped.filter(worker_id=worker_id, month=month, kind=kind,
                                                source=PointEntry.Source.EVENT).aggregate(s=Sum("points"))["s"] or 0
            room = max(0, rule.monthly_cap - abs(so_far))
            if abs(points) > room:
                points = room if points > 0 else -room
                reason = f"{reason}（本月已达上限 {rule.monthly_cap} 分）" if room == 0 else \
                    f"{reason}（按本月上限 {rule.monthly_cap} 分计）"
        try:
            with transaction.atomic():
                return PointEntry.dangerously_unscoped.create(
                    worker_id=worker_id, unit=unit, at=at, month=month, source=PointEntry.Source.EVENT, kind=kind,
                    rule=rule, points=points, reason=reason[:200], source_type=source_type[:24],
                    source_id=source_id, created_at=now)
        except IntegrityError:
            return PointEntry.dangerously_unscoped.filter(worker_id=worker_id, kind=kind,
                                                          source=PointEntry.Source.EVENT,
                                              source_type=source_type, source_id=source_id).first()


@transaction.atomic
def points_adjust(*, actor: User | None, now: dt.datetime, worker_id: Any, points: Any, reason: str,
                  corrects_id: Any = None) -> PointEntry:
    """A manual award (加分) or deduction (减分) by the office, with a reason; audited. A correction
    of an earlier entry is another entry naming it."""
    try:
        worker_pk = int(worker_id)
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc
    unit = staff.worker_grid(worker_pk)
    if unit is None:
        raise NotFound()
    scope = scope_for(actor) if actor is not None else None
    if scope is not None:
        scope.require(P.POINTS_MANAGE, unit.path)
    try:
        value = int(str(points).strip())
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("分值必须是整数，例如 5 或 -3。", field="points") from exc
    if value == 0 or abs(value) > 100:
        raise ValidationFailed("分值须在 -100 到 100 之间，且不能为 0。", field="points")
    reason = _clean(reason, limit=200, label="加减分理由", field="reason", minimum=4)
    corrects = None
    if corrects_id not in (None, ""):
        try:
            corrects = PointEntry.dangerously_unscoped.filter(pk=int(corrects_id), worker_id=worker_pk).first()
        except (TypeError, ValueError):
            corrects = None
        if corrects is None:
            raise ValidationFailed("要更正的积分记录不存在。", field="corrects")
    entry = PointEntry.dangerously_unscoped.create(
        worker_id=worker_pk, unit=unit, at=now, month=month_of(now), source=PointEntry.Source.MANUAL,
        kind="", points=value, reason=reason, corrects=corrects, created_by=actor, created_at=now)
    audit_record(action="points.adjust", actor=actor, now=now, obj=entry, unit_path=unit.path,
                 role=_role(actor, unit.path),
                 detail={"worker": worker_pk, "points": value, "reason": reason,
                         "corrects": corrects.pk if corrects else None})
    notify_users(user_ids=[worker_pk], topic="points.adjust",
                 title=f"积分{'增加' if value > 0 else '扣减'} {abs(value)} 分",
                 body=reason, link="/workforce/my/", dedupe_key=f"points:{entry.pk}", now=now)
    return entry


@transaction.atomic
def rule_save(*, actor: User | None, now: dt.datetime, unit_id: Any, kind: str, points: Any, monthly_cap: Any = None,
              is_active: bool = True) -> PointRule:
    """Create or change the unit's rule of a kind; audited with the old and new values."""
    unit = _unit(unit_id)
    if actor is not None:
        scope_for(actor).require(P.POINTS_MANAGE, unit.path)
    if kind not in PointKind.values:
        raise ValidationFailed("请选择记分事项。", field="kind")
    try:
        value = int(str(points).strip())
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("分值必须是整数，例如 2 或 -2。", field="points") from exc
    if value == 0 or abs(value) > 100:
        raise ValidationFailed("分值须在 -100 到 100 之间，且不能为 0。", field="points")
    cap: int | None = None
    if monthly_cap not in (None, ""):
        try:
            cap = int(str(monthly_cap).strip())
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("每月上限必须是整数，不限请留空。", field="monthly_cap") from exc
        if cap <= 0 or cap > 1000:
            raise ValidationFailed("每月上限须在 1 到 1000 之间，不限请留空。", field="monthly_cap")
    rule = PointRule.dangerously_unscoped.select_for_update().filter(unit=unit, kind=kind).first()
    old = None if rule is None else {"points": rule.points, "monthly_cap": rule.monthly_cap,
                                     "is_active": rule.is_active}
    if rule is None:
        rule = PointRule(unit=unit, kind=kind)
    rule.points, rule.monthly_cap, rule.is_active = value, cap, bool(is_active)
    rule.updated_at, rule.updated_by = now, actor
    rule.save()
    audit_record(action="points.rule_save", actor=actor, now=now, obj=rule, unit_path=unit.path,
                 role=_role(actor, unit.path),
                 detail={"kind": kind, "old": old, "new": {"points": value, "monthly_cap": cap,
                                                           "is_active": bool(is_active)}})
    return rule


# --- the monthly assessment --------------------------------------------------------------------

def setting_for(unit: Unit) -> AssessmentSetting:
    """The nearest setting up the hierarchy, or the defaults (unsaved)."""
    ids = unit.path_ids()
    found = {s.unit_id: s for s in AssessmentSetting.dangerously_unscoped.filter(unit_id__in=ids)}
    for uid in reversed(ids):
        if uid in found:
            return found[uid]
    return AssessmentSetting(unit=unit, updated_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


@transaction.atomic
def setting_save(*, actor: User | None, now: dt.datetime, unit_id: Any, base: Any, duty_weight: Any, floor: Any,
                 commend_count: Any) -> AssessmentSetting:
    unit = _unit(unit_id)
    if actor is not None:
        scope_for(actor).require(P.POINTS_MANAGE, unit.path)
    values: dict[str, int] = {}
    for name, raw, label, top in (("base", base, "基础分", 1000), ("duty_weight", duty_weight, "完成率权重", 100),
                                  ("floor", floor, "合格线", 1000), ("commend_count", commend_count, "表扬人数", 50)):
        try:
            values[name] = int(str(raw).strip())
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"{label}必须是整数。", field=name) from exc
        if not 0 <= values[name] <= top:
            raise ValidationFailed(f"{label}须在 0 到 {top} 之间。", field=name)
    setting = AssessmentSetting.dangerously_unscoped.select_for_update().filter(unit=unit).first()
    old = None if setting is None else {k: getattr(setting, k) for k in values}
    setting = setting or AssessmentSetting(unit=unit)
    for k, v in values.items():
        setattr(setting, k, v)
    setting.updated_at, setting.updated_by = now, actor
    setting.save()
    audit_record(action="assessment.setting_save", actor=actor, now=now, obj=setting, unit_path=unit.path,
                 role=_role(actor, unit.path), detail={"old": old, "new": values})
    return setting


@dataclass
class Published:
    assessment: Assessment
    rows: int


@transaction.atomic
def assessment_publish(*, actor: User | None, now: dt.datetime, unit_id: Any, month: dt.date,
                       note: str = "") -> Published:
    """Freeze a finished month's ranking and publish the circular (通报) to everyone assessed."""
    from .assessment import compute

    unit = _unit(unit_id)
    if actor is not None:
        scope_for(actor).require(P.POINTS_MANAGE, unit.path)
    if month >= month_of(now):
        raise ValidationFailed("本月还没有结束，不能发布考核结果。", field="month")
    note = _clean(note, limit=500, label="通报说明", field="note", required=False)
    if Assessment.dangerously_unscoped.filter(unit=unit, month=month).exists():
        raise Conflict(f"{unit.name} {month:%Y年%m月} 的考核已经发布。")
    result = compute(unit, month)
    setting = result.setting
    assessment = Assessment.objects.create(unit=unit, month=month, base=setting.base,
                                           duty_weight=setting.duty_weight, floor=setting.floor,
                                           commend_count=setting.commend_count, published_at=now,
                                           published_by=actor, note=note)
    rows = [AssessmentRow(assessment=assessment, kind=AssessmentRow.Kind.WORKER, worker_id=r.worker_id,
                          unit_id=r.unit_id,
                          name=r.name, grid_name=r.grid_name, points=r.points, items_due=r.items_due,
                          items_on_time=r.items_on_time, score=r.score, rank=r.rank, band=r.band)
            for r in result.workers]
    rows += [AssessmentRow(assessment=assessment, kind=AssessmentRow.Kind.GRID, unit_id=r.unit_id, name=r.name,
                           grid_name=r.grid_name, points=r.points, items_due=r.items_due,
                           items_on_time=r.items_on_time, score=r.score, rank=r.rank, band=r.band)
             for r in result.grids]
    AssessmentRow.objects.bulk_create(rows)
    audit_record(action="assessment.publish", actor=actor, now=now, obj=assessment, unit_path=unit.path,
                 role=_role(actor, unit.path),
                 detail={"month": f"{month:%Y-%m}", "workers": len(result.workers), "grids": len(result.grids)})
    workers = [r.worker_id for r in result.workers if r.worker_id]
    if workers:
        notify_users(user_ids=workers, topic="assessment.published", title=f"{unit.name}{month:%Y年%m月}考核通报已发布",
                     link="/workforce/my/", dedupe_key=f"assessment:{assessment.pk}", now=now)
    return Published(assessment, len(rows))


# --- feeds from other workflows (the wiring lives in processes/points_feed.py) -----------

def feed_window(*, name: str, now: dt.datetime, start: dt.datetime,
                overlap: dt.timedelta = dt.timedelta(minutes=30)) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) for the next run of a feed: from a little before the saved position (late
    commits are not missed) up to now."""
    from .models import FeedCursor

    cursor = FeedCursor.objects.filter(name=name).first()
    since = (cursor.position - overlap) if cursor else start
    return since, now


def feed_advance(*, name: str, until: dt.datetime, now: dt.datetime) -> None:
    from .models import FeedCursor

    FeedCursor.objects.update_or_create(name=name, defaults={"position": until, "updated_at": now})
