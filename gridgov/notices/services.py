"""Notices' writes: create a notice, send it (one delivery row per household of its scope, in one
INSERT … SELECT), approve, close, a worker marking a household reached, and the resident's link and reply.

Every status change goes through the workflow engine (`NoticeFlow`, core/workflow.py); marks and replies
are single conditional UPDATEs on the delivery row, so a second mark of the same household is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.expressions import RawSQL

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.core.workflow import Step, Workflow
from gridgov.residents.models import Household, HouseholdStatus, TagAssignment
from gridgov.units.models import Unit

from . import states
from .models import REACH_HOURS, Delivery, Grade, Notice, NoticeEvent, NoticeUnit, Reply

MARKS = {Delivery.How.PHONE, Delivery.How.DOOR, Delivery.How.GROUP}


def approval_needed(notice: Notice) -> bool:
    """Settings NOTICE_APPROVAL: {"grades": [...], "county_wide": bool}; default 特急 and county-wide."""
    rule = getattr(settings, "NOTICE_APPROVAL", {"grades": [Grade.CRITICAL], "county_wide": True})
    if notice.grade in rule.get("grades", ()):
        return True
    if rule.get("county_wide"):
        return NoticeUnit.objects.filter(notice=notice, unit__kind__base="county").exists()
    return False


def _role(actor: Any, path: str) -> str:
    return scope_for(actor).role_at(path) if actor is not None else "system"


def _check_targets(scope: Scope, targets: list[Unit]) -> None:
    for unit in targets:
        if not scope.can(P.NOTICE_SEND, unit.path):
            raise ValidationFailed(f"「{unit.name}」不在您的管辖范围内，不能向那里发通知。", field="units")


def _deliveries_insert(notice: Notice) -> int:
    """One INSERT … SELECT: every active household of the scope units' subtrees (by materialised path),
    optionally only those with one of the key-group tags; a random token made by the database."""
    paths = list(NoticeUnit.objects.filter(notice=notice).values_list("unit_path", flat=True))
    where = Q(pk__in=[])
    for p in paths:
        where |= Q(unit__path__startswith=p)
    households = Household.dangerously_unscoped.filter(where, status=HouseholdStatus.ACTIVE)
    if notice.tag_codes:
        tagged = TagAssignment.dangerously_unscoped.filter(
            Q(household_id=OuterRef("pk")) | Q(resident__household_id=OuterRef("pk")),
            tag__code__in=notice.tag_codes, end_date__isnull=True)
        households = households.filter(Exists(tagged))
    token_sql = ("replace(gen_random_uuid()::text, '-', '')" if connection.vendor == "postgresql"
                 else "lower(hex(randomblob(16)))")
    select = households.order_by().values_list(
        Value(notice.pk), F("pk"), F("unit_id"), F("unit__path"), Value(Delivery.State.PENDING),
        Value(""), Value(""), RawSQL(token_sql, ()))  # noqa: S611  # a constant per vendor, no input
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Delivery._meta.db_table)
    columns = ", ".join(quote(c) for c in ("notice_id", "household_id", "unit_id", "unit_path", "state", "how",
                                           "reason", "token"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
        return int(cursor.rowcount)


class NoticeFlow(Workflow[Notice]):
    name = "notice"
    title = "Notice workflow (通知传达)"
    statuses = states.STATUS_SPECS
    actions = states.ACTIONS
    initial = (Notice.Status.DRAFT.value, "create 起草")
    service = "gridgov.notices.services.notice_send / notice_approve / notice_close"
    note = ("`send` leads to `pending` when the notice needs approval (settings NOTICE_APPROVAL: 特急 and "
            "county-wide by default), otherwise to `sent`; reaching `sent` creates the delivery rows in one "
            "INSERT … SELECT.")

    def scope(self, actor: Any) -> Scope:
        return scope_for(actor)

    def lock(self, pk: Any) -> Notice | None:
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        return Notice.dangerously_unscoped.select_for_update().filter(pk=key).first()

    def visible(self, scope: Scope, obj: Notice) -> bool:
        return Notice.objects.within(scope).filter(pk=obj.pk).exists()

    def authorize(self, step: Step[Notice]) -> str:
        notice, actor = step.obj, step.actor
        if actor is None:
            return "system"
        if not scope_for(actor).can(step.action.perm, notice.unit_path):
            raise PermissionDenied("您不能对这条通知进行此操作。")
        return _role(actor, notice.unit_path)

    def record(self, step: Step[Notice]) -> None:
        notice = step.obj
        notice.save()
        NoticeEvent.objects.create(notice=notice, action=step.action.code, from_status=step.before,
                                   to_status=notice.status, actor=step.actor, role=step.role, note=step.note[:200],
                                   at=step.now)
        audit_record(action=f"notice.{step.action.code}", actor=step.actor, now=step.now, obj=notice,
                     unit_path=notice.unit_path, role=step.role, detail={"status": notice.status, **step.detail})


def _go_out(step: Step[Notice]) -> None:
    notice = step.obj
    if step.actor is not None:
        targets = [t.unit for t in NoticeUnit.objects.filter(notice=notice).select_related("unit")]
        _check_targets(scope_for(step.actor), targets)
    notice.households = _deliveries_insert(notice)
    notice.sent_at = step.now
    step.target = Notice.Status.SENT
    step.detail["households"] = notice.households


def _send(step: Step[Notice]) -> None:
    if approval_needed(step.obj):
        step.target = Notice.Status.PENDING
        step.note = "全县范围或特急通知，送审核"
        return
    _go_out(step)


def _approve(step: Step[Notice]) -> None:
    if step.actor is not None and step.actor.pk == step.obj.created_by_id:
        raise ValidationFailed("需要由发出人以外的另一人审核。", field="action")
    step.obj.approved_by = step.actor
    _go_out(step)


def _reject(step: Step[Notice], reason: str = "") -> None:
    step.note = (reason or "").strip()[:200]


def _close(step: Step[Notice]) -> None:
    step.obj.closed_at = step.now
    counts = _counts(step.obj)
    step.detail.update(counts)


def _withdraw(step: Step[Notice]) -> None:
    pass


def _counts(notice: Notice) -> dict[str, int]:
    rows = Delivery.dangerously_unscoped.filter(notice=notice).values_list("state", flat=True)
    out = {"households": 0, "reached": 0, "unreachable": 0}
    for state in rows:
        out["households"] += 1
        if state in out:
            out[state] += 1
    return out


NoticeFlow.handlers = {"send": _send, "approve": _approve, "reject": _reject, "close": _close,
                       "withdraw": _withdraw}
FLOW = NoticeFlow()


@transaction.atomic
def notice_create(*, actor: User, now: dt.datetime, unit_id: Any, title: str, text: str, grade: str = Grade.NORMAL,
                  unit_ids: list[Any], tag_codes: list[str] | None = None, reply_asked: bool = False) -> Notice:
    """A draft notice from the office (or grid head) of `unit_id` to the households of `unit_ids`."""
    scope = scope_for(actor)
    unit = Unit.objects.within(scope).filter(pk=unit_id).first() if str(unit_id).isdecimal() else None
    if unit is None:
        raise NotFound()
    if not scope.can(P.NOTICE_SEND, unit.path):
        raise PermissionDenied("您没有发通知的权限。")
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        raise ValidationFailed("请填写通知标题。", field="title")
    if len(title) > 80:
        raise ValidationFailed("标题请不要超过80个字。", field="title")
    if not text:
        raise ValidationFailed("请填写通知内容。", field="text")
    if len(text) > 4000:
        raise ValidationFailed("通知内容请不要超过4000字。", field="text")
    if grade not in Grade.values:
        raise ValidationFailed("请选择紧急程度。", field="grade")
    ids = sorted({int(i) for i in unit_ids if str(i).isdecimal()})
    if not ids:
        raise ValidationFailed("请选择通知范围。", field="units")
    targets = list(Unit.dangerously_unscoped.filter(pk__in=ids))
    if len(targets) != len(ids):
        raise ValidationFailed("通知范围里有不存在的单位。", field="units")
    _check_targets(scope, targets)
    for t in targets:
        if not t.path.startswith(unit.path):
            raise ValidationFailed(f"「{t.name}」不在发出单位「{unit.name}」之内。", field="units")
    notice = Notice.dangerously_unscoped.create(
        unit=unit, unit_path=unit.path, title=title, text=text, grade=grade, reach_hours=REACH_HOURS[grade],
        tag_codes=sorted(set(tag_codes or [])), reply_asked=bool(reply_asked), created_by=actor, created_at=now,
        updated_at=now)
    NoticeUnit.objects.bulk_create([NoticeUnit(notice=notice, unit=t, unit_path=t.path) for t in targets])
    NoticeEvent.objects.create(notice=notice, action="create", to_status=notice.status, actor=actor,
                               role=_role(actor, unit.path), at=now)
    audit_record(action="notice.create", actor=actor, now=now, obj=notice, unit_path=unit.path,
                 role=_role(actor, unit.path), detail={"grade": grade, "units": ids})
    return notice


@transaction.atomic
def notice_send(*, actor: User, now: dt.datetime, notice_id: Any) -> Notice:
    """Send a draft: to approval when needed, otherwise one delivery row per household of the scope."""
    return FLOW.act(actor=actor, now=now, pk=notice_id, action="send", params={})


@transaction.atomic
def notice_approve(*, actor: User, now: dt.datetime, notice_id: Any) -> Notice:
    return FLOW.act(actor=actor, now=now, pk=notice_id, action="approve", params={})


@transaction.atomic
def notice_reject(*, actor: User, now: dt.datetime, notice_id: Any, reason: str = "") -> Notice:
    return FLOW.act(actor=actor, now=now, pk=notice_id, action="reject", params={"reason": reason})


@transaction.atomic
def notice_close(*, actor: User, now: dt.datetime, notice_id: Any) -> Notice:
    return FLOW.act(actor=actor, now=now, pk=notice_id, action="close", params={})


# --- reach -----------------------------------------------------------------------------------------

def _done_message(d: Delivery) -> str:
    who = d.by.display_name if d.by is not None else "本户"
    when = d.at.strftime("%m月%d日 %H:%M") if d.at else ""
    return f"这一户已经登记过了：{d.get_how_display() or d.get_state_display()}（{who}，{when}）。"


@transaction.atomic
def delivery_mark(*, actor: User, now: dt.datetime, delivery_id: Any, how: str, reason: str = "") -> Delivery:
    """A worker of the household's grid (or above) marks it reached by phone, at the door or in the
    group, or unreachable with a reason. A second mark of the same household is refused."""
    scope = scope_for(actor)
    try:
        key = int(delivery_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    delivery = (Delivery.objects.within(scope).select_for_update(of=("self",)).select_related("notice")
                .filter(pk=key).first())
    if delivery is None:
        raise NotFound()
    if not scope.can(P.NOTICE_REACH, delivery.unit_path):
        raise PermissionDenied("只有本网格的网格员可以登记。")
    if delivery.notice.status != Notice.Status.SENT:
        raise Conflict("这条通知已经结束传达，不能再登记。")
    reason = (reason or "").strip()
    if how == "unreachable":
        if not reason:
            raise ValidationFailed("请写明无法联系的原因。", field="reason")
        state, how_code = Delivery.State.UNREACHABLE, ""
    elif how in MARKS:
        state, how_code, reason = Delivery.State.REACHED, how, ""
    else:
        raise ValidationFailed("请选择告知方式。", field="how")
    if delivery.state != Delivery.State.PENDING:
        raise Conflict(_done_message(delivery))
    delivery.state, delivery.how, delivery.reason, delivery.by, delivery.at = state, how_code, reason[:200], actor, now
    delivery.save(update_fields=["state", "how", "reason", "by", "at"])
    audit_record(action="notice.mark", actor=actor, now=now, obj=delivery, unit_path=delivery.unit_path,
                 role=_role(actor, delivery.unit_path), detail={"notice": delivery.notice_id, "state": state,
                                                                 "how": how_code})
    return delivery


def _by_token(token: str) -> Delivery:
    text = str(token or "")
    if not (8 <= len(text) <= 40) or not text.isalnum():
        raise NotFound()
    delivery = (Delivery.dangerously_unscoped.select_for_update(of=("self",)).select_related("notice")
                .filter(token=text).first())
    if delivery is None or delivery.notice.status not in (Notice.Status.SENT, Notice.Status.CLOSED):
        raise NotFound()
    return delivery


def _reach_self(delivery: Delivery, *, how: str, now: dt.datetime) -> None:
    if delivery.state == Delivery.State.PENDING and delivery.notice.status == Notice.Status.SENT:
        Delivery.dangerously_unscoped.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
            state=Delivery.State.REACHED, how=how, at=now
        )
        delivery.state, delivery.how, delivery.at = Delivery.State.REACHED, how, now
        audit_record(
            action="notice.reach_self",
            actor=None,
            now=now,
            obj=delivery,
            unit_path=delivery.unit_path,
            role="resident",
            detail={"notice": delivery.notice_id, "how": how},
        )


@transaction.atomic
def public_open(*, now: dt.datetime, token: str) -> Delivery:
    """A resident opens the household's link: the household counts as reached."""
    delivery = _by_token(token)
    _reach_self(delivery, how=Delivery.How.LINK, now=now)
    return delivery


@transaction.atomic
def public_reply(*, now: dt.datetime, token: str, kind: str, text: str = "") -> Reply:
    """收到, or 有困难 with a short text, through the household's link (counts as reached)."""
    delivery = _by_token(token)
    if delivery.notice.status != Notice.Status.SENT:
        raise Conflict("这条通知已经结束，不能再回复。")
    if kind not in Reply.Kind.values:
        raise ValidationFailed("请选择“收到”或“有困难”。", field="kind")
    text = (text or "").strip()
    if kind == Reply.Kind.DIFFICULTY and not text:
        raise ValidationFailed("请简单写一下有什么困难。", field="text")
    if len(text) > 200:
        raise ValidationFailed("困难说明请不要超过200个字。", field="text")
    if Reply.dangerously_unscoped.filter(delivery=delivery).exists():
        raise Conflict("这一户已经回复过了，谢谢！如有新情况请联系网格员。")
    reply = Reply.dangerously_unscoped.create(
        delivery=delivery,
        notice=delivery.notice,
        unit_path=delivery.unit_path,
        kind=kind,
        text=text if kind == Reply.Kind.DIFFICULTY else "",
        at=now,
    )
    _reach_self(delivery, how=Delivery.How.RECEIPT, now=now)
    audit_record(
        action="notice.reply",
        actor=None,
        now=now,
        obj=reply,
        unit_path=delivery.unit_path,
        role="resident",
        detail={"notice": delivery.notice_id, "kind": kind},
    )
    return reply


@transaction.atomic
def reply_case_linked(*, actor: User, now: dt.datetime, reply_id: Any, case_number: str) -> Reply:
    """Record the case a 有困难 reply became (the process `notice_reply_to_case` calls this)."""
    scope = scope_for(actor)
    reply = Reply.objects.within(scope).select_for_update().filter(pk=reply_id).first()
    if reply is None:
        raise NotFound()
    if reply.case_number:
        raise Conflict(f"这条回复已经转为事件 {reply.case_number}。")
    reply.case_number, reply.handled_by = case_number, actor
    reply.save(update_fields=["case_number", "handled_by"])
    audit_record(
        action="notice.reply_case",
        actor=actor,
        now=now,
        obj=reply,
        unit_path=reply.unit_path,
        role=_role(actor, reply.unit_path),
        detail={"case": case_number},
    )
    return reply
