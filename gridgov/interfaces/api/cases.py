"""Cases over JSON: intake (idempotent), queues, detail with timeline, and every workflow action."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Header, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from gridgov.access.scope import Scope, scope_for
from gridgov.cases import attachments, disclosure, intake, reveal, selectors, transitions
from gridgov.cases.deadlines import countdown
from gridgov.cases.models import Case, CaseEvent, Channel, Urgency
from gridgov.cases.states import ACTIONS, STATUSES
from gridgov.core.clock import now
from gridgov.core.errors import PermissionDenied
from gridgov.interfaces.http import staff_actor
from gridgov.interfaces.two_factor import STEP_UP_MESSAGE, step_up_missing

router = Router(tags=["cases"])

ActionCode = Enum("ActionCode", {code: code for code in ACTIONS}, type=str)  # type: ignore[misc]


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None
    lowest_level: str
    on_site: bool


ChannelCode = Enum("ChannelCode", {c: c for c in Channel.values}, type=str)  # type: ignore[misc]
UrgencyCode = Enum("UrgencyCode", {u: u for u in Urgency.values}, type=str)  # type: ignore[misc]
_TEXT = r"\S"  # at least one character that is not a space: what the service requires


class CaseIn(Schema):
    """What the schema says is what intake accepts: the lengths and codes the service checks."""

    title: str = Field(min_length=1, max_length=80, pattern=_TEXT)
    description: str = Field(min_length=1, max_length=4000, pattern=_TEXT)
    category: str = Field(min_length=1, max_length=40, pattern=_TEXT)
    channel: ChannelCode = ChannelCode("field")
    urgency: UrgencyCode = UrgencyCode("ordinary")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    unit_id: int | None = None
    address: str = Field(default="", max_length=200)
    reporter_name: str = Field(default="", max_length=40)
    reporter_phone: str = Field(default="", max_length=20)
    anonymous: bool = False
    idempotency_key: str = ""
    household_id: int | None = None  # the ledger household the case concerns (one the reporter may see)


class ReporterOut(Schema):
    """Masked (王*, 138****5678); the full values only from the unmask operation."""

    name: str
    phone: str
    anonymous: bool
    can_unmask: bool = False
    can_disclose: bool = False


class UnmaskIn(Schema):
    reason: str


class ReporterUnmaskOut(Schema):
    name: str
    phone: str


class CaseOut(Schema):
    id: int
    number: str
    title: str
    description: str
    category: str
    category_name: str
    urgency: str
    channel: str
    status: str
    status_name: str
    status_type: str
    public_status: str
    unit_id: int
    holder_unit_id: int | None
    holder_department_id: int | None
    owner_unit_id: int
    lat: float | None
    lng: float | None
    address: str
    respond_due: dt.datetime | None
    resolve_due: dt.datetime | None
    countdown: str
    overdue: bool
    urge_count: int
    supervised: bool
    extension_days_requested: int | None
    result: str
    rating: int | None
    version: int
    created_at: dt.datetime
    reporter: ReporterOut


class DuplicateOut(Schema):
    id: int
    number: str
    title: str


class IntakeOut(Schema):
    case: CaseOut
    created: bool
    duplicates: list[DuplicateOut]


class EventOut(Schema):
    seq: int
    action: str
    at: dt.datetime
    actor: str
    actor_role: str
    from_status: str
    to_status: str
    from_unit_id: int | None
    to_unit_id: int | None
    from_department_id: int | None
    to_department_id: int | None
    note: str
    reason_code: str
    detail: dict[str, Any]


class ActionOut(Schema):
    code: str
    label: str


class CaseDetailOut(Schema):
    case: CaseOut
    actions: list[ActionOut]
    events: list[EventOut]


class ActionIn(Schema):
    """Parameters of an action; each action reads the ones it needs (see the workflow table)."""

    expected_version: int | None = None
    note: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    result: str | None = None
    department_id: int | None = None
    resolve_days: int | None = None
    to_unit_id: int | None = None
    target_case_id: int | None = None
    days: int | None = None
    rating: int | None = None
    checkin_lat: float | None = None
    checkin_lng: float | None = None
    attachment_ids: list[int] | None = None


def case_out(case: Case, scope: Scope) -> CaseOut:
    return CaseOut(**case_fields(case, scope, now()))


def case_fields(case: Case, scope: Scope, moment: dt.datetime) -> dict[str, Any]:
    """A case as CaseOut's fields. A list returns these as they are: django-ninja validates the answer
    against the declared schema once (building a CaseOut per row validated each row twice)."""
    sd = STATUSES[case.status]
    return dict(
        id=case.pk, number=case.number, title=case.title, description=case.description,
        category=case.category.code, category_name=case.category.name, urgency=case.urgency, channel=case.channel,
        status=case.status, status_name=case.get_status_display(), status_type=sd.type.value,
        public_status=sd.public.value, unit_id=case.unit_id, holder_unit_id=case.holder_unit_id,
        holder_department_id=case.holder_department_id, owner_unit_id=case.owner_unit_id, lat=case.lat, lng=case.lng,
        address=case.address, respond_due=case.respond_due, resolve_due=case.resolve_due,
        countdown=countdown(case.resolve_due, moment) if sd.type.value in ("open", "in_progress") else "",
        overdue=case.overdue, urge_count=case.urge_count, supervised=case.supervised,
        extension_days_requested=case.extension_days_requested, result=case.result, rating=case.rating,
        version=case.version, created_at=case.created_at,
        reporter=selectors.reporter_of(scope=scope, case=case),
    )


def _event_out(ev: CaseEvent) -> EventOut:
    return EventOut(
        seq=ev.seq, action=ev.action, at=ev.at, actor=ev.actor.display_name if ev.actor else "系统",
        actor_role=ev.actor_role, from_status=ev.from_status, to_status=ev.to_status, from_unit_id=ev.from_unit_id,
        to_unit_id=ev.to_unit_id, from_department_id=ev.from_department_id, to_department_id=ev.to_department_id,
        note=ev.note, reason_code=ev.reason_code, detail=ev.detail,
    )


@router.get("/categories", response=list[CategoryOut], summary="The category tree")
def list_categories(request: HttpRequest) -> list[CategoryOut]:
    return [CategoryOut(code=c.code, name=c.name, parent=c.parent.code if c.parent else None,
                        lowest_level=c.lowest_level, on_site=c.on_site) for c in selectors.categories()]


@router.post("/", response={200: IntakeOut, 201: IntakeOut},
             summary="Report a case (idempotent: same key and payload → 200 with the same case; other payload → 409)")
def report_case(request: HttpRequest, payload: CaseIn,
                idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[IntakeOut]:
    data = payload.dict()
    data["channel"], data["urgency"] = payload.channel.value, payload.urgency.value
    key = idempotency_key or data.pop("idempotency_key")
    data.pop("idempotency_key", None)
    result = intake.case_report(actor=staff_actor(request), now=now(), idempotency_key=key,
                                  category_code=data.pop("category"), **data)
    scope = scope_for(request.user)
    body = IntakeOut(case=case_out(result.case, scope), created=result.created,
                     duplicates=[DuplicateOut(id=d.pk, number=d.number, title=d.title) for d in result.duplicates])
    return Status(201 if result.created else 200, body)


@router.get("/", response=list[CaseOut], summary="A work queue: todo, done, due_soon, overdue, supervised, returned")
def list_cases(request: HttpRequest, queue: str = "todo", category: str = "", status: str = "",
               q: str = "") -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    moment = now()
    rows = selectors.case_queue(scope=scope, queue=queue, now=moment, category_code=category, status=status,
                                query=q[:40])
    return [case_fields(c, scope, moment) for c in rows]


@router.get("/{case_id}", response=CaseDetailOut, summary="A case with its timeline and the actions you may take")
def get_case(request: HttpRequest, case_id: int) -> CaseDetailOut:
    scope = scope_for(request.user)
    case = selectors.case_get(scope=scope, case_id=case_id)
    allowed = transitions.allowed_actions(case=case, actor=staff_actor(request), now=now())
    return CaseDetailOut(
        case=case_out(case, scope),
        actions=[ActionOut(code=a.code, label=a.label) for a in allowed],
        events=[_event_out(e) for e in selectors.case_timeline(scope=scope, case=case)],
    )


@router.post("/{case_id}/actions/{action}", response=CaseOut, summary="Take a workflow action on a case")
def act_on_case(request: HttpRequest, case_id: int, action: ActionCode, payload: ActionIn) -> CaseOut:
    scope = scope_for(request.user)
    selectors.case_get(scope=scope, case_id=case_id)
    data = payload.dict(exclude_none=True)
    expected = data.pop("expected_version", None)
    # Parameters the action does not take are refused by the service, not silently dropped.
    case = transitions.case_act(actor=staff_actor(request), now=now(), case_id=case_id, action=action.value,
                             expected_version=expected, **data)
    return case_out(selectors.case_get(scope=scope, case_id=case.pk), scope)


class AttachmentOut(Schema):
    id: int
    content_type: str
    size: int


@router.post("/{case_id}/attachments", response={201: AttachmentOut},
             summary="Upload a photo or PDF (type checked by content, at most 10 MB); link it in an action")
def upload_attachment(request: HttpRequest, case_id: int, file: File[UploadedFile]) -> Status[AttachmentOut]:
    scope = scope_for(request.user)
    selectors.case_get(scope=scope, case_id=case_id)
    att = attachments.attachment_add(actor=staff_actor(request), now=now(), case_id=case_id, stream=file,
                                     name=file.name or "")
    return Status(201, AttachmentOut(id=att.pk, content_type=att.content_type, size=att.size))


@router.post("/{case_id}/reporter/unmask", response=ReporterUnmaskOut,
             summary="The reporter's full name and phone for a stated reason (resident.unmask; audited)")
def unmask_reporter(request: HttpRequest, case_id: int, payload: UnmaskIn) -> ReporterUnmaskOut:
    if step_up_missing(request):
        raise PermissionDenied(STEP_UP_MESSAGE)
    scope = scope_for(request.user)
    selectors.case_get(scope=scope, case_id=case_id)
    actor = staff_actor(request)
    revealed = reveal.case_reporter_unmask(actor=actor, now=now(), case_id=case_id, reason=payload.reason)
    return ReporterUnmaskOut(name=revealed.name, phone=revealed.phone)


class DiscloseIn(Schema):
    reason: str
    department_id: int | None = None  # the department holding the case when left out


class DisclosureOut(Schema):
    department_id: int
    granted_at: dt.datetime


@router.post("/{case_id}/reporter/disclose", response={201: DisclosureOut},
             summary="Let a department that handles the case see its reporter, for a stated reason "
                     "(the dispatching office; audited; never an anonymous reporter)")
def disclose_reporter(request: HttpRequest, case_id: int, payload: DiscloseIn) -> Status[DisclosureOut]:
    row = disclosure.case_reporter_disclose(actor=staff_actor(request), now=now(), case_id=case_id,
                                            reason=payload.reason, department_id=payload.department_id)
    return Status(201, DisclosureOut(department_id=row.department_id, granted_at=row.granted_at))
