"""What the dashboard, the map and the reports show: measures of a unit, its rankings, breakdowns by
category, source and day, the worst overdue cases, and the grids' cards. Read-only; every read goes
through the actor's scope, and the number of queries does not grow with units or cases."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate

from gridgov.access.models import Grant
from gridgov.access.scope import Scope
from gridgov.cases.models import Case, Category, Channel
from gridgov.cases.states import ACTIVE, CLOCKED, Status
from gridgov.core.clock import LOCAL_TZ
from gridgov.residents.models import Household, HouseholdStatus
from gridgov.units.models import GRID_BASE_KINDS, Unit

from .facts import ASK, HEAT_CELL, breakdown, fresh_state, unit_tallies
from .facts import heat as facts_heat
from .measures import (
    HEADLINE,
    MeasureValue,
    Period,
    Ranked,
    Tallies,
    below_floors,
    cases_at,
    evaluate,
    ranking,
    subordinate_units,
)

WORST_OVERDUE_LIMIT = 10


@dataclass
class Board:
    unit: Unit
    period: Period
    previous: Period
    category: Category | None
    tallies: Tallies
    values: list[MeasureValue]
    ranking: list[Ranked]
    rank_measure: str
    circular: list[tuple[Ranked, list[MeasureValue]]]
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_day: list[tuple[str, int, int]]  # date, reported, closed
    worst_overdue: list[Case]
    extra: dict[str, Any] = field(default_factory=dict)
    computed_at: dt.datetime | None = None

    @property
    def headline(self) -> list[MeasureValue]:
        return [v for v in self.values if v.measure.code in HEADLINE]

    def chart_data(self) -> dict[str, Any]:
        """The JSON the chart script reads (ECharts options are built in the static script)."""
        return {
            "category": {"names": [n for n, _ in self.by_category], "values": [v for _, v in self.by_category]},
            "channel": [{"name": n, "value": v} for n, v in self.by_channel],
            "days": {"dates": [d for d, _, _ in self.by_day], "reported": [r for _, r, _ in self.by_day],
                     "closed": [c for _, _, c in self.by_day]},
            "ranking": {"names": [r.unit.name for r in self.ranking],
                        "values": [None if (v := r.value(self.rank_measure).value) is None else round(v * 100, 1)
                                   if r.value(self.rank_measure).measure.kind == "rate" else round(v, 1)
                                   for r in self.ranking],
                        "label": next(v.measure.label for v in self.values if v.measure.code == self.rank_measure)},
        }


# A kept board older than GRIDGOV_INSIGHTS_CACHE_SECONDS is still served for this much longer while one
# request recomputes it (the others do not all recompute at once when it expires).
STALE_GRACE_SECONDS = 300
# A request that finds no kept board while another is computing it waits this long for it, then computes.
WAIT_FOR_OTHER_SECONDS = 10.0
_POLL_SECONDS = 0.05


def kept(key: str, seconds: int, compute: Any, *, clock: Any = time.monotonic, sleep: Any = time.sleep) -> Any:
    """`compute()`, kept in the shared cache under `key` for `seconds`, computed by one request at a time.

    Fresh: served as kept. Older (up to STALE_GRACE_SECONDS more): served as kept while the one request
    that takes the key's lock recomputes it. Missing: the request that takes the lock computes it; the
    others wait for it (up to WAIT_FOR_OTHER_SECONDS, then compute themselves). So a county board that
    takes half a second is computed once per period of `seconds`, not once per request."""
    lock = f"{key}:computing"
    found = cache.get(key)
    wall = time.time()
    if isinstance(found, tuple) and len(found) == 2:
        value, fresh_until = found
        if wall < fresh_until or not cache.add(lock, 1, timeout=int(WAIT_FOR_OTHER_SECONDS) * 6):
            return value
    elif not cache.add(lock, 1, timeout=int(WAIT_FOR_OTHER_SECONDS) * 6):
        deadline = clock() + WAIT_FOR_OTHER_SECONDS
        while clock() < deadline:
            sleep(_POLL_SECONDS)
            found = cache.get(key)
            if isinstance(found, tuple) and len(found) == 2:
                return found[0]
        return compute()
    try:
        value = compute()
        cache.set(key, (value, time.time() + seconds), seconds + STALE_GRACE_SECONDS)
    finally:
        cache.delete(lock)
    return value


def scope_fingerprint(scope: Scope) -> str:
    """A short digest of what a scope holds (paths, permissions, departments): actors with the same
    grants share it, so figures read through the scope can be kept for all of them under one key."""
    held = sorted((g.path, g.role_code, sorted(g.permissions), g.department_id or 0) for g in scope.grants)
    return hashlib.sha256(repr(held).encode()).hexdigest()[:24]


def cached_board(*, scope: Scope, unit: Unit, period: Period, now: dt.datetime, category: Category | None = None,
                 rank_measure: str = "on_time_rate", channel: str = "") -> Board:
    """The board, kept for GRIDGOV_INSIGHTS_CACHE_SECONDS (see `kept`: one request computes, the others are
    served the kept board, a little stale at most STALE_GRACE_SECONDS).

    The caller has checked the actor may read the unit's case figures; a unit's figures are then the
    same for everyone allowed to read them (cases are selected by where they happened), so the key is
    the unit and the filters, never the user. The page shows when the figures were computed."""
    seconds = int(getattr(settings, "GRIDGOV_INSIGHTS_CACHE_SECONDS", 0))

    def compute() -> Board:
        return board(scope=scope, unit=unit, period=period, now=now, category=category,
                     rank_measure=rank_measure, channel=channel)

    if seconds <= 0:
        return compute()
    key = (f"insights:board:v2:{unit.pk}:{unit.path}:{period.start}:{period.end}:"
           f"{category.pk if category else ''}:{rank_measure}:{channel}")
    result = kept(key, seconds, compute)
    return result if isinstance(result, Board) else compute()


def board(*, scope: Scope, unit: Unit, period: Period, now: dt.datetime, category: Category | None = None,
          rank_measure: str = "on_time_rate", channel: str = "") -> Board:
    state = fresh_state()
    subs = subordinate_units(scope=scope, unit=unit)
    current = unit_tallies(scope=scope, within=unit, units=[unit, *subs], period=period, now=now,
                           category=category, channel=channel, state=state)
    previous_period = period.previous()
    before = unit_tallies(scope=scope, within=unit, units=[unit], period=previous_period, now=now,
                          category=category, channel=channel, state=state, snapshot=False)
    total = current[unit.pk]
    values = evaluate(total, before[unit.pk])
    rows = ranking(current, subs, rank_measure)
    split = None if (category is not None or channel) else breakdown(
        scope=scope, unit=unit, period=period, state=state, live=_breakdown_live)
    if split is None:
        base = cases_at(scope=scope, unit=unit, category=category, channel=channel)
        by_category, by_channel, by_day = _breakdown_live(base, period)
    else:
        by_category, by_channel, by_day = split.by_category, split.by_channel, split.by_day
    return Board(
        unit=unit, period=period, previous=previous_period, category=category, tallies=total, values=values,
        ranking=rows, rank_measure=rank_measure, circular=below_floors(rows),
        by_category=by_category, by_channel=by_channel,
        by_day=by_day, worst_overdue=worst_overdue(scope=scope, unit=unit, now=now,
                                                   category=category, channel=channel),
        computed_at=now,
    )


def _breakdown_live(base: Any, period: Period) -> tuple[list[tuple[str, int]], list[tuple[str, int]],
                                                        list[tuple[str, int, int]]]:
    reported = base.filter(created_at__gte=period.lo, created_at__lt=period.hi)
    return _by_category(reported), _by_channel(reported), _by_day(base, period)


def _by_category(reported: Any) -> list[tuple[str, int]]:
    """Reported cases by top-level category (subcategories count under their parent)."""
    counts: dict[str, int] = {}
    for row in reported.order_by().values("category__name", "category__parent__name").annotate(n=Count("pk")):
        name = row["category__parent__name"] or row["category__name"]
        counts[name] = counts.get(name, 0) + row["n"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _by_channel(reported: Any) -> list[tuple[str, int]]:
    labels = dict(Channel.choices)
    rows = reported.order_by().values("channel").annotate(n=Count("pk"))
    return sorted(((labels.get(r["channel"], r["channel"]), r["n"]) for r in rows), key=lambda kv: (-kv[1], kv[0]))


def _by_day(base: Any, period: Period) -> list[tuple[str, int, int]]:
    reported = {
        r["day"]: r["n"]
        for r in base.filter(created_at__gte=period.lo, created_at__lt=period.hi).order_by()
        .annotate(day=TruncDate("created_at", tzinfo=LOCAL_TZ)).values("day").annotate(n=Count("pk"))
    }
    closed = {
        r["day"]: r["n"]
        for r in base.filter(status=Status.CLOSED, closed_at__gte=period.lo, closed_at__lt=period.hi).order_by()
        .annotate(day=TruncDate("closed_at", tzinfo=LOCAL_TZ)).values("day").annotate(n=Count("pk"))
    }
    return [(f"{d:%m-%d}", reported.get(d, 0), closed.get(d, 0)) for d in period.dates()]


def worst_overdue(*, scope: Scope, unit: Unit, now: dt.datetime, category: Category | None = None,
                  limit: int = WORST_OVERDUE_LIMIT, channel: str = "") -> list[Case]:
    """Open cases furthest past their resolution deadline."""
    return list(
        cases_at(scope=scope, unit=unit, category=category, channel=channel)
        .filter(status__in=[s.value for s in CLOCKED], resolve_due__lt=now)
        .select_related("category", "unit", "holder_unit", "holder_department")
        .order_by("resolve_due", "id")[:limit]
    )


# --- grids: cards, households, heads ----------------------------------------------------------

def households_by_unit(units: list[Unit], *, scope: Scope | None = None) -> dict[int, int | None]:
    """Households per grid: those in the household ledger (在册, the grid and its micro-grids), in one
    grouped query; for a grid with none registered yet, the unit's estimate (None if it has none)."""
    counts: dict[int, int] = {}
    if scope is not None and units:
        wanted = {u.pk for u in units}
        # The deepest path every unit lies under (their common ancestor's path).
        segments = [u.path.strip("/").split("/") for u in units]
        shared = segments[0]
        for seg in segments[1:]:
            n = 0
            while n < min(len(shared), len(seg)) and shared[n] == seg[n]:
                n += 1
            shared = shared[:n]
        common = "/" + "".join(f"{x}/" for x in shared)
        for path, n in (Household.objects.within(scope).filter(unit__path__startswith=common,
                                                                status=HouseholdStatus.ACTIVE)
                        .order_by().values_list("unit__path").annotate(n=Count("pk"))):
            for uid in (int(x) for x in path.strip("/").split("/") if x):
                if uid in wanted:
                    counts[uid] = counts.get(uid, 0) + n
    return {u.pk: counts[u.pk] if counts.get(u.pk) else u.household_estimate for u in units}


# A county has a few thousand grids; the map shows them all.
GRID_LIMIT = 20000


def grids_under(*, scope: Scope, unit: Unit, limit: int = GRID_LIMIT, geometry: bool = True) -> list[Unit]:
    """The grids (not micro-grids) of a unit's subtree, or the unit itself if it is a grid. Without
    `geometry` only what the map's cards need is read (no boundaries, kinds or parents: thousands of
    grids; the map sends the boundaries apart)."""
    qs = (Unit.objects.within(scope).filter(path__startswith=unit.path, is_active=True,
                                             kind__base__in=list(GRID_BASE_KINDS)).order_by("path"))
    if geometry:
        qs = qs.select_related("kind", "parent").defer("parent__boundary")
    else:
        qs = qs.only("id", "name", "serial", "path", "household_estimate", "version", "grid_type")
    grids = list(qs[:limit])
    # Micro-grids sit under grids: show the coarser level unless the unit is itself a grid. A grid is kept
    # when none of its ancestors' paths is a grid's path (a set lookup per ancestor, not a scan of all grids).
    paths = {g.path for g in grids}

    def ancestors(path: str) -> list[str]:
        parts = path.strip("/").split("/")
        return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]

    return [g for g in grids if not any(a in paths for a in ancestors(g.path))]


def grid_staff(*, scope: Scope, units: list[Unit]) -> dict[int, dict[str, list[str]]]:
    """Names of each grid's head (网格长) and workers (网格员) by role code, in one query."""
    out: dict[int, dict[str, list[str]]] = {}
    rows = (Grant.objects.within(scope)
            .filter(unit__in=[u.pk for u in units], revoked_at__isnull=True,
                    role__code__in=["grid_head", "grid_worker_full", "grid_worker_part"])
            .order_by("id").values_list("unit_id", "role__code", "user__full_name"))
    for unit_id, role, name in rows:
        out.setdefault(unit_id, {}).setdefault(role, []).append(name)
    return out


def grid_heads(*, scope: Scope, units: list[Unit]) -> dict[int, str]:
    """The grid head's name for each grid (网格长)."""
    return {k: "、".join(v.get("grid_head", [])) for k, v in grid_staff(scope=scope, units=units).items()}


@dataclass
class GridCard:
    unit: Unit
    head: str
    households: int | None
    open_cases: int
    overdue: int
    tallies: Tallies

    @property
    def values(self) -> list[MeasureValue]:
        return evaluate(self.tallies)


def grid_cards(*, scope: Scope, unit: Unit, period: Period, now: dt.datetime,
               category: Category | None = None, state: Any = ASK) -> list[GridCard]:
    """`state`: the facts' state if the caller read it (by default read here)."""
    grids = grids_under(scope=scope, unit=unit, geometry=False)
    totals = unit_tallies(scope=scope, within=unit, units=grids, period=period, now=now, category=category,
                          state=state)
    heads = grid_heads(scope=scope, units=grids)
    households = households_by_unit(grids, scope=scope)
    cards = []
    for g in grids:
        t = totals[g.pk]
        cards.append(GridCard(g, heads.get(g.pk, ""), households.get(g.pk), t.open_now, t.overdue_open, t))
    return cards


def grid_outlines(grids: list[Unit]) -> dict[int, Any]:
    """The boundaries of the given grids (GeoJSON, WGS-84), in one query."""
    return dict(Unit.dangerously_unscoped.filter(pk__in=[g.pk for g in grids]).values_list("pk", "boundary"))


PIN_LIMIT = 1000


def case_pins(*, scope: Scope, unit: Unit, now: dt.datetime, category: Category | None = None,
              limit: int = PIN_LIMIT) -> list[dict[str, Any]]:
    """Open cases with a location, for the map (most recent first, capped)."""
    rows = (
        cases_at(scope=scope, unit=unit, category=category)
        .filter(status__in=[s.value for s in ACTIVE], lat__isnull=False, lng__isnull=False)
        .order_by("-created_at", "-id")
        .values("pk", "number", "title", "lat", "lng", "status", "resolve_due", "category__name")[:limit]
    )
    labels = dict(Status.choices)
    clocked = {s.value for s in CLOCKED}
    return [
        {"id": r["pk"], "number": r["number"], "title": r["title"], "lat": r["lat"], "lng": r["lng"],
         "status": labels.get(r["status"], r["status"]), "category": r["category__name"],
         "overdue": bool(r["status"] in clocked and r["resolve_due"] is not None and r["resolve_due"] < now)}
        for r in rows
    ]


def open_cases_by_grid(*, scope: Scope, unit: Unit) -> dict[str, int]:
    """Open cases per place (grid path), in one query."""
    return {
        r["unit_path"]: r["n"]
        for r in cases_at(scope=scope, unit=unit).filter(status__in=[s.value for s in ACTIVE]).order_by()
        .values("unit_path").annotate(n=Count("pk"))
    }


def case_heat(*, scope: Scope, unit: Unit, period: Any, category: Category | None = None,
              state: Any = None) -> list[tuple[float, float, int]]:
    """Cases reported in the period with a location, counted per cell: (lat, lng of the cell centre, count),
    from the heat facts for whole months when `state` (usable facts) is given."""
    cells = facts_heat(scope=scope, unit=unit, period=period, state=state, category=category)
    return [(round((cy + 0.5) * HEAT_CELL, 6), round((cx + 0.5) * HEAT_CELL, 6), n)
            for (cy, cx), n in sorted(cells.items())]
