"""Write paths of mediation: taking up a dispute (`mediation_register`), the ONE locked transition
service (`mediation_act`), the audited view of the parties in full and the audited print of the
agreement. Each runs in one transaction and writes its row, its history row and its audit row
together; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.db import transaction

from gridgov.access.models import Department, Grant, User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.clock import local
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.core.workflow import Action as WorkflowAction
from gridgov.core.workflow import Step, Workflow
from gridgov.residents import idnumber, phones
from gridgov.units.models import GRID_BASE_KINDS, TOWNSHIP_BASE_KINDS, Unit
from gridgov.units.selectors import county_of

from . import sealing
from .models import (
    DEADLINE_DAYS,
    MAX_EXTENSION_DAYS,
    MODE_LEVELS,
    DisputeType,
    Fulfilment,
    Level,
    MediationCase,
    MediationCounter,
    MediationEvent,
    MediationParty,
    MediationSession,
    Mode,
    PartyRole,
    ReferralChannel,
    Source,
)
from .states import ACTIONS, STATUS_SPECS, Action, Status

MAX_PARTIES = 10
UNMASK_REASON_MIN = 4
_VILLAGE_LEVEL_BASES = frozenset({"village", "community", "area"})


# --- small helpers ----------------------------------------------------------------------------

# The field cleaners are core.cleaning's (one module for input cleaning); these keep the service's call shape.
def _text(value: Any, *, field_name: str, label: str, required: bool, max_len: int) -> str:
    return cleaning.text(value, field=field_name, label=label, max_length=max_len, required=required, reject_nul=True)


def _choice(value: Any, choices: Any, *, field_name: str, label: str) -> str:
    return cleaning.choice(value, choices, field=field_name, label=label)


def _date(value: Any, *, field_name: str, label: str, required: bool) -> dt.date | None:
    return cleaning.optional_date(value, field=field_name, label=label, required=required)


def _int(value: Any, *, field_name: str, message: str) -> int:
    return cleaning.integer(value, field=field_name, message=message)


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "on", "yes")


def _next_number(*, county: Unit, year: int, kind: str) -> str:
    """140225-2026-TJ00012 (a mediation case) or 140225-2026-XY00003 (an agreement), per county and year."""
    counter, _ = MediationCounter.objects.select_for_update().get_or_create(county=county, year=year, kind=kind)
    counter.last += 1
    counter.save(update_fields=["last"])
    prefix = (county.division_code or "")[:6] or str(county.pk)
    return f"{prefix}-{year}-{kind}{counter.last:05d}"


def committee_for(unit: Unit, level: str) -> Unit:
    """The unit whose committee or office mediates at this level: the grid itself, the village (or
    community, area) above it, or the township above it (also for the 司法所)."""
    if level == Level.GRID:
        if unit.kind.base not in GRID_BASE_KINDS:
            raise ValidationFailed("网格调解只能用于网格内的纠纷，请选择网格或改选调委会。", field="level")
        return unit
    bases = _VILLAGE_LEVEL_BASES if level == Level.VILLAGE else TOWNSHIP_BASE_KINDS
    found = (Unit.dangerously_unscoped.select_related("kind").filter(pk__in=unit.path_ids(), kind__base__in=bases)
             .order_by("-depth").first())
    if found is None:
        label = "村（社区）" if level == Level.VILLAGE else "乡镇（街道）"
        raise ValidationFailed(f"所选单位不在任何{label}之下，请改选调解层级。", field="level")
    return found


def _holds_at(user_id: int, path: str, perm: str) -> bool:
    grants = Grant.dangerously_unscoped.filter(user_id=user_id, revoked_at__isnull=True, unit__is_active=True,
                                   user__is_active=True).select_related("unit", "role")
    return any(path.startswith(g.unit.path) and perm in g.role.permissions for g in grants)


def _presiding(raw: Any, committee: Unit) -> Any:
    from gridgov.access.models import User

    pk = _int(raw, field_name="presiding_id", message="请选择调解主持人。")
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not _holds_at(user.pk, committee.path, P.MEDIATION_HANDLE):
        raise ValidationFailed("调解主持人须是本调委会（或上级）有调解职责的人员。", field="presiding_id")
    return user


def _append_event(m: MediationCase, *, action: str, at: dt.datetime, actor: User | None, role: str, from_status: str,
                  note: str = "", due_before: dt.datetime | None = None, detail: dict[str, Any] | None = None
                  ) -> MediationEvent:
    seq = (MediationEvent.dangerously_unscoped.filter(mediation=m).order_by("-seq").values_list("seq",
                                                                                                flat=True).first()
           or 0) + 1
    return MediationEvent.dangerously_unscoped.create(
        mediation=m, seq=seq, action=action, at=at, actor=actor if actor is not None else None, actor_role=role,
        from_status=from_status, to_status=m.status, note=note, due_before=due_before, due_after=m.due_at,
        detail=detail or {},
    )


# --- taking up a dispute (受理) ------------------------------------------------------------------

@dataclass(frozen=True)
class PartyIn:
    role: str
    name: str
    phone: str = ""
    id_number: str = ""


def _clean_parties(raw: Any, today: dt.date) -> list[PartyIn]:
    if not isinstance(raw, list | tuple) or not all(isinstance(p, dict) for p in raw):
        raise ValidationFailed("当事人信息格式不正确。", field="parties")
    # Blank rows of the form (a third line left empty) are skipped.
    rows = [p for p in raw if any(str(p.get(k) or "").strip() for k in ("name", "phone", "id_number"))]
    if len(rows) < 2:
        raise ValidationFailed("纠纷至少要有两方当事人，请填写双方姓名。", field="parties")
    if len(rows) > MAX_PARTIES:
        raise ValidationFailed(f"当事人最多 {MAX_PARTIES} 人。", field="parties")
    clean: list[PartyIn] = []
    for i, p in enumerate(rows, start=1):
        role = str(p.get("role") or "").strip()
        if role not in PartyRole.values:
            raise ValidationFailed(f"请选择第 {i} 位当事人的身份（申请人、被申请人或第三人）。", field="parties")
        name = _text(p.get("name"), field_name="parties", label=f"第 {i} 位当事人的姓名", required=True,
                     max_len=40)
        try:
            phone = phones.normalize(p.get("phone") or "")
        except ValidationFailed as exc:
            raise ValidationFailed(f"第 {i} 位当事人的{exc.message}", field="parties") from exc
        id_raw = str(p.get("id_number") or "").strip()
        id_number = ""
        if id_raw:
            try:
                id_number = idnumber.parse(id_raw, today=today).number
            except ValidationFailed as exc:
                raise ValidationFailed(f"第 {i} 位当事人的{exc.message}", field="parties") from exc
        clean.append(PartyIn(role=role, name=name, phone=phone, id_number=id_number))
    if not {PartyRole.APPLICANT, PartyRole.RESPONDENT} <= {p.role for p in clean}:
        raise ValidationFailed("请至少填写一位申请人和一位被申请人。", field="parties")
    return clean


class CaseCheck(Protocol):
    """The referral check (转调解), handed in by the referral process (workflow apps never import each
    other): the case exists, is in the actor's scope, may be referred and is not referred yet. Returns
    the case's id and number; raises a DomainError to refuse (nothing is then written)."""

    def __call__(self, *, actor: User | None, now: dt.datetime, case_id: int, case_number: str) -> tuple[int, str]: ...


@transaction.atomic
def mediation_register(
    *,
    actor: User | None,
    now: dt.datetime,
    title: str,
    summary: str,
    dispute_type: str,
    source: str,
    mode: str,
    level: str,
    unit_id: Any,
    parties: Any,
    presiding_id: Any = None,
    source_case_id: Any = None,
    source_case_number: str = "",
    source_department_id: Any = None,
    check_case: CaseCheck | None = None,
) -> MediationCase:
    """受理: register a dispute found by a grid worker, applied for by a party, referred from a case
    (转调解) or handed over by a department. The 30-day clock starts now. A referral names its case
    only through `check_case` (the referral process, gridgov/processes/mediation_referral.py), run in
    this transaction; without it a case source is refused."""
    scope = scope_for(actor) if actor is not None else None
    if scope is not None and not scope.can(P.MEDIATION_REGISTER):
        raise PermissionDenied("您没有登记矛盾纠纷的权限。")
    title = _text(title, field_name="title", label="纠纷名称", required=True, max_len=80)
    summary = _text(summary, field_name="summary", label="纠纷简要情况", required=True, max_len=4000)
    dispute_type = _choice(dispute_type, DisputeType, field_name="dispute_type", label="纠纷类型")
    source = _choice(source, Source, field_name="source", label="纠纷来源")
    mode = _choice(mode, Mode, field_name="mode", label="调解方式")
    level = _choice(level, Level, field_name="level", label="调解层级")
    if level not in MODE_LEVELS[mode]:
        allowed = "、".join(Level(v).label for v in Level.values if v in MODE_LEVELS[mode])
        raise ValidationFailed(f"{Mode(mode).label}应由{allowed}主持，请改选调解层级。", field="level")
    pk = _int(unit_id, field_name="unit_id", message="请选择纠纷所在的网格或村。")
    unit = Unit.dangerously_unscoped.select_related("kind").filter(pk=pk, is_active=True).first()
    if unit is None or (scope is not None and not scope.can(P.MEDIATION_REGISTER, unit.path)):
        raise ValidationFailed("所选单位不存在或不在您的范围内。", field="unit_id")
    committee = committee_for(unit, level)
    clean_parties = _clean_parties(parties, local(now).date())
    case_id: int | None = None
    case_number = ""
    department: Department | None = None
    if source == Source.CASE:
        case_id = _int(source_case_id, field_name="source_case_id", message="请填写转调解的事件。")
        if check_case is None:
            # The case must be checked (in scope, referable, not yet referred): gridgov.processes does it.
            raise ValidationFailed("事件转调解须先核对事件，请从事件页面办理转调解。", field="source_case_id")
        case_id, case_number = check_case(actor=actor, now=now, case_id=case_id,
                                          case_number=str(source_case_number or "").strip())
    elif source == Source.DEPARTMENT:
        dept_pk = _int(source_department_id, field_name="source_department_id", message="请选择移交部门。")
        department = Department.dangerously_unscoped.select_related("unit").filter(pk=dept_pk, is_active=True).first()
        if department is None or not (unit.path.startswith(department.unit.path)
                                      or department.unit.path.startswith(committee.path)):
            raise ValidationFailed("移交部门不存在或不在本辖区。", field="source_department_id")
    presiding = _presiding(presiding_id, committee) if presiding_id not in (None, "") else None
    role = scope.role_at(unit.path) if scope is not None else "system"

    county = county_of(unit)
    number = _next_number(county=county, year=local(now).year, kind="TJ")
    m = MediationCase.dangerously_unscoped.create(
        number=number, title=title, summary=summary, dispute_type=dispute_type, source=source,
        source_case_id=case_id, source_case_number=case_number, source_department=department, mode=mode,
        level=level, county=county, unit=unit, unit_path=unit.path, committee_unit=committee,
        committee_path=committee.path, presiding=presiding, status=Status.ACCEPTED, accepted_at=now,
        due_at=now + dt.timedelta(days=DEADLINE_DAYS), registered_by=actor if actor is not None else None,
        created_at=now, updated_at=now,
    )
    MediationParty.dangerously_unscoped.bulk_create([
        MediationParty(mediation=m, seq=i, role=p.role,
                       **sealing.party_fields(name=p.name, phone=p.phone, id_number=p.id_number))
        for i, p in enumerate(clean_parties, start=1)
    ])
    detail: dict[str, Any] = {"number": number, "source": source, "mode": mode, "level": level,
                              "parties": len(clean_parties)}
    if case_number:
        detail["case"] = case_number
    _append_event(m, action="register", at=now, actor=actor, role=role, from_status="", detail=detail)
    audit_record(action="mediation.register", actor=actor, now=now, obj=m, unit_path=unit.path, role=role,
                 detail={"from": "", "to": m.status} | detail)
    return m


# --- the locked transition service ----------------------------------------------------------

@dataclass
class _Step(Step[MediationCase]):
    before_due: dt.datetime | None = None

    @property
    def m(self) -> MediationCase:
        return self.obj


def _visible(scope: Scope, m: MediationCase) -> bool:
    return MediationCase.objects.within(scope).filter(pk=m.pk).exists()


def _authorize(scope: Scope | None, action: WorkflowAction, m: MediationCase) -> str:
    if scope is None:
        return "system"
    if not scope.can(action.perm, m.committee_path):
        raise PermissionDenied(f"您不能对该纠纷执行「{action.label}」：须由{m.committee_unit.name}"
                               f"{m.get_level_display() if m.level == Level.JUSTICE_OFFICE else '调解组织'}办理。")
    return scope.role_at(m.committee_path)


def _assign(step: _Step, *, presiding_id: Any = None, co_mediators: str = "") -> None:
    m = step.m
    user = _presiding(presiding_id, m.committee_unit)
    m.presiding = user
    m.co_mediators = _text(co_mediators, field_name="co_mediators", label="其他调解人员", required=False,
                           max_len=100)
    step.note = f"调解主持人：{user.display_name}" + (f"；其他调解人员：{m.co_mediators}" if m.co_mediators else "")
    step.detail["presiding"] = user.pk


def _start(step: _Step, *, rights_informed: Any = None, facts: str = "") -> None:
    m = step.m
    if not _flag(rights_informed):
        raise ValidationFailed("开始调解前须告知当事人的权利和义务，请确认已告知。", field="rights_informed")
    step.note = _text(facts, field_name="facts", label="了解核实的情况", required=True, max_len=1000)
    m.started_at = step.now


def _record_session(step: _Step, *, held_on: Any = None, place: str = "", attendees: str = "",
                    notes: str = "") -> None:
    m = step.m
    day = _date(held_on, field_name="held_on", label="调解日期", required=True)
    assert day is not None
    if day < local(m.accepted_at).date() or day > local(step.now).date():
        raise ValidationFailed("调解日期应在受理之日到今天之间。", field="held_on")
    place = _text(place, field_name="place", label="调解地点", required=True, max_len=80)
    attendees = _text(attendees, field_name="attendees", label="参加人员", required=True, max_len=200)
    notes = _text(notes, field_name="notes", label="调解经过", required=True, max_len=4000)
    seq = (MediationSession.dangerously_unscoped.filter(mediation=m).order_by("-seq").values_list("seq",
                                                                                                  flat=True).first()
           or 0) + 1
    MediationSession.dangerously_unscoped.create(mediation=m, seq=seq, held_on=day, place=place, attendees=attendees,
                                     notes_cipher=sealing.seal(notes, sealing.NOTES_PURPOSE),
                                     recorded_by=step.actor, recorded_at=step.now)
    step.note = f"第 {seq} 次调解：{day:%Y-%m-%d}，{place}"
    step.detail["session"] = seq


def _extend(step: _Step, *, days: Any = None, reason: str = "") -> None:
    m = step.m
    n = _int(days, field_name="days", message="请填写延长的天数。")
    if not 1 <= n <= MAX_EXTENSION_DAYS:
        raise ValidationFailed(f"延长天数应在 1 到 {MAX_EXTENSION_DAYS} 天之间。", field="days")
    step.note = _text(reason, field_name="reason", label="延期理由（当事人同意的情况）", required=True, max_len=500)
    m.extended_days = n
    m.due_at = m.due_at + dt.timedelta(days=n)
    step.detail["days"] = n


def _agree(step: _Step, *, terms: str = "", performance_due: Any = None, signed: Any = None) -> None:
    m = step.m
    if not MediationSession.dangerously_unscoped.filter(mediation=m).exists():
        raise ValidationFailed("请先填写调解记录，再登记调解协议。", field="action")
    terms = _text(terms, field_name="terms", label="协议内容", required=True, max_len=4000)
    due = _date(performance_due, field_name="performance_due", label="履行期限", required=False)
    if due is not None and due < local(step.now).date():
        raise ValidationFailed("履行期限不能早于今天。", field="performance_due")
    if not _flag(signed):
        raise ValidationFailed("书面调解协议须经各方当事人签名（或盖章、按指印），请确认已签名。", field="signed")
    m.agreement_terms_cipher = sealing.seal(terms, sealing.TERMS_PURPOSE)
    m.performance_due = due
    m.agreement_number = _next_number(county=m.county, year=local(step.now).year, kind="XY")
    m.concluded_at = step.now
    step.note = f"签订调解协议书 {m.agreement_number}"
    step.detail["agreement_number"] = m.agreement_number
    step.detail["on_time"] = step.now <= m.due_at


def _fail(step: _Step, *, channel: str = "", note: str = "") -> None:
    m = step.m
    m.referral_channel = _choice(channel, ReferralChannel, field_name="channel", label="引导当事人解决的途径")
    m.outcome_note = _text(note, field_name="note", label="调解不成的原因", required=True, max_len=1000)
    m.concluded_at = step.now
    step.note = m.outcome_note
    step.detail["channel"] = m.referral_channel
    step.detail["on_time"] = step.now <= m.due_at


def _terminate(step: _Step, *, reason: str = "") -> None:
    m = step.m
    m.outcome_note = _text(reason, field_name="reason", label="终止调解的理由", required=True, max_len=1000)
    m.concluded_at = step.now
    step.note = m.outcome_note
    step.detail["on_time"] = step.now <= m.due_at


def _follow_up(step: _Step, *, fulfilment: str = "", note: str = "") -> None:
    m = step.m
    m.fulfilment = _choice(fulfilment, Fulfilment, field_name="fulfilment", label="履行情况")
    step.note = _text(note, field_name="note", label="回访情况", required=m.fulfilment != Fulfilment.FULL,
                      max_len=1000)
    m.follow_up_count += 1
    step.detail["fulfilment"] = m.fulfilment
    step.detail["visit"] = m.follow_up_count


def _close(step: _Step, *, note: str = "") -> None:
    m = step.m
    unfulfilled = m.status == Status.FOLLOWING_UP and m.fulfilment != Fulfilment.FULL
    step.note = _text(note, field_name="note", label="协议未全部履行的处理情况（如引导申请司法确认）" if unfulfilled
                      else "结案说明", required=unfulfilled, max_len=1000)
    m.closed_at = step.now


HANDLERS: dict[str, Callable[..., None]] = {
    "assign": _assign, "start": _start, "record_session": _record_session, "extend": _extend, "agree": _agree,
    "fail": _fail, "terminate": _terminate, "follow_up": _follow_up, "close": _close,
}
_AUDITED_DETAIL = ("days", "channel", "fulfilment", "on_time", "agreement_number", "session")


class MediationFlow(Workflow[MediationCase]):
    name = "mediation"
    title = "Mediation workflow (人民调解)"
    statuses = STATUS_SPECS
    actions = ACTIONS
    handlers = HANDLERS
    initial = (Status.ACCEPTED.value, "register 受理")
    service = "gridgov.mediation.services.mediation_act"
    stale_message = "该纠纷已被他人处理，请刷新后再操作。"
    state_message = "该纠纷当前状态为「{status}」，不能{action}。"
    step_class: ClassVar[type[Step[Any]]] = _Step
    note = "Actions without a target keep the status (assign, record a session, extend)."

    def scope(self, actor: User | None) -> Scope:
        return scope_for(actor)

    def lock(self, pk: Any) -> MediationCase | None:
        return (MediationCase.dangerously_unscoped.select_for_update(of=("self",))
                .select_related("committee_unit__kind", "county").filter(pk=pk).first())

    def visible(self, scope: Scope, obj: MediationCase) -> bool:
        return _visible(scope, obj)

    def authorize(self, step: Step[MediationCase]) -> str:
        return _authorize(step.scope, step.action, step.obj)

    def record(self, step: Step[MediationCase]) -> None:
        assert isinstance(step, _Step)
        m, action = step.obj, step.action.code
        m.save()
        event = _append_event(m, action=action, at=step.now, actor=step.actor, role=step.role,
                              from_status=step.before, note=step.note, due_before=step.before_due,
                              detail=step.detail)
        audit_record(action=f"mediation.{action}", actor=step.actor, now=step.now, obj=m, unit_path=m.committee_path,
                     role=step.role, detail={"from": step.before, "to": m.status, "number": m.number, "seq": event.seq}
                     | {k: v for k, v in step.detail.items() if k in _AUDITED_DETAIL})

    def apply(self, step: Step[MediationCase], params: Any) -> None:
        assert isinstance(step, _Step)
        step.before_due = step.obj.due_at
        super().apply(step, params)


FLOW = MediationFlow()


def action_params(action: str) -> frozenset[str]:
    return FLOW.params(action)


@transaction.atomic
def mediation_act(*, actor: User | None, now: dt.datetime, mediation_id: int, action: str,
                  expected_version: int | None = None, **params: Any) -> MediationCase:
    """Take one action on a mediation case. The row is locked for the whole change; the history row
    and the audit row are written in the same transaction, so a refusal leaves nothing behind."""
    return FLOW.act(actor=actor, now=now, pk=mediation_id, action=action, expected_version=expected_version,
                    params=params)


def allowed_actions(*, mediation: MediationCase, actor: User) -> list[Action]:
    """The actions this actor may take on this mediation now (for pages and the API)."""
    return [a for a in FLOW.allowed(mediation, actor=actor) if isinstance(a, Action)]


# --- the parties in full, and the printed agreement ---------------------------------------------

@dataclass(frozen=True)
class RevealedParty:
    role: str
    name: str
    phone: str
    id_number: str


def _unmask_path(scope: Scope, m: MediationCase) -> str | None:
    return next((p for p in (m.committee_path, m.unit_path) if scope.can(P.MEDIATION_UNMASK, p)), None)


@transaction.atomic
def mediation_parties_unmask(*, actor: User | None, now: dt.datetime, mediation_id: int, reason: str
                             ) -> list[RevealedParty]:
    """The parties' full names, phones and ID numbers, for a user holding mediation.unmask over the
    committee or the place, for a written reason; audited."""
    m = MediationCase.dangerously_unscoped.filter(pk=mediation_id).first()
    if m is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not _visible(scope, m):
        raise NotFound()
    path = _unmask_path(scope, m)
    if path is None:
        raise PermissionDenied("您没有查看当事人完整信息的权限。")
    text = (reason or "").strip()
    if len(text) < UNMASK_REASON_MIN:
        raise ValidationFailed(f"请写明查看当事人完整信息的原因（至少 {UNMASK_REASON_MIN} 个字）。", field="reason")
    if len(text) > 200:
        raise ValidationFailed("原因不能超过 200 个字。", field="reason")
    audit_record(action="mediation.parties_unmask", actor=actor, now=now, obj=m, unit_path=path,
                 role=scope.role_at(path), detail={"reason": text, "fields": ["name", "phone", "id_number"],
                                                   "number": m.number})
    return [RevealedParty(role=p.get_role_display(), name=sealing.reveal(p.name_cipher, sealing.NAME_PURPOSE),
                          phone=sealing.reveal(p.phone_cipher, sealing.PHONE_PURPOSE),
                          id_number=sealing.reveal(p.id_cipher, sealing.ID_PURPOSE))
            for p in MediationParty.dangerously_unscoped.filter(mediation=m).order_by("seq")]


@dataclass(frozen=True)
class AgreementDocument:
    mediation: MediationCase
    parties: list[RevealedParty]
    terms: str
    sessions: int
    presiding: str
    signed_at: dt.datetime


@transaction.atomic
def agreement_print(*, actor: User | None, now: dt.datetime, mediation_id: int) -> AgreementDocument:
    """The 调解协议书 with the parties in full, for the committee that mediated (mediation.handle at the
    committee); printing is audited and the page carries a watermark naming who printed it."""
    m = (MediationCase.dangerously_unscoped.select_related("committee_unit", "unit", "county", "presiding")
         .filter(pk=mediation_id).first())
    if m is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not _visible(scope, m):
        raise NotFound()
    if not m.agreement_terms_cipher:
        raise NotFound("该纠纷没有调解协议。")
    if not scope.can(P.MEDIATION_HANDLE, m.committee_path):
        raise PermissionDenied("只有主持调解的调解组织可以打印调解协议书。")
    role = scope.role_at(m.committee_path)
    audit_record(action="mediation.agreement_print", actor=actor, now=now, obj=m, unit_path=m.committee_path,
                 role=role, detail={"number": m.number, "agreement": m.agreement_number})
    signed = (MediationEvent.dangerously_unscoped.filter(mediation=m, action="agree").values_list("at",
                                                                                                  flat=True).first()
              or m.concluded_at or now)
    parties = [RevealedParty(role=p.get_role_display(), name=sealing.reveal(p.name_cipher, sealing.NAME_PURPOSE),
                             phone=sealing.reveal(p.phone_cipher, sealing.PHONE_PURPOSE),
                             id_number=sealing.reveal(p.id_cipher, sealing.ID_PURPOSE))
               for p in MediationParty.dangerously_unscoped.filter(mediation=m).order_by("seq")]
    return AgreementDocument(
        mediation=m, parties=parties, terms=sealing.reveal(m.agreement_terms_cipher, sealing.TERMS_PURPOSE),
        sessions=MediationSession.dangerously_unscoped.filter(mediation=m).count(),
        presiding=m.presiding.display_name if m.presiding is not None else "", signed_at=signed,
    )
