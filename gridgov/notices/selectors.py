"""Notices' reads, always through the actor's scope (out of scope looks exactly like missing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.core.errors import NotFound
from gridgov.units.models import Unit

from .models import Delivery, Notice, Reply


def notice_get(*, scope: Scope, notice_id: Any) -> Notice:
    notice = Notice.objects.within(scope).select_related("unit", "created_by", "approved_by").filter(
        pk=notice_id).first()
    if notice is None:
        raise NotFound()
    return notice


def notice_list(*, scope: Scope, limit: int = 100) -> list[Notice]:
    return list(Notice.objects.within(scope).select_related("unit")[:limit])


def delivery_get(*, scope: Scope, delivery_id: Any) -> Delivery:
    delivery = Delivery.objects.within(scope).select_related("notice", "household", "unit").filter(
        pk=delivery_id).first()
    if delivery is None:
        raise NotFound()
    return delivery


@dataclass
class WorkerNotice:
    notice: Notice
    pending: list[Delivery]
    total: int
    reached: int


def worker_notices(*, scope: Scope) -> list[WorkerNotice]:
    """The notices being passed on now, each with the households of the actor's grids not yet reached."""
    paths = scope.path_q("unit_path", P.NOTICE_REACH)
    deliveries = Delivery.objects.within(scope).filter(paths, notice__status=Notice.Status.SENT)
    counts = {row["notice_id"]: row for row in deliveries.values("notice_id").annotate(
        total=Count("id"), reached=Count("id", filter=~Q(state=Delivery.State.PENDING)))}
    if not counts:
        return []
    notices = Notice.dangerously_unscoped.filter(pk__in=counts).order_by("-sent_at", "-id")
    pending: dict[int, list[Delivery]] = {}
    for d in deliveries.filter(state=Delivery.State.PENDING).select_related("household", "unit").order_by(
            "notice_id", "unit_path", "household__house_number", "household_id"):
        pending.setdefault(d.notice_id, []).append(d)
    return [WorkerNotice(n, pending.get(n.pk, []), counts[n.pk]["total"], counts[n.pk]["reached"]) for n in notices]


@dataclass
class ReachRow:
    unit: Unit
    total: int
    reached: int
    unreachable: int

    @property
    def pending(self) -> int:
        return self.total - self.reached - self.unreachable

    @property
    def percent(self) -> int:
        return round(100 * self.reached / self.total) if self.total else 100


def reach_board(*, scope: Scope, notice: Notice) -> dict[str, Any]:
    """Reached / not reached per grid and per village (the grid's parent), within the actor's scope."""
    rows = (Delivery.objects.within(scope).filter(notice=notice).values("unit_id").annotate(
        total=Count("id"), reached=Count("id", filter=Q(state=Delivery.State.REACHED)),
        unreachable=Count("id", filter=Q(state=Delivery.State.UNREACHABLE))).order_by())
    units = Unit.dangerously_unscoped.in_bulk([r["unit_id"] for r in rows])
    grids = [ReachRow(units[r["unit_id"]], r["total"], r["reached"], r["unreachable"]) for r in rows]
    grids.sort(key=lambda g: (g.percent, g.unit.path))
    parents = Unit.dangerously_unscoped.in_bulk({g.unit.parent_id for g in grids if g.unit.parent_id})
    villages: dict[int, ReachRow] = {}
    for g in grids:
        parent = parents.get(g.unit.parent_id or 0) or g.unit
        v = villages.setdefault(parent.pk, ReachRow(parent, 0, 0, 0))
        v.total, v.reached, v.unreachable = v.total + g.total, v.reached + g.reached, v.unreachable + g.unreachable
    total = ReachRow(notice.unit, sum(g.total for g in grids), sum(g.reached for g in grids),
                     sum(g.unreachable for g in grids))
    return {"grids": grids, "villages": sorted(villages.values(), key=lambda v: (v.percent, v.unit.path)),
            "total": total}


def difficulty_replies(*, scope: Scope, notice: Notice) -> list[Reply]:
    return list(Reply.objects.within(scope).filter(notice=notice, kind=Reply.Kind.DIFFICULTY)
                .select_related("delivery__household", "delivery__unit").order_by("case_number", "at", "id"))


def reply_get(*, scope: Scope, reply_id: Any) -> Reply:
    reply = Reply.objects.within(scope).select_related("delivery__household", "delivery__unit", "notice").filter(
        pk=reply_id).first()
    if reply is None:
        raise NotFound()
    return reply


def public_delivery(token: str) -> Delivery | None:
    text = str(token or "")
    if not (8 <= len(text) <= 40) or not text.isalnum():
        return None
    return Delivery.dangerously_unscoped.select_related("notice__unit").filter(
        token=text, notice__status__in=[Notice.Status.SENT, Notice.Status.CLOSED]).first()


def has_replied(delivery: Delivery) -> Reply | None:
    return Reply.dangerously_unscoped.filter(delivery=delivery).first()
