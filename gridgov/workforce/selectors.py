"""Reads of the workforce module, always through the actor's scope (out of scope = NotFound)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.errors import NotFound
from gridgov.units.models import Unit

from . import assessment, staff
from .models import Assessment, DutyEvent, DutyItem, DutyList, FeedCursor, PointEntry, PointKind, PointRule
from .periods import month_bounds


def _mine(scope: Scope, user: Any) -> QuerySet[DutyItem]:
    """The items a worker answers for: named to them, or issued to a unit where they do duty work."""
    q = Q(assignee_id=user.pk) | (Q(assignee__isnull=True) & scope.path_q("unit__path", P.DUTY_DO))
    return DutyItem.objects.within(scope).filter(q).exclude(state=DutyItem.State.WITHDRAWN)


def my_items(*, scope: Scope, user: Any, open_only: bool = True, limit: int = 100) -> list[DutyItem]:
    """The items a worker answers for: named to them, or issued to a unit where they do duty work."""
    if not scope.can(P.DUTY_DO):
        return []
    qs = _mine(scope, user)
    if open_only:
        qs = qs.filter(state__in=[DutyItem.State.ISSUED, DutyItem.State.OVERDUE])
    else:
        qs = qs.exclude(state__in=[DutyItem.State.ISSUED, DutyItem.State.OVERDUE]).order_by("-done_at")
    return list(qs.select_related("duty_list", "unit")[:limit])


@dataclass(frozen=True)
class DutyToday:
    """我的任务 as the home page shows it: the first open items (soonest due first) and counts of the open
    ones (at most `cap` + 1 read), of those past their time and of those due by the end of today."""

    first: list[DutyItem]
    open: int
    overdue: int
    due_today: int


def duty_today(*, scope: Scope, user: Any, now: dt.datetime, day_end: dt.datetime, show: int = 5,
               cap: int = 100) -> DutyToday | None:
    """One query: the open items of `my_items`, soonest due first, with their list's title and their
    unit's name only (a grid's boundary stays in the database). None for someone without duty work."""
    if not scope.can(P.DUTY_DO):
        return None
    rows = list(_mine(scope, user).filter(state__in=[DutyItem.State.ISSUED, DutyItem.State.OVERDUE])
                .select_related("duty_list", "unit")
                .only("id", "due_at", "state", "duty_list__id", "duty_list__title", "unit__id", "unit__name")
                .order_by("due_at", "id")[: cap + 1])
    late = sum(1 for i in rows if i.state == DutyItem.State.OVERDUE or i.due_at < now)
    return DutyToday(first=rows[:show], open=len(rows), overdue=late,
                     due_today=sum(1 for i in rows if i.state == DutyItem.State.ISSUED and now <= i.due_at < day_end))


def item_get(*, scope: Scope, item_id: int) -> DutyItem:
    return get_in_scope(DutyItem.objects.select_related("duty_list", "duty_list__unit", "unit", "assignee",  # type: ignore[no-any-return]
                                                        "done_by", "confirmed_by"), scope, pk=item_id)


def item_events(*, item: DutyItem) -> list[DutyEvent]:
    return list(DutyEvent.objects.filter(item=item).select_related("actor"))


def lists_for(*, scope: Scope, limit: int = 100) -> list[DutyList]:
    if not (scope.can(P.DUTY_ISSUE) or scope.can(P.WORK_ASSESS)):
        return []
    return list(DutyList.objects.within(scope).select_related("unit", "issued_by").prefetch_related("items")[:limit])


def list_get(*, scope: Scope, list_id: int) -> DutyList:
    return get_in_scope(DutyList.objects.select_related("unit", "issued_by"), scope, pk=list_id)  # type: ignore[no-any-return]


@dataclass
class Progress:
    total: int
    done: int
    confirmed: int
    overdue: int
    on_time: int

    @property
    def rate_text(self) -> str:
        return f"{self.on_time / self.total:.0%}" if self.total else "—"


def list_items(*, scope: Scope, duty: DutyList) -> list[DutyItem]:
    return list(DutyItem.objects.within(scope).filter(duty_list=duty).select_related("unit", "assignee", "done_by")
                .order_by("unit__path", "assignee_id"))


def progress_of(items: list[DutyItem]) -> Progress:
    live = [i for i in items if i.state != DutyItem.State.WITHDRAWN]
    return Progress(total=len(live), done=sum(i.state in ("done", "confirmed") for i in live),
                    confirmed=sum(i.state == "confirmed" for i in live),
                    overdue=sum(i.state == "overdue" for i in live),
                    on_time=sum(i.state == "confirmed" and i.on_time for i in live))


def issue_units(*, scope: Scope) -> list[Unit]:
    """Units where the actor may issue lists (their grant units holding duty.issue)."""
    ids = {g.unit_id for g in scope.grants if P.DUTY_ISSUE in g.permissions}
    return list(Unit.dangerously_unscoped.filter(pk__in=ids, is_active=True).order_by("path"))


def recipients_of(*, scope: Scope, unit: Unit) -> tuple[list[Unit], list[Any]]:
    """What a list issued at `unit` may go to: units below it (to three levels), assessed workers."""
    scope.require(P.DUTY_ISSUE, unit.path)
    units = list(Unit.objects.within(scope).filter(path__startswith=unit.path, is_active=True,
                                                   depth__lte=unit.depth + 3).exclude(pk=unit.pk)
                 .select_related("kind").order_by("path")[:500])
    return units, staff.assessed_grants(unit.path)[:500]


def my_points(*, user: Any, month: dt.date) -> tuple[int, list[PointEntry]]:
    """A worker's own entries of a month (their own, never anyone else's)."""
    start, end = month_bounds(month)
    rows = list(PointEntry.dangerously_unscoped.filter(worker_id=user.pk, at__gte=start, at__lt=end)
                .select_related("created_by").order_by("-at", "-id"))
    return sum(r.points for r in rows), rows


def worker_points(*, scope: Scope, worker_id: int, month: dt.date) -> tuple[Any, int, list[PointEntry]]:
    """Another worker's month, for an assessor over their grid (NotFound otherwise)."""
    grid = staff.worker_grid(worker_id)
    if grid is None or not (scope.can(P.WORK_ASSESS, grid.path) or scope.user_id == worker_id):
        raise NotFound()
    start, end = month_bounds(month)
    rows = list(PointEntry.objects.within(scope).filter(worker_id=worker_id, at__gte=start, at__lt=end)
                .select_related("created_by").order_by("-at", "-id"))
    return staff.user_get(worker_id), sum(r.points for r in rows), rows


def rules_for(*, scope: Scope, unit: Unit) -> list[dict[str, Any]]:
    """Each kind with the rule in force at the unit and where it comes from."""
    from .services import rule_in_force

    ids = unit.path_ids()
    own = {r.kind: r for r in PointRule.objects.within(scope).filter(unit=unit)}
    del ids
    out = []
    for kind in PointKind:
        rule = rule_in_force(unit, kind.value)
        mine = own.get(kind.value)
        out.append({"kind": kind.value, "label": kind.label, "rule": rule, "own": mine,
                    "inherited": rule is not None and rule.unit_id != unit.pk})
    return out


def manage_units(*, scope: Scope) -> list[Unit]:
    ids = {g.unit_id for g in scope.grants if P.POINTS_MANAGE in g.permissions}
    return list(Unit.dangerously_unscoped.filter(pk__in=ids, is_active=True).order_by("path"))


def assess_units(*, scope: Scope) -> list[Unit]:
    ids = {g.unit_id for g in scope.grants if P.WORK_ASSESS in g.permissions}
    return list(Unit.dangerously_unscoped.filter(pk__in=ids, is_active=True).order_by("path"))


def assess_unit_get(*, scope: Scope, unit_id: int) -> Unit:
    unit: Unit = get_in_scope(Unit.objects.select_related("kind"), scope, pk=unit_id)
    if not scope.can(P.WORK_ASSESS, unit.path):
        raise NotFound()
    return unit


def month_result(*, scope: Scope, unit: Unit, month: dt.date) -> tuple[assessment.Result, Assessment | None]:
    """The published assessment of the month if there is one, else the live preview."""
    if not scope.can(P.WORK_ASSESS, unit.path):
        raise NotFound()
    published = Assessment.objects.within(scope).filter(unit=unit, month=month).select_related("unit").first()
    if published is not None:
        return assessment.from_published(published), published
    return assessment.compute(unit, month), None


def assessments_of(*, scope: Scope, unit: Unit, limit: int = 24) -> QuerySet[Assessment]:
    return Assessment.objects.within(scope).filter(unit=unit).order_by("-month")[:limit]


# --- figures for the measures (gridgov.insights.workforce_measures) ----------------------------

def duty_counts(*, path: str, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(items due in [start, end) under the unit, of which confirmed and done by their due time)."""
    from .assessment import on_time_q

    qs = DutyItem.dangerously_unscoped.filter(unit__path__startswith=path, due_at__gte=start, due_at__lt=end).exclude(
        state=DutyItem.State.WITHDRAWN)
    return qs.count(), qs.filter(on_time_q()).count()


def points_totals(*, path: str, start: dt.datetime, end: dt.datetime) -> tuple[int, int, int, int]:
    """(net points, points awarded, points deducted, assessed workers) under the unit in [start, end)."""
    from django.db.models import Q

    agg = PointEntry.dangerously_unscoped.filter(unit__path__startswith=path, at__gte=start, at__lt=end).aggregate(
        net=Sum("points"), plus=Sum("points", filter=Q(points__gt=0)), minus=Sum("points", filter=Q(points__lt=0)))
    return (int(agg["net"] or 0), int(agg["plus"] or 0), int(agg["minus"] or 0),
            staff.assessed_count(path))


def any_rules() -> bool:
    """Are points rules set anywhere (the world step scores case history only then)?"""
    return PointRule.dangerously_unscoped.exists()


def feed_has_run(*, name: str) -> bool:
    """Has the points feed of this name run before (it keeps a cursor)?"""
    return FeedCursor.objects.filter(name=name).exists()
