"""Notices over JSON for the field app: the worker's notices being passed on, each with the households of
their grids not yet reached, and marking one household reached (or unreachable with a reason)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.core.clock import now
from gridgov.core.errors import NotFound
from gridgov.interfaces.http import staff_actor
from gridgov.notices import selectors, services

router = Router(tags=["notices"])


class HouseholdToReach(Schema):
    delivery_id: int
    grid: str
    address: str
    house_number: str
    phone: str  # masked: 138****5678


class WorkerNoticeOut(Schema):
    id: int
    title: str
    text: str
    grade: str
    grade_label: str
    sent_at: dt.datetime | None
    reach_deadline: dt.datetime | None
    total: int
    reached: int
    pending: list[HouseholdToReach]


class MarkIn(Schema):
    how: str  # phone / door / group / unreachable
    reason: str = ""


class DeliveryOut(Schema):
    delivery_id: int
    state: str
    how: str
    at: dt.datetime | None


@router.get("/my", response=list[WorkerNoticeOut],
            summary="The notices being passed on, with the households of the worker's grids not yet reached")
def my_notices(request: HttpRequest) -> list[WorkerNoticeOut]:
    scope = scope_for(request.user)
    if not scope.can(P.NOTICE_REACH):
        raise NotFound()
    out = []
    for item in selectors.worker_notices(scope=scope):
        n = item.notice
        deadline = n.sent_at + dt.timedelta(hours=n.reach_hours) if n.sent_at else None
        out.append(WorkerNoticeOut(
            id=n.pk, title=n.title, text=n.text, grade=n.grade, grade_label=n.get_grade_display(), sent_at=n.sent_at,
            reach_deadline=deadline, total=item.total, reached=item.reached,
            pending=[HouseholdToReach(delivery_id=d.pk, grid=d.unit.name, address=d.household.address,
                                      house_number=d.household.house_number, phone=d.household.phone_masked)
                     for d in item.pending]))
    return out


@router.post("/deliveries/{delivery_id}/mark", response=DeliveryOut,
             summary="Mark a household reached (phone/door/group) or unreachable (with a reason); 404 outside "
                     "the worker's grids, 409 when already marked or the notice has ended")
def mark(request: HttpRequest, delivery_id: int, payload: MarkIn) -> DeliveryOut:
    d = services.delivery_mark(actor=staff_actor(request), now=now(), delivery_id=delivery_id, how=payload.how,
                               reason=payload.reason)
    return DeliveryOut(delivery_id=d.pk, state=d.state, how=d.how, at=d.at)
