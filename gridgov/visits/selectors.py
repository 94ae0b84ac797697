"""Reads of visits, each through the actor's scope: the visit log, a household's visits, the due
list of must-visit households (五必访) and a campaign's progress.

The must-visit arithmetic (`must_visit_status`) is shared by the due list and the visit compliance
measure (gridgov/insights/visit_measures.py), so "overdue" means the same on both:
a household in must-visit groups on day `on` has the cadence c of its most frequent group; its next
deadline is (the local date of its last visit on or before `on`, else the day it entered that
group) + c; it is overdue when that deadline is before `on`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.errors import NotFound
from gridgov.residents.models import Household, HouseholdStatus, Relation, Resident, ResidentStatus, TagAssignment
from gridgov.units.models import Unit

from .models import Visit, VisitCampaign, VisitKind, VisitRule

DUE_SOON_DAYS = 3
CHUNK = 2000


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of a local (China Standard Time) day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


# --- rules ------------------------------------------------------------------------------------------
class RuleBook:
    """The effective must-visit rules over a set of unit paths: the deepest rule for a key group wins."""

    def __init__(self, unit_paths: Iterable[str]) -> None:
        prefixes = sorted({a for p in unit_paths for a in _ancestors(p)})
        self._rules: dict[tuple[str, int], VisitRule] = {}
        for start in range(0, len(prefixes), CHUNK):
            for r in VisitRule.dangerously_unscoped.filter(
                unit_path__in=prefixes[start : start + CHUNK]
            ).select_related("tag"):
                self._rules[(r.unit_path, r.tag_id)] = r
        self._tags = {tag_id for _, tag_id in self._rules}
        self._cache: dict[tuple[str, int], VisitRule | None] = {}

    @property
    def tag_ids(self) -> set[int]:
        return {t for t in self._tags if any(r.is_active for (_, tid), r in self._rules.items() if tid == t)}

    def rule_for(self, path: str, tag_id: int) -> VisitRule | None:
        key = (path, tag_id)
        if key not in self._cache:
            found = None
            for prefix in reversed(_ancestors(path)):
                rule = self._rules.get((prefix, tag_id))
                if rule is not None:
                    found = rule if rule.is_active else None
                    break
            self._cache[key] = found
        return self._cache[key]


def rules_in_force(*, path: str) -> list[VisitRule]:
    """The rules that decide at the unit with this path (shown on the due page: they are not personal)."""
    book = RuleBook([path])
    rules = [book.rule_for(path, t) for t in book.tag_ids]
    return sorted((r for r in rules if r is not None), key=lambda r: (r.cadence_days, r.tag.sort_order))


def rule_list(*, scope: Scope) -> list[VisitRule]:
    return list(
        VisitRule.objects.within(scope)
        .select_related("tag", "unit", "updated_by")
        .order_by("unit_path", "tag__sort_order", "id")
    )


def rule_get(*, scope: Scope, rule_id: int) -> VisitRule:
    rule: VisitRule = get_in_scope(VisitRule.objects.select_related("tag", "unit"), scope, pk=rule_id)
    return rule


def rule_units(*, scope: Scope, limit: int = 300) -> list[Unit]:
    """Units a keeper may set rules at: their grant units and the units below them down to townships."""
    paths = scope.paths_for(P.CATEGORY_MANAGE)
    if not paths:
        return []
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    top = min(p.count("/") for p in paths) - 2  # depth of the shallowest grant unit (paths look like /1/7/)
    return list(Unit.objects.within(scope).filter(q, is_active=True, depth__lte=top + 1).order_by("path")[:limit])


# --- must-visit status ------------------------------------------------------------------------------
@dataclass
class MustVisit:
    household_id: int
    unit_path: str
    cadence: int
    since: dt.date  # the day the household entered the group that sets its cadence
    groups: list[tuple[str, bool, int]] = field(default_factory=list)  # (key-group name, sensitive, cadence)
    last_visit: dt.datetime | None = None

    @property
    def last_visit_date(self) -> dt.date | None:
        return local(self.last_visit).date() if self.last_visit else None

    def deadline(self) -> dt.date:
        base = self.last_visit_date or self.since
        return base + dt.timedelta(days=self.cadence)

    def overdue_on(self, on: dt.date) -> bool:
        return self.deadline() < on

    def days_left(self, on: dt.date) -> int:
        return (self.deadline() - on).days


def must_visit_status(*, households: QuerySet[Household], on: dt.date) -> list[MustVisit]:
    """Every household of `households` (an dangerously_unscoped or scoped queryset) that is in a must-visit group on
    day `on`, with its cadence and its last visit on or before `on`. A tag counts from its start date
    to the day before its end date; a member's tag counts for the household while the member is active."""
    active = households.filter(status=HouseholdStatus.ACTIVE)
    on_q = Q(start_date__lte=on) & (Q(end_date__isnull=True) | Q(end_date__gt=on))
    # Only key groups some unit has a rule for can make a household a must-visit household.
    ruled = set(VisitRule.dangerously_unscoped.filter(is_active=True).values_list("tag_id", flat=True))
    if not ruled:
        return []
    tags = TagAssignment.dangerously_unscoped.filter(on_q, tag_id__in=sorted(ruled))
    # Household tags and active members' tags in two reads, each a semi-join from the (few) tag rows to
    # the households: one read with an OR of the two made PostgreSQL hash every household under the unit
    # twice and scan every resident (a county: 0.68 s; 0.32 s this way, a village a few ms).
    own = (
        tags.filter(Exists(active.filter(pk=OuterRef("household_id"))))
        .values_list(
            "tag_id",
            "tag__name",
            "tag__sensitivity",
            "household_id",
            "household__unit__path",
            "start_date",
            "tag__sort_order",
            "pk",
        )
        .order_by()
    )
    members = (
        tags.filter(resident__status=ResidentStatus.ACTIVE)
        .filter(Exists(active.filter(pk=OuterRef("resident__household_id"))))
        .values_list(
            "tag_id",
            "tag__name",
            "tag__sensitivity",
            "resident__household_id",
            "resident__household__unit__path",
            "start_date",
            "tag__sort_order",
            "pk",
        )
        .order_by()
    )
    # In the tag assignments' own order (the key group's sort order, then the assignment), as one read gave.
    rows = sorted([*own, *members], key=lambda r: (r[6], r[7]))
    book = RuleBook({r[4] for r in rows})
    found: dict[int, MustVisit] = {}
    for tag_id, name, sensitivity, household_id, path, start, _order, _pk in rows:
        rule = book.rule_for(path, tag_id)
        if rule is None:
            continue
        mv = found.get(household_id)
        c = rule.cadence_days
        if mv is None:
            mv = found[household_id] = MustVisit(household_id=household_id, unit_path=path, cadence=c, since=start)
        elif c < mv.cadence or (c == mv.cadence and start < mv.since):
            mv.cadence, mv.since = c, start
        if not any(g[0] == name for g in mv.groups):
            mv.groups.append((name, sensitivity == "sensitive", c))
    ids = sorted(found)
    end = day_start(on + dt.timedelta(days=1))
    for i in range(0, len(ids), CHUNK):
        for hid, last in (
            Visit.dangerously_unscoped.filter(household_id__in=ids[i : i + CHUNK], visited_at__lt=end)
            .values("household_id")
            .annotate(last=Max("visited_at"))
            .values_list("household_id", "last")
        ):
            found[hid].last_visit = last
    for mv in found.values():
        mv.groups.sort(key=lambda g: (g[2], g[0]))
    return list(found.values())


@dataclass
class DueRow:
    household: Household
    status: MustVisit
    days_left: int
    groups: list[str]
    mine: bool
    head: str = ""

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_late(self) -> int:
        return max(0, -self.days_left)


def _visitable(scope: Scope) -> QuerySet[Household] | None:
    """The households the actor may visit (household.edit); None when there are none."""
    paths = scope.paths_for(P.HOUSEHOLD_EDIT)
    if not paths:
        return None
    q = Q()
    for p in paths:
        q |= Q(unit__path__startswith=p)
    return Household.objects.within(scope).filter(q)


@dataclass(frozen=True)
class DueCounts:
    """The due list's figures (我的走访's 逾期未访 and 今天该访, and those due within DUE_SOON_DAYS)."""

    overdue: int
    today: int
    soon: int


def due_counts(*, scope: Scope, today: dt.date, most: int = 1000) -> DueCounts | None:
    """The due list's figures for the home page, by the same arithmetic as `due_list`. Counted only
    when the actor may visit at most `most` households (a grid, a village): then a fixed handful of
    queries (how many households, the rules' key groups, the tagged households, their rules, their last
    visits) whatever the data. None for a larger charge (a township or county office): their 我的走访 lists it."""
    households = _visitable(scope)
    if households is None or households.order_by().values("pk")[: most + 1].count() > most:
        return None
    statuses = must_visit_status(households=households, on=today)
    left = [s.days_left(today) for s in statuses]
    return DueCounts(
        overdue=sum(1 for d in left if d < 0),
        today=sum(1 for d in left if d == 0),
        soon=sum(1 for d in left if 0 < d <= DUE_SOON_DAYS),
    )


def due_list(
    *,
    scope: Scope,
    today: dt.date,
    user_id: int | None = None,
    unit_id: int | None = None,
    include_later: bool = False,
    limit: int = 300,
) -> tuple[list[DueRow], int]:
    """Must-visit households the actor may visit (household.edit), overdue first (most days late
    first), then due soon. `user_id` marks (and puts first among equals) the households that user
    looks after (网格员联系户). Returns (rows, how many more were left off)."""
    households = _visitable(scope)
    if households is None:
        return [], 0
    if unit_id is not None:
        unit = get_in_scope(Unit, scope, pk=unit_id)
        households = households.filter(unit__path__startswith=unit.path)
    statuses = must_visit_status(households=households, on=today)
    if not include_later:
        statuses = [s for s in statuses if s.days_left(today) <= DUE_SOON_DAYS]
    mine: set[int] = set()
    if user_id is not None:
        from gridgov.residents.models import HouseholdAssignment

        mine = set(
            HouseholdAssignment.dangerously_unscoped.filter(
                user_id=user_id,
                kind="grid_worker",
                ended_at__isnull=True,
                household_id__in=[s.household_id for s in statuses],
            ).values_list("household_id", flat=True)
        )
    statuses.sort(key=lambda s: (s.days_left(today), s.household_id not in mine, s.household_id))
    left_off = max(0, len(statuses) - limit)
    statuses = statuses[:limit]
    by_id = (
        Household.dangerously_unscoped.select_related("unit")
        .defer("unit__boundary")
        .in_bulk([s.household_id for s in statuses])
    )
    heads = dict(
        Resident.dangerously_unscoped.filter(
            household_id__in=list(by_id), relation=Relation.HEAD, status=ResidentStatus.ACTIVE
        ).values_list("household_id", "name")
    )
    rows = []
    for s in statuses:
        h = by_id[s.household_id]
        sensitive_ok = scope.can(P.SENSITIVE_TAGS, h.unit.path)
        names = [g[0] if (sensitive_ok or not g[1]) else "重点户" for g in s.groups]
        rows.append(
            DueRow(
                household=h,
                status=s,
                days_left=s.days_left(today),
                groups=list(dict.fromkeys(names)),
                mine=s.household_id in mine,
                head=heads.get(s.household_id, ""),
            )
        )
    return rows, left_off


# --- the visit log -----------------------------------------------------------------------------------
def visit_get(*, scope: Scope, visit_id: int) -> Visit:
    visit: Visit = get_in_scope(
        Visit.objects.select_related("household", "unit", "visitor", "campaign"), scope, pk=visit_id
    )
    return visit


@dataclass
class LogFilter:
    unit_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    kind: str = ""
    visitor_id: int | None = None
    household_id: int | None = None
    campaign_id: int | None = None


def visit_log(*, scope: Scope, f: LogFilter, limit: int = 200) -> list[Visit]:
    qs = Visit.objects.within(scope).select_related("household", "unit", "visitor")
    if f.unit_id is not None:
        unit = get_in_scope(Unit, scope, pk=f.unit_id)
        qs = qs.filter(unit_path__startswith=unit.path)
    if f.start is not None:
        qs = qs.filter(visited_at__gte=day_start(f.start))
    if f.end is not None:
        qs = qs.filter(visited_at__lt=day_start(f.end + dt.timedelta(days=1)))
    if f.kind:
        if f.kind not in VisitKind.values:
            return []
        qs = qs.filter(kind=f.kind)
    if f.visitor_id is not None:
        qs = qs.filter(visitor_id=f.visitor_id)
    if f.household_id is not None:
        qs = qs.filter(household_id=f.household_id)
    if f.campaign_id is not None:
        qs = qs.filter(campaign_id=f.campaign_id)
    return list(qs.order_by("-visited_at", "-id")[:limit])


def visits_for_household(*, scope: Scope, household_id: int, limit: int = 30) -> list[Visit]:
    return list(
        Visit.objects.within(scope)
        .filter(household_id=household_id)
        .select_related("visitor")
        .order_by("-visited_at", "-id")[:limit]
    )


def visitors_in(*, scope: Scope, limit: int = 300) -> list[tuple[int, str]]:
    """Who logged visits the actor may see (the worker filter of the log)."""
    ids = list(Visit.objects.within(scope).values_list("visitor_id", flat=True).distinct()[:limit])
    from gridgov.access.models import User

    return [(u.pk, u.display_name) for u in User.objects.filter(pk__in=ids).order_by("full_name", "id")]


def log_units(*, scope: Scope, limit: int = 300) -> list[Unit]:
    """The units of the actor's subtree above the households (for the log's unit filter)."""
    paths = scope.paths_for(P.HOUSEHOLD_VIEW)
    if not paths:
        return []
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return list(Unit.objects.within(scope).filter(q, is_active=True).order_by("path")[:limit])


# --- campaigns ---------------------------------------------------------------------------------------
def campaign_list(*, scope: Scope, limit: int = 100) -> list[VisitCampaign]:
    return list(
        VisitCampaign.objects.within(scope).select_related("unit", "created_by").order_by("-starts_on", "-id")[:limit]
    )


def campaign_get(*, scope: Scope, campaign_id: int) -> VisitCampaign:
    campaign: VisitCampaign = get_in_scope(
        VisitCampaign.objects.select_related("unit", "created_by"), scope, pk=campaign_id
    )
    return campaign


def campaigns_open_for(*, scope: Scope, household: Household, on: dt.date) -> list[VisitCampaign]:
    return list(
        VisitCampaign.objects.within(scope).filter(
            unit_path__in=_ancestors(household.unit.path), cancelled_at__isnull=True, starts_on__lte=on, ends_on__gte=on
        )
    )


@dataclass
class ProgressRow:
    unit: Unit
    covered: int
    visited: int

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.covered) if self.covered else 0


@dataclass
class CampaignProgress:
    covered: int
    visited: int
    by_grid: list[ProgressRow]
    not_visited: list[Household]

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.covered) if self.covered else 0


def campaign_households(*, campaign: VisitCampaign, scope: Scope | None) -> QuerySet[Household]:
    """The households a campaign covers, as far as the viewer may see them (`scope` None: all)."""
    base = Household.objects.within(scope) if scope is not None else Household.dangerously_unscoped.all()
    qs = base.filter(unit__path__startswith=campaign.unit_path, status=HouseholdStatus.ACTIVE)
    if campaign.covers == VisitCampaign.Covers.MUST_VISIT:
        on = min(campaign.ends_on, max(campaign.starts_on, dt.date.today()))
        ids = [m.household_id for m in must_visit_status(households=qs, on=on)]
        qs = qs.filter(pk__in=ids)
    return qs


def campaign_progress(*, scope: Scope, campaign: VisitCampaign, list_limit: int = 100) -> CampaignProgress:
    """Covered households (those the viewer may see) and how many had at least one visit, of any kind,
    within the campaign's period."""
    households = campaign_households(campaign=campaign, scope=scope)
    start, end = day_start(campaign.starts_on), day_start(campaign.ends_on + dt.timedelta(days=1))
    visited_ids = set(
        Visit.dangerously_unscoped.filter(
            household__in=households.values("pk"), visited_at__gte=start, visited_at__lt=end
        )
        .values_list("household_id", flat=True)
        .distinct()
    )
    per_unit: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for hid, unit_id in households.values_list("pk", "unit_id"):
        per_unit[unit_id][0] += 1
        if hid in visited_ids:
            per_unit[unit_id][1] += 1
    units = Unit.dangerously_unscoped.in_bulk(list(per_unit))
    by_grid = sorted(
        (ProgressRow(unit=units[u], covered=c, visited=v) for u, (c, v) in per_unit.items()),
        key=lambda r: (r.percent, r.unit.path),
    )
    not_visited = (
        list(households.exclude(pk__in=visited_ids).select_related("unit").order_by("unit_id", "id")[:list_limit])
        if len(visited_ids) < 50_000
        else []
    )
    covered = sum(r.covered for r in by_grid)
    return CampaignProgress(
        covered=covered, visited=sum(r.visited for r in by_grid), by_grid=by_grid, not_visited=not_visited
    )


def campaigns_this_year(*, scope: Scope, unit: Unit, year: int) -> int:
    return (
        VisitCampaign.objects.within(scope)
        .filter(unit_path=unit.path, cancelled_at__isnull=True, starts_on__year=year)
        .count()
    )


def visit_counts_by_kind(*, scope: Scope, start: dt.date, end: dt.date) -> dict[str, int]:
    rows = (
        Visit.objects.within(scope)
        .filter(visited_at__gte=day_start(start), visited_at__lt=day_start(end + dt.timedelta(days=1)))
        .values("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return dict(rows)


def not_found() -> Any:
    raise NotFound()


def visit_points(
    *, scope: Scope, unit_path: str, start: dt.date, end: dt.date, limit: int = 3000
) -> list[tuple[float, float, str]]:
    """Where the period's visits were logged (the map's visits layer): (lat, lng, kind), newest first,
    only visits the viewer may see, at most `limit`. No household, no person, no notes."""
    rows = (
        Visit.objects.within(scope)
        .filter(
            unit_path__startswith=unit_path,
            lat__isnull=False,
            visited_at__gte=day_start(start),
            visited_at__lt=day_start(end + dt.timedelta(days=1)),
        )
        .order_by("-visited_at")
        .values_list("lat", "lng", "kind")[:limit]
    )
    return [(round(lat, 5), round(lng, 5), kind) for lat, lng, kind in rows if lat is not None and lng is not None]


def worker_facts(*, since: dt.datetime, until: dt.datetime, limit: int = 5000) -> list[dict[str, Any]]:
    """Visits recorded in [since, until) that score their visitor (the points feed,
    gridgov/processes/points_feed.py), oldest recorded first: one fact per visit, `kind` "visit",
    `user_id` (the visitor), `visit_id`, `at` (when the visit took place: the month it scores in),
    `recorded_at` (when it was written: the feed's window and cursor, so a visit logged days later is
    still read) and `detail` (the visit kind's name and local day; no household, no person, no notes).
    A system read for a job: no scope. Read through visit_created_idx."""
    rows = (
        Visit.dangerously_unscoped.filter(created_at__gte=since, created_at__lt=until)
        .order_by("created_at", "id")
        .values_list("pk", "visitor_id", "visited_at", "created_at", "kind")[:limit]
    )
    labels = dict(VisitKind.choices)
    return [
        {
            "kind": "visit",
            "user_id": visitor_id,
            "visit_id": pk,
            "at": visited_at,
            "recorded_at": created_at,
            "detail": f"{labels.get(kind, kind)} {local(visited_at):%m月%d日}",
        }
        for pk, visitor_id, visited_at, created_at, kind in rows
    ]
