"""Household ledger API for the field app: scoped, masked, with optimistic concurrency.

Editing with a stale `version` answers 409 with the current copy; nothing is overwritten silently.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field, StrictInt

from gridgov.access.scope import scope_for
from gridgov.core.clock import local, now
from gridgov.core.errors import Conflict, NotFound, PermissionDenied
from gridgov.interfaces.http import staff_actor
from gridgov.interfaces.two_factor import STEP_UP_MESSAGE, step_up_missing
from gridgov.residents import households, members, selectors, tags, unmasking, watch

router = Router(tags=["households"])


class TagOut(Schema):
    id: int
    code: str
    name: str
    start_date: dt.date


class ResidentOut(Schema):
    id: int
    name: str
    relation: str
    relation_name: str
    gender: str
    age: int
    id_number_masked: str
    phone_masked: str
    political_status: str
    residency: str
    away_place: str
    health: str | None
    tags: list[TagOut]
    version: int


class HouseholdOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    status: str
    address: str
    house_number: str
    phone_masked: str
    lat: float | None
    lng: float | None
    head_name: str | None
    version: int


class HouseholdDetailOut(HouseholdOut):
    notes: str
    members: list[ResidentOut]
    tags: list[TagOut]


class HouseholdPage(Schema):
    items: list[HouseholdOut]
    next_after: int | None


class HouseholdIn(Schema):
    unit_id: int | None = None
    address: str
    house_number: str = ""
    phone: str = ""
    lat: float | None = None
    lng: float | None = None
    notes: str = ""


class HouseholdPatch(Schema):
    version: int
    address: str | None = None
    house_number: str | None = None
    phone: str | None = None
    lat: float | None = None
    lng: float | None = None
    notes: str | None = None


class ConflictOut(Schema):
    code: str
    message: str
    current: HouseholdDetailOut


class ResidentIn(Schema):
    name: str
    id_number: str
    relation: str
    phone: str = ""
    birth_date: dt.date | None = None
    gender: str | None = None
    ethnicity: str = "汉族"
    political_status: str = ""
    residency: str = ""
    away_place: str = ""
    away_since: dt.date | None = None
    education: str = ""
    occupation: str = ""
    health: str = ""
    disability: str = ""
    notes: str = ""


class ResidentPatch(Schema):
    version: int
    name: str | None = None
    id_number: str | None = None
    relation: str | None = None
    phone: str | None = None
    political_status: str | None = None
    residency: str | None = None
    away_place: str | None = None
    away_since: dt.date | None = None
    education: str | None = None
    occupation: str | None = None
    health: str | None = None
    disability: str | None = None
    notes: str | None = None


class UnmaskIn(Schema):
    reason: str


class UnmaskOut(Schema):
    id_number: str
    phone: str


class PhoneOut(Schema):
    phone: str


def _today() -> dt.date:
    return local(now()).date()


def _tag(t: Any) -> TagOut:
    return TagOut(id=t.pk, code=t.tag.code, name=t.tag.name, start_date=t.start_date)


def _household(h: Any, head: str | None) -> dict[str, Any]:
    return {"id": h.pk, "unit_id": h.unit_id, "unit_name": h.unit.name, "status": h.status, "address": h.address,
            "house_number": h.house_number, "phone_masked": h.phone_masked, "lat": h.lat, "lng": h.lng,
            "head_name": head, "version": h.version}


def _detail(request: HttpRequest, household_id: int) -> HouseholdDetailOut:
    return _detail_out(selectors.household_detail(scope=scope_for(request.user), household_id=household_id,
                                                  today=_today(), full=False))


def _detail_out(d: selectors.HouseholdDetail) -> HouseholdDetailOut:
    members = [
        ResidentOut(id=m.pk, name=m.name, relation=m.resident.relation, relation_name=m.resident.get_relation_display(),
                    gender=m.resident.gender, age=m.age, id_number_masked=m.id_masked, phone_masked=m.phone_masked,
                    political_status=m.resident.political_status, residency=m.resident.residency,
                    away_place=m.resident.away_place, health=m.resident.health if m.show_sensitive else None,
                    tags=[_tag(t) for t in m.tags], version=m.resident.version)
        for m in d.members
    ]
    return HouseholdDetailOut(**_household(d.household, d.head.name if d.head else None), notes=d.household.notes,
                              members=members, tags=[_tag(t) for t in d.tags])


@router.get("/", response=HouseholdPage, summary="Search households in scope (keyset pagination: pass next_after)")
def list_households(request: HttpRequest) -> HouseholdPage:
    query = selectors.HouseholdQuery.from_params(request.GET)
    page = selectors.household_search(scope=scope_for(request.user), query=query, today=_today())
    items = [HouseholdOut(**_household(h, h.heads[0].name if h.heads else None)) for h in page.rows]
    watch.record_search(actor=staff_actor(request), now=now(), scope=scope_for(request.user), shown=len(items))
    return HouseholdPage(items=items, next_after=page.next_after)


Digits = Annotated[str, Field(pattern=r"^[0-9]{1,12}$")]


class SearchIn(Schema):
    q: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    house_number: str = ""
    tag: str = ""
    # A whole number, or its digits as text (as the list API's query string takes them): JSON true/false or 1.5
    # are not numbers here, as the schema says.
    unit: StrictInt | Digits | None = None
    age_min: StrictInt | Digits | None = None
    age_max: StrictInt | Digits | None = None
    status: str = ""
    after: StrictInt | Digits | None = None
    limit: StrictInt | Digits | None = None


@router.post("/search", response=HouseholdPage,
             summary="Search with the query in the body: for ID numbers and phones (kept out of URLs and logs)")
def search_households(request: HttpRequest, payload: SearchIn) -> HttpResponse:
    params = {k: ("" if v is None else str(v)) for k, v in payload.dict().items()}
    query = selectors.HouseholdQuery.from_params(params)
    page = selectors.household_search(scope=scope_for(request.user), query=query, today=_today(), rows=True)
    # Search rows are HouseholdOut's fields as the database gives them (ints, strings, floats or None), read
    # in one statement: rendered as they are, in HouseholdOut's order, without validating every field of
    # every row again (tests/residents/test_search_rows.py holds the answer, byte for byte, to the list
    # API's, which django-ninja validates).
    items = [{name: row[name] for name in _HOUSEHOLD_OUT} for row in page.rows]
    watch.record_search(actor=staff_actor(request), now=now(), scope=scope_for(request.user), shown=len(items))
    from .api import api  # the API this router is mounted on (its renderer and content type)

    return api.create_response(request, {"items": items, "next_after": page.next_after}, status=200)


_HOUSEHOLD_OUT = tuple(HouseholdOut.model_fields)


class CatalogueTagOut(Schema):
    code: str
    name: str
    applies_to: str
    sensitive: bool
    visit_cadence_days: int | None


@router.get("/tags", response=list[CatalogueTagOut],
            summary="The key groups this user may see and set (sensitive ones only with the right)")
def list_tags(request: HttpRequest) -> list[CatalogueTagOut]:
    return [CatalogueTagOut(code=t.code, name=t.name, applies_to=t.applies_to, sensitive=t.is_sensitive,
                            visit_cadence_days=t.visit_cadence_days)
            for t in selectors.visible_tags(scope_for(request.user))]


@router.get("/{household_id}", response=HouseholdDetailOut)
def get_household(request: HttpRequest, household_id: int) -> HouseholdDetailOut:
    scope = scope_for(request.user)
    d = selectors.household_detail(scope=scope, household_id=household_id, today=_today(), full=False)
    out = _detail_out(d)
    # The household the detail was read through the scope with (not read a second time).
    watch.record_household_view(actor=staff_actor(request), now=now(), scope=scope, household=d.household,
                                residents=len(out.members), sensitive=any(m.health is not None for m in out.members))
    return out


@router.post("/", response={201: HouseholdDetailOut})
def create_household(request: HttpRequest, payload: HouseholdIn) -> Status[HouseholdDetailOut]:
    h = households.household_create(actor=staff_actor(request), now=now(), **payload.dict())
    return Status(201, _detail(request, h.pk))


@router.patch("/{household_id}", response={200: HouseholdDetailOut, 409: ConflictOut})
def patch_household(request: HttpRequest, household_id: int, payload: HouseholdPatch) -> Any:
    selectors.household_get(scope=scope_for(request.user), household_id=household_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    try:
        households.household_update(actor=staff_actor(request), now=now(), household_id=household_id,
                                  expected_version=version, **data)
    except Conflict as exc:
        return Status(409, ConflictOut(code=exc.code, message=exc.message, current=_detail(request, household_id)))
    return Status(200, _detail(request, household_id))


@router.post("/{household_id}/residents", response={201: HouseholdDetailOut})
def add_resident(request: HttpRequest, household_id: int, payload: ResidentIn) -> Status[HouseholdDetailOut]:
    selectors.household_get(scope=scope_for(request.user), household_id=household_id)
    members.resident_add(actor=staff_actor(request), now=now(), household_id=household_id, **payload.dict())
    return Status(201, _detail(request, household_id))


@router.patch("/residents/{resident_id}", response={200: HouseholdDetailOut, 409: ConflictOut})
def patch_resident(request: HttpRequest, resident_id: int, payload: ResidentPatch) -> Any:
    resident = selectors.resident_get(scope=scope_for(request.user), resident_id=resident_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    try:
        members.resident_update(actor=staff_actor(request), now=now(), resident_id=resident_id,
                                expected_version=version,
                                 **data)
    except Conflict as exc:
        current = _detail(request, resident.household_id)
        return Status(409, ConflictOut(code=exc.code, message=exc.message, current=current))
    return Status(200, _detail(request, resident.household_id))


@router.post("/residents/{resident_id}/unmask", response=UnmaskOut,
             summary="Full ID number and phone for a stated reason (resident.unmask; audited)")
def unmask_resident(request: HttpRequest, resident_id: int, payload: UnmaskIn) -> UnmaskOut:
    if step_up_missing(request):
        raise PermissionDenied(STEP_UP_MESSAGE)
    selectors.resident_get(scope=scope_for(request.user), resident_id=resident_id)
    revealed = unmasking.resident_unmask(actor=staff_actor(request), now=now(), resident_id=resident_id,
                                        reason=payload.reason)
    return UnmaskOut(id_number=revealed.id_number, phone=revealed.phone)


@router.post("/{household_id}/unmask", response=PhoneOut,
             summary="The household's full phone for a stated reason (resident.unmask; audited)")
def unmask_household(request: HttpRequest, household_id: int, payload: UnmaskIn) -> PhoneOut:
    if step_up_missing(request):
        raise PermissionDenied(STEP_UP_MESSAGE)
    selectors.household_get(scope=scope_for(request.user), household_id=household_id)
    phone = unmasking.household_unmask_phone(actor=staff_actor(request), now=now(), household_id=household_id,
                                            reason=payload.reason)
    return PhoneOut(phone=phone)


# --- tags and members (the field app's tag and member management) ------------------------------------
class TagIn(Schema):
    tag: str
    resident_id: int | None = None
    start_date: dt.date | None = None
    note: str = ""


class MoveIn(Schema):
    to_household_id: int
    relation: str


class StatusIn(Schema):
    status: str
    reason: str = ""


@router.post("/{household_id}/tags", response={201: HouseholdDetailOut},
             summary="Tag the household or one of its members")
def add_tag(request: HttpRequest, household_id: int, payload: TagIn) -> Status[HouseholdDetailOut]:
    scope = scope_for(request.user)
    household = selectors.household_get(scope=scope, household_id=household_id)
    if payload.resident_id is not None:
        resident = selectors.resident_get(scope=scope, resident_id=payload.resident_id)
        if resident.household_id != household.pk:
            raise NotFound()
    tags.tag_assign(actor=staff_actor(request), now=now(), tag_code=payload.tag,
                        household_id=None if payload.resident_id else household.pk, resident_id=payload.resident_id,
                        start_date=payload.start_date, note=payload.note)
    return Status(201, _detail(request, household.pk))


@router.post("/{household_id}/tags/{assignment_id}/end", response=HouseholdDetailOut, summary="End a tag")
def end_tag(request: HttpRequest, household_id: int, assignment_id: int) -> HouseholdDetailOut:
    d = selectors.household_detail(scope=scope_for(request.user), household_id=household_id, today=_today())
    if assignment_id not in {t.pk for t in d.tags} | {t.pk for m in d.members for t in m.tags}:
        raise NotFound()
    tags.tag_end(actor=staff_actor(request), now=now(), assignment_id=assignment_id)
    return _detail(request, household_id)


@router.post("/residents/{resident_id}/move", response=HouseholdDetailOut,
             summary="Move a member to another household (returns the receiving household)")
def move_resident(request: HttpRequest, resident_id: int, payload: MoveIn) -> HouseholdDetailOut:
    scope = scope_for(request.user)
    selectors.resident_get(scope=scope, resident_id=resident_id)
    selectors.household_get(scope=scope, household_id=payload.to_household_id)
    members.resident_move(actor=staff_actor(request), now=now(), resident_id=resident_id,
                           to_household_id=payload.to_household_id, relation=payload.relation)
    return _detail(request, payload.to_household_id)


@router.post("/residents/{resident_id}/status", response=HouseholdDetailOut,
             summary="A member moved out or died (status moved_out or deceased)")
def resident_status(request: HttpRequest, resident_id: int, payload: StatusIn) -> HouseholdDetailOut:
    resident = selectors.resident_get(scope=scope_for(request.user), resident_id=resident_id)
    members.resident_set_status(actor=staff_actor(request), now=now(), resident_id=resident_id, status=payload.status,
                                 reason=payload.reason)
    return _detail(request, resident.household_id)
