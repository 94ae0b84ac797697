"""Visits over JSON: record a visit (idempotent by key, like case intake), the visit log, one visit
(its notes in full: audited), and the due list of must-visit households."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.http import HttpRequest
from ninja import Header, Router, Schema
from ninja.responses import Status

from gridgov.access.scope import scope_for
from gridgov.core.clock import local, now
from gridgov.core.errors import ValidationFailed
from gridgov.interfaces.api.fields import IsoDate
from gridgov.interfaces.http import staff_actor
from gridgov.processes.visit_cases import raise_case_from_visit
from gridgov.visits import selectors, services
from gridgov.visits.models import Visit
from gridgov.visits.photos import MAX_BYTES

router = Router(tags=["visits"])


class ProblemIn(Schema):
    """A problem found on the visit, to be raised as a case (事件) through case intake."""

    title: str
    description: str
    category: str
    urgency: str = "ordinary"


class VisitIn(Schema):
    household_id: int
    kind: str = "home"
    visited_at: dt.datetime | None = None
    notes: str = ""
    lat: float | None = None
    lng: float | None = None
    campaign_id: int | None = None
    problem_found: bool = False
    problem: ProblemIn | None = None
    photo_base64: str = ""  # a JPG/PNG/WebP photo, base64 (checked by content, at most 8 MB)
    idempotency_key: str = ""


class VisitOut(Schema):
    """A line of the visit log. The notes are sealed: lists carry their length only."""

    id: int
    household_id: int
    unit_id: int
    visitor_id: int
    visitor: str
    visited_at: dt.datetime
    kind: str
    kind_name: str
    campaign_id: int | None
    notes_length: int
    lat: float | None
    lng: float | None
    has_photo: bool
    problem_found: bool
    case_id: int | None
    case_number: str
    created_at: dt.datetime


class VisitDetailOut(Schema):
    visit: VisitOut
    notes: str


class RecordOut(Schema):
    visit: VisitOut
    created: bool


class DueOut(Schema):
    household_id: int
    unit_id: int
    address: str
    cadence_days: int
    last_visit: dt.datetime | None
    deadline: dt.date
    days_left: int
    groups: list[str]
    mine: bool


def visit_out(v: Visit) -> VisitOut:
    return VisitOut(
        id=v.pk, household_id=v.household_id, unit_id=v.unit_id, visitor_id=v.visitor_id,
        visitor=v.visitor.display_name, visited_at=v.visited_at, kind=v.kind, kind_name=v.get_kind_display(),
        campaign_id=v.campaign_id, notes_length=v.notes_length, lat=v.lat, lng=v.lng, has_photo=bool(v.photo),
        problem_found=v.problem_found, case_id=v.case_id, case_number=v.case_number, created_at=v.created_at,
    )


def _photo(raw: str) -> bytes | None:
    if not raw:
        return None
    if len(raw) > (MAX_BYTES * 4) // 3 + 8:
        raise ValidationFailed(f"照片不能超过 {MAX_BYTES // (1024 * 1024)} MB。", field="photo")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("照片应为 base64 编码。", field="photo") from exc


@router.post("/", response={200: RecordOut, 201: RecordOut},
             summary="Record a visit (idempotent: same key and content → 200 with the same visit; other content → 409)")
def record_visit(request: HttpRequest, payload: VisitIn,
                 idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[RecordOut]:
    key = idempotency_key or payload.idempotency_key
    problem = None
    if payload.problem is not None:
        problem = services.ProblemReport(title=payload.problem.title, description=payload.problem.description,
                                         category_code=payload.problem.category, urgency=payload.problem.urgency)
    result = services.visit_record(
        actor=staff_actor(request), now=now(), household_id=payload.household_id, kind=payload.kind,
        visited_at=payload.visited_at, notes=payload.notes, lat=payload.lat, lng=payload.lng,
        photo=_photo(payload.photo_base64), campaign_id=payload.campaign_id, problem_found=payload.problem_found,
        problem=problem, idempotency_key=key, raise_case=raise_case_from_visit,
    )
    scope = scope_for(request.user)
    visit = selectors.visit_get(scope=scope, visit_id=result.visit.pk)
    return Status(201 if result.created else 200, RecordOut(visit=visit_out(visit), created=result.created))


@router.get("/", response=list[VisitOut], summary="The visit log: filter by unit, period, kind, visitor, household")
def list_visits(request: HttpRequest, unit_id: int | None = None, start: IsoDate | None = None,
                end: IsoDate | None = None, kind: str = "", visitor_id: int | None = None,
                household_id: int | None = None, campaign_id: int | None = None, limit: int = 100) -> list[VisitOut]:
    scope = scope_for(request.user)
    f = selectors.LogFilter(unit_id=unit_id, start=start, end=end, kind=kind[:10], visitor_id=visitor_id,
                            household_id=household_id, campaign_id=campaign_id)
    return [visit_out(v) for v in selectors.visit_log(scope=scope, f=f, limit=max(1, min(limit, 500)))]


@router.get("/due", response=list[DueOut], summary="Must-visit households due or overdue (五必访), most urgent first")
def due_visits(request: HttpRequest, unit_id: int | None = None, all: bool = False) -> list[DueOut]:
    scope = scope_for(request.user)
    rows, _ = selectors.due_list(scope=scope, today=local(now()).date(), user_id=request.user.pk, unit_id=unit_id,
                                 include_later=all)
    return [DueOut(household_id=r.household.pk, unit_id=r.household.unit_id,
                   address=f"{r.household.address}{r.household.house_number}", cadence_days=r.status.cadence,
                   last_visit=r.status.last_visit, deadline=r.status.deadline(), days_left=r.days_left,
                   groups=r.groups, mine=r.mine) for r in rows]


@router.get("/{visit_id}", response=VisitDetailOut, summary="One visit with its notes in full (the view is audited)")
def get_visit(request: HttpRequest, visit_id: int) -> VisitDetailOut:
    scope = scope_for(request.user)
    visit = selectors.visit_get(scope=scope, visit_id=visit_id)
    notes = services.visit_notes_read(actor=staff_actor(request), now=now(), scope=scope, visit=visit)
    return VisitDetailOut(visit=visit_out(visit), notes=notes)
