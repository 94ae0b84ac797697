"""Mediation over JSON: the 调解台账 (filtered) and one mediation with its timeline, both scoped to the
signed-in actor; parties are masked (the full values only on the staff page, with a reason). A case is
referred to mediation (转调解) through the referral process (gridgov/processes/mediation_referral.py)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status

from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.core.clock import now
from gridgov.core.errors import PermissionDenied
from gridgov.interfaces.api.fields import IsoDate, WholeNumber
from gridgov.interfaces.api.paging import page_params
from gridgov.interfaces.http import staff_actor
from gridgov.mediation import selectors, services
from gridgov.mediation.models import DisputeType, MediationCase, Mode
from gridgov.mediation.states import Status as MediationStatus
from gridgov.processes.mediation_referral import case_refer_to_mediation

router = Router(tags=["mediation"])


class MediationOut(Schema):
    id: int
    number: str
    title: str
    dispute_type: str
    source: str
    mode: str
    level: str
    status: str
    status_label: str
    unit_id: int
    unit: str
    committee: str
    presiding: str | None
    accepted_at: dt.datetime
    due_at: dt.datetime
    extended_days: int
    concluded_at: dt.datetime | None
    agreement_number: str
    fulfilment: str
    referral_channel: str


class PartyOut(Schema):
    """Masked: 王*, 138****5678, 1402**********1234."""

    role: str
    name: str
    phone: str
    id_number: str


class MediationEventOut(Schema):
    seq: int
    action: str
    at: dt.datetime
    actor: str | None
    from_status: str
    to_status: str
    note: str


class MediationDetailOut(Schema):
    mediation: MediationOut
    summary: str
    parties: list[PartyOut]
    actions: list[str]
    events: list[MediationEventOut]


def _out(m: MediationCase) -> MediationOut:
    return MediationOut(
        id=m.pk, number=m.number, title=m.title, dispute_type=m.dispute_type, source=m.source, mode=m.mode,
        level=m.level, status=m.status, status_label=m.get_status_display(), unit_id=m.unit_id, unit=m.unit.name,
        committee=m.committee_unit.name, presiding=m.presiding.display_name if m.presiding else None,
        accepted_at=m.accepted_at, due_at=m.due_at, extended_days=m.extended_days, concluded_at=m.concluded_at,
        agreement_number=m.agreement_number, fulfilment=m.fulfilment, referral_channel=m.referral_channel,
    )


class MediationPage(Schema):
    items: list[MediationOut]
    next_after: int | None


@router.get("/", response=MediationPage,
            summary="The mediation ledger (调解台账), newest first (keyset pagination: pass next_after as after)")
def list_mediations(request: HttpRequest, start: IsoDate | None = None, end: IsoDate | None = None,
                    dispute_type: str = "", mode: str = "", status: str = "", unit_id: int | None = None,
                    after: WholeNumber = "", limit: WholeNumber = "") -> MediationPage:
    scope = scope_for(request.user)
    if not scope.can(P.MEDIATION_VIEW):
        raise PermissionDenied()
    paging = page_params(after=after, limit=limit)
    filters = selectors.LedgerFilter(
        start=start, end=end, dispute_type=dispute_type if dispute_type in DisputeType.values else "",
        mode=mode if mode in Mode.values else "", status=status if status in MediationStatus.values else "",
        unit_id=unit_id)
    page = selectors.mediation_ledger(scope=scope, filters=filters, now=now(), after=paging.after,
                                      limit=paging.limit)
    return MediationPage(items=[_out(m) for m in page.rows], next_after=page.next_after)


class PartyIn(Schema):
    role: str
    name: str
    phone: str = ""
    id_number: str = ""


class ReferralIn(Schema):
    """转调解: the case (by id), how it is mediated and the parties. Title, summary, place and dispute type
    left out are taken from the case."""

    case_id: int
    mode: str = "people"
    level: str = "village"
    parties: list[PartyIn]
    title: str | None = None
    summary: str | None = None
    dispute_type: str | None = None
    unit_id: int | None = None
    presiding_id: int | None = None


@router.post("/referrals", response={201: MediationOut},
             summary="Refer a case to mediation (转调解): the case must be in scope, still being handled and not "
                     "referred yet (404 when out of scope or missing, 409 when already referred)")
def refer_case(request: HttpRequest, payload: ReferralIn) -> Status[MediationOut]:
    m = case_refer_to_mediation(
        actor=staff_actor(request), now=now(), case_id=payload.case_id, mode=payload.mode, level=payload.level,
        parties=[p.model_dump() for p in payload.parties], title=payload.title, summary=payload.summary,
        dispute_type=payload.dispute_type, unit_id=payload.unit_id, presiding_id=payload.presiding_id)
    return Status(201, _out(m))


@router.get("/{mediation_id}", response=MediationDetailOut, summary="One mediation with its timeline")
def get_mediation(request: HttpRequest, mediation_id: int) -> MediationDetailOut:
    scope = scope_for(request.user)
    m = selectors.mediation_get(scope=scope, mediation_id=mediation_id)
    return MediationDetailOut(
        mediation=_out(m), summary=m.summary,
        parties=[PartyOut(role=p.role, name=p.name_masked, phone=p.phone_masked, id_number=p.id_masked)
                 for p in selectors.parties_masked(scope=scope, mediation=m)],
        actions=[a.code for a in services.allowed_actions(mediation=m, actor=staff_actor(request))],
        events=[MediationEventOut(seq=e.seq, action=e.action, at=e.at,
                                  actor=e.actor.display_name if e.actor else None, from_status=e.from_status,
                                  to_status=e.to_status, note=e.note)
                for e in selectors.timeline(scope=scope, mediation=m)],
    )
