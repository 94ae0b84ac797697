"""Day facts: the additive tallies pre-aggregated per local day and unit, so a county dashboard over a
year reads a few thousand rows instead of a year of cases and history — with figures exactly equal to
the definitions in measures.py (tests/insights/test_facts.py compares the two on random worlds).

What is kept (`DayFact`, one row per day × unit on a case's path × {all, one category, one channel}):
  dispatched, responded (by the dispatch's day), closed, resolved, rated, satisfied, on_time, handled,
  handling time (by the closing day), returned (by the return's day), reported, repeats (by the report's
  day). All of these depend only on rows that never change once written: a case's place, category,
  channel and report time are fixed; a closed case is final; history rows are append-only. The one
  exception is whether a dispatch was signed for in time, which is known only when its clock ends.

`facts_build` (the Celery beat job `insights.facts_build`) writes the days before `cutoff` with the
dispatch outcomes known before `settled_at` (ten minutes ago, or the start of the oldest open
transaction if older, so nothing still uncommitted can have happened before it), all in one
transaction with the state row: killed midway it leaves the previous facts; run twice it rebuilds the
same rows. Each run rebuilds only the new days and the days of dispatches signed for since the last run.

Reading (`unit_tallies`): facts for the days before `cutoff` + the sign-fors since `settled_at` of
dispatches in those days + every tally computed from raw rows for the days from `cutoff` on (today,
usually) + the tallies that are not additive by day, computed from raw rows for the period: ping-pong
(distinct cases) and open / overdue now (a snapshot). If anything was written behind the facts' back
(a history row or a case dated before what the facts cover, added after they were built) or the
deadline settings changed, the facts are not used until rebuilt: the figures are computed from raw rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as Pick
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum, When
from django.db.models.functions import Floor, TruncMonth

from gridgov.access.scope import Scope
from gridgov.cases.models import CalendarOverride, Case, CaseEvent, Category, Channel
from gridgov.cases.states import Status
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.units.models import Unit

from .measures import (
    DISPATCH_ACTIONS,
    REPEAT_WINDOW,
    RESOLVED_FROM,
    SATISFIED_FROM,
    Period,
    ResponseClock,
    Tallies,
    cases_at,
    dispatch_outcomes,
    tallies_by_place,
)
from .models import DayFact, FactState, HeatFact, MonthFact, ReturnFact

# Bump when the way facts are computed changes: a different version rebuilds everything.
FACTS_VERSION = "4"  # 2: repeat-return days (ping-pong); 3: month facts; 4: heat facts
# Only what happened at least this long ago is settled into facts (a service's transaction is shorter).
SETTLE = dt.timedelta(minutes=10)
# Days per bulk write while building.
CHUNK_DAYS = 31
# Rows by category and by channel are kept for the top levels of the tree only (a county and its
# townships): below, a day holds a handful of cases, so those rows would be one per case. Filtered
# figures of smaller units are computed from raw rows (a village's year is a few hundred cases).
DETAIL_DEPTH = 2

# The map's heat layer counts cases per cell of this many degrees (about 500 m).
HEAT_CELL = 0.005

COUNTS = ("dispatched", "responded", "closed", "resolved", "rated", "satisfied", "on_time", "handled",
          "returned", "reported", "repeats")
FIELDS = (*COUNTS, "handling_us")
_I = {name: i for i, name in enumerate(FIELDS)}

Key = tuple[dt.date, str, int, str]  # day, place (grid path), category, channel


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


def path_ids(path: str) -> list[int]:
    return [int(x) for x in path.strip("/").split("/") if x]


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def whole_months(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of the calendar months lying wholly in [first, last]."""
    month = first if first.day == 1 else next_month(first)
    out = []
    while next_month(month) - dt.timedelta(days=1) <= last:
        out.append(month)
        month = next_month(month)
    return out


def _write_months(months: list[dt.date]) -> int:
    """(Re)write the month facts of these months as the sums of their day facts (all cases)."""
    if not months:
        return 0
    span = Q()
    for month in months:
        span |= Q(day__gte=month, day__lt=next_month(month))
    rows = [
        MonthFact(month=r.pop("m"), **{f: r[f"s_{f}"] or 0 for f in FIELDS}, unit_id=r["unit_id"])
        for r in DayFact.objects.filter(span, category_id=0, channel="").order_by()
        .annotate(m=TruncMonth("day")).values("unit_id", "m").annotate(**{f"s_{f}": Sum(f) for f in FIELDS})
    ]
    MonthFact.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def heat_cells(cases: QuerySet[Case], *by: str) -> Any:
    """Cases with a location counted per heat cell (and `by`): values *by, cy, cx (floor of degrees /
    HEAT_CELL), n."""
    return (cases.filter(lat__isnull=False, lng__isnull=False).order_by()
            .annotate(cy=Floor(F("lat") / HEAT_CELL), cx=Floor(F("lng") / HEAT_CELL))
            .values(*by, "cy", "cx").annotate(n=Count("pk")))


def _write_heat(months: list[dt.date], cutoff: dt.date) -> int:
    """(Re)write the heat facts of these months from the cases reported in them before the cutoff."""
    rows = []
    for month in months:
        lo, hi = midnight(month), midnight(min(next_month(month), cutoff))
        if hi <= lo:
            continue
        for path, cy, cx, n in (heat_cells(Case.dangerously_unscoped.filter(created_at__gte=lo, created_at__lt=hi),
                                           "unit_path")
                                .values_list("unit_path", "cy", "cx", "n")):
            rows.append(HeatFact(month=month, place=path, cy=int(cy), cx=int(cx), n=n))
    HeatFact.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def fingerprint() -> str:
    """A digest of everything besides case rows that the facts depend on: the response deadlines."""
    h = hashlib.sha256(FACTS_VERSION.encode())
    for pk, deadlines in Category.objects.order_by("pk").values_list("pk", "deadlines"):
        h.update(json.dumps([pk, deadlines], sort_keys=True, default=str).encode())
    for day, workday in CalendarOverride.objects.order_by("date").values_list("date", "is_workday"):
        h.update(f"{day}:{workday};".encode())
    return h.hexdigest()


# --- building ------------------------------------------------------------------------------------

def _day_tallies(d0: dt.date, d1: dt.date, settled: dt.datetime, clock: ResponseClock) -> dict[Key, list[int]]:
    """Tallies of the days [d0, d1) by place, category and channel, from the raw rows."""
    lo, hi = midnight(d0), midnight(d1)
    acc: dict[Key, list[int]] = {}

    def at(when: dt.datetime, path: str, category_id: int, chan: str) -> list[int]:
        key = (local(when).date(), path, category_id, chan)
        row = acc.get(key)
        if row is None:
            row = acc[key] = [0] * len(FIELDS)
        return row

    for closed_at, path, cat, chan, rating, resolved_at, due, created in (
        Case.dangerously_unscoped.filter(status=Status.CLOSED, closed_at__gte=lo, closed_at__lt=hi).order_by()
        .values_list("closed_at", "unit_path", "category_id", "channel", "rating", "resolved_at", "resolve_due",
                     "created_at")
    ):
        assert closed_at is not None  # filtered on it
        r = at(closed_at, path, cat, chan)
        r[_I["closed"]] += 1
        if rating is not None:
            r[_I["rated"]] += 1
            r[_I["resolved"]] += rating >= RESOLVED_FROM
            r[_I["satisfied"]] += rating >= SATISFIED_FROM
        if resolved_at is not None:
            r[_I["handled"]] += 1
            r[_I["handling_us"]] += (resolved_at - created) // dt.timedelta(microseconds=1)
            r[_I["on_time"]] += due is not None and resolved_at <= due

    # Reported, and repeats (the same rule as measures._reported: any earlier case of the same category at
    # the same place within 30 days, whatever its channel or status).
    times: dict[tuple[int, int], list[dt.datetime]] = {}
    wanted: list[tuple[tuple[int, int], dt.datetime, str, int, str]] = []
    for unit_id, cat, created, chan, path in (
        Case.dangerously_unscoped.filter(created_at__gte=lo - REPEAT_WINDOW, created_at__lt=hi).order_by()
        .values_list("unit_id", "category_id", "created_at", "channel", "unit_path")
    ):
        times.setdefault((unit_id, cat), []).append(created)
        if created >= lo:
            wanted.append(((unit_id, cat), created, path, cat, chan))
    for series in times.values():
        series.sort()
    for key, created, path, cat, chan in wanted:
        r = at(created, path, cat, chan)
        r[_I["reported"]] += 1
        series = times[key]
        before = bisect_left(series, created) - 1
        if before >= 0 and series[before] >= created - REPEAT_WINDOW:
            r[_I["repeats"]] += 1

    for when, path, cat, chan in (
        CaseEvent.dangerously_unscoped.filter(action="return", at__gte=lo, at__lt=hi).order_by()
        .values_list("at", "case__unit_path", "case__category_id", "case__channel")
    ):
        at(when, path, cat, chan)[_I["returned"]] += 1

    for d in dispatch_outcomes(base=Case.dangerously_unscoped.all(), lo=lo, hi=hi, settled=settled, clock=clock):
        r = at(d.at, d.path, d.category_id, d.channel)
        r[_I["dispatched"]] += 1
        r[_I["responded"]] += d.responded
    return acc


RepeatDay = tuple[int, dt.date, str, int, str]  # case, local day, place (grid path), category, channel


def repeat_return_days(*, base: QuerySet[Case] | None, lo: dt.datetime, hi: dt.datetime) -> set[RepeatDay]:
    """The days in [lo, hi) on which a case (of `base`, or any) was returned with at least two returns in all
    by that day's end.

    Ping-pong over a period is, by definition (measures._returns), the cases returned in the period with two
    or more returns up to the period's end. That is exactly the cases with a day like this in the period: the
    last return before the period's end lies in the period and has all of them before it; conversely such a
    day's return lies in the period with two returns before the end. So the count is the number of distinct
    cases over these (case, day) rows, whatever the period, and the rows of a day never change."""
    return returns_and_repeats(base=base, lo=lo, hi=hi)[1]


def returns_and_repeats(*, base: QuerySet[Case] | None, lo: dt.datetime,
                        hi: dt.datetime) -> tuple[dict[str, int], set[RepeatDay]]:
    """Returns made in [lo, hi) by place (the return tally of measures._returns) and the repeat-return days
    in [lo, hi) (`repeat_return_days`), from one read of the returns of the cases returned in [lo, hi)."""
    in_period = CaseEvent.dangerously_unscoped.filter(action="return", at__gte=lo, at__lt=hi)
    if base is not None:
        in_period = in_period.filter(case__in=base.values("pk"))
    returned: dict[str, int] = {}
    out: set[RepeatDay] = set()
    seen: dict[int, int] = {}
    for case_id, when, path, cat, chan in (
        CaseEvent.dangerously_unscoped.filter(action="return", at__lt=hi, case_id__in=in_period.values("case_id"))
        .order_by("case_id", "at", "seq")
        .values_list("case_id", "at", "case__unit_path", "case__category_id", "case__channel")
    ):
        seen[case_id] = seen.get(case_id, 0) + 1
        if when >= lo:
            returned[path] = returned.get(path, 0) + 1
            if seen[case_id] >= 2:
                out.add((case_id, local(when).date(), path, cat, chan))
    return returned, out


def _fact_rows(acc: dict[Key, list[int]]) -> list[DayFact]:
    """Place tallies added up into rows of every unit on the place's path, for all / category / channel."""
    rows: dict[tuple[dt.date, int, int, str], list[int]] = {}
    for (day, path, cat, chan), values in acc.items():
        for depth, uid in enumerate(path_ids(path), 1):
            keys = ((day, uid, 0, ""), (day, uid, cat, ""), (day, uid, 0, chan)) if depth <= DETAIL_DEPTH \
                else ((day, uid, 0, ""),)
            for key in keys:
                row = rows.get(key)
                if row is None:
                    rows[key] = list(values)
                else:
                    for i, v in enumerate(values):
                        row[i] += v
    return [DayFact(day=day, unit_id=uid, category_id=cat, channel=chan, **dict(zip(FIELDS, values, strict=True)))
            for (day, uid, cat, chan), values in rows.items()]


def _oldest_transaction_start() -> dt.datetime | None:
    """The start of the oldest other open transaction on this database (PostgreSQL): what it writes is
    dated no earlier, so facts settled before it cannot miss it."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")
        row = cur.fetchone()
    return row[0] if row else None


def _behind_the_back(state: FactState) -> bool:
    """History or cases dated inside what the facts cover but written after they were built."""
    # min() over the rows past the high-water marks (a primary-key range): EXISTS ... LIMIT 1 with the date
    # condition tempted the planner into scanning the whole table.
    first_event = CaseEvent.dangerously_unscoped.filter(pk__gt=state.event_hwm).aggregate(m=Min("at"))["m"]
    first_case = Case.dangerously_unscoped.filter(pk__gt=state.case_hwm).aggregate(m=Min("created_at"))["m"]
    return ((first_event is not None and first_event < state.settled_at)
            or (first_case is not None and first_case < midnight(state.cutoff)))


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as half-open ranges of at most CHUNK_DAYS consecutive days."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day and (day - out[-1][0]).days < CHUNK_DAYS:
            out[-1] = (out[-1][0], day + dt.timedelta(days=1))
        else:
            out.append((day, day + dt.timedelta(days=1)))
    return out


@dataclass(frozen=True)
class BuildReport:
    status: str  # "full" | "incremental" | "skipped"
    days: int
    rows: int
    cutoff: dt.date | None


def facts_build(*, now: dt.datetime, full: bool = False) -> BuildReport:
    """Bring the day facts up to date. Idempotent; one transaction; concurrent runs queue on the state row."""
    settled = now - SETTLE
    oldest = _oldest_transaction_start()
    if oldest is not None and oldest < settled:
        settled = oldest
    cutoff = local(settled).date()
    with transaction.atomic():
        state = FactState.objects.select_for_update().filter(pk=1).first()
        if state is not None and not full and settled <= state.settled_at:
            return BuildReport("skipped", 0, 0, state.cutoff)
        event_hwm = CaseEvent.dangerously_unscoped.aggregate(m=Max("pk"))["m"] or 0
        case_hwm = Case.dangerously_unscoped.aggregate(m=Max("pk"))["m"] or 0
        digest = fingerprint()
        rebuild = full or state is None or state.fingerprint != digest or _behind_the_back(state)
        if rebuild:
            first = Case.dangerously_unscoped.aggregate(m=Min("created_at"))["m"]
            first_event = CaseEvent.dangerously_unscoped.aggregate(m=Min("at"))["m"]
            starts = [local(x).date() for x in (first, first_event) if x is not None]
            start = min(starts) if starts else cutoff
            days = [start + dt.timedelta(days=i) for i in range(max(0, (cutoff - start).days))]
            DayFact.objects.all().delete()
            ReturnFact.objects.all().delete()
        else:
            assert state is not None
            days = [state.cutoff + dt.timedelta(days=i) for i in range(max(0, (cutoff - state.cutoff).days))]
            # Dispatches already in facts whose clock ended (signed for, or not) since they were settled.
            ended = (CaseEvent.dangerously_unscoped.filter(action__in=("acknowledge", "return", "cancel",
                                                                       *DISPATCH_ACTIONS),
                                               at__gte=state.settled_at, at__lt=settled).values("case_id"))
            days += sorted({
                local(a).date() for a in CaseEvent.dangerously_unscoped.filter(
                    case_id__in=ended, action__in=DISPATCH_ACTIONS, at__lt=midnight(state.cutoff))
                .values_list("at", flat=True)
            })
            DayFact.objects.filter(day__in=set(days)).delete()
            ReturnFact.objects.filter(day__in=set(days)).delete()
        clock = ResponseClock()
        written = 0
        for d0, d1 in _runs(days):
            rows = _fact_rows(_day_tallies(d0, d1, settled, clock))
            DayFact.objects.bulk_create(rows, batch_size=5000)
            written += len(rows)
            ReturnFact.objects.bulk_create(
                [ReturnFact(case_id=c, day=d, place=path, category_id=cat, channel=chan)
                 for c, d, path, cat, chan in repeat_return_days(base=None, lo=midnight(d0), hi=midnight(d1))],
                batch_size=5000)
        months = sorted({d.replace(day=1) for d in days})
        if rebuild:
            MonthFact.objects.all().delete()
            HeatFact.objects.all().delete()
        else:
            MonthFact.objects.filter(month__in=months).delete()
            HeatFact.objects.filter(month__in=months).delete()
        _write_months(months)
        _write_heat(months, cutoff)
        FactState.objects.update_or_create(pk=1, defaults={
            "cutoff": cutoff, "settled_at": settled, "event_hwm": event_hwm, "case_hwm": case_hwm,
            "fingerprint": digest, "built_at": now, "days_built": len(set(days)),
        })
    return BuildReport("full" if rebuild else "incremental", len(set(days)), written, cutoff)


# --- reading -------------------------------------------------------------------------------------

def fresh_state() -> FactState | None:
    """The facts' state if they can be used now, else None (the figures are then computed from raw rows)."""
    state = FactState.objects.filter(pk=1).first()
    if state is None or state.fingerprint != fingerprint() or _behind_the_back(state):
        return None
    return state


ASK = _ASK = object()  # unit_tallies(state=ASK): read the facts' state there


def unit_tallies(*, scope: Scope, within: Unit, units: list[Unit], period: Period, now: dt.datetime,
                 category: Category | None = None, channel: str = "", state: Any = _ASK,
                 snapshot: bool = True) -> dict[int, Tallies]:
    """Tallies of each unit (all in `within`'s subtree; the caller checked the actor may read `within`'s
    figures), equal to rolling up measures.tallies_by_place by path. Without `snapshot`, open and overdue
    now are left at 0 (a previous period's figures need no snapshot: it has no trend)."""
    wanted = {u.pk for u in units}
    out = {pk: Tallies() for pk in wanted}
    targets: dict[str, list[Tallies]] = {}  # a place's path → the tallies of the wanted units on it

    def add(by_place: dict[str, Tallies]) -> None:
        for path, t in by_place.items():
            into = targets.get(path)
            if into is None:
                into = targets[path] = [out[uid] for uid in path_ids(path) if uid in wanted]
            for total in into:
                total.add(t)

    if state is _ASK:
        state = fresh_state()
    filtered = category is not None or bool(channel)
    if state is None or (category is not None and channel) or (
            filtered and any(len(path_ids(u.path)) > DETAIL_DEPTH for u in [within, *units])):
        add(tallies_by_place(scope=scope, unit=within, period=period, now=now, category=category, channel=channel))
        return out

    last_fact_day = min(period.end, state.cutoff - dt.timedelta(days=1))
    if period.start <= last_fact_day:
        sums = {f"s_{f}": Sum(f) for f in FIELDS}
        q = DayFact.objects.filter(unit_id__in=wanted)
        months: list[dt.date] = []
        if category is not None:
            q = q.filter(category_id__in=_category_ids(category), channel="")
        else:
            q = q.filter(category_id=0, channel=channel)
            if not channel:
                months = whole_months(period.start, last_fact_day)
        if months:
            # Whole months from the month facts, the days around them from the day facts: one statement.
            first, after = months[0], next_month(months[-1])
            q = q.filter(Q(day__gte=period.start, day__lt=first) | Q(day__gte=after, day__lte=last_fact_day))
            rows: Any = q.order_by().values("unit_id").annotate(**sums).union(
                MonthFact.objects.filter(unit_id__in=wanted, month__gte=first, month__lt=after).order_by()
                .values("unit_id").annotate(**sums), all=True)
        else:
            rows = q.filter(day__gte=period.start, day__lte=last_fact_day).order_by().values("unit_id").annotate(**sums)
        for r in rows:
            t = out[r["unit_id"]]
            for f in COUNTS:
                setattr(t, f, getattr(t, f) + (r[f"s_{f}"] or 0))
            t.handling_us += r["s_handling_us"] or 0
        # Dispatches in those days signed for (in time) after the facts were settled.
        base = cases_at(scope=scope, unit=within, category=category, channel=channel)
        late = CaseEvent.dangerously_unscoped.filter(action="acknowledge", at__gte=state.settled_at).values("case_id")
        extra: dict[str, Tallies] = {}
        for d in dispatch_outcomes(base=base.filter(pk__in=late), lo=period.lo,
                                   hi=min(period.hi, midnight(state.cutoff))):
            if d.responded and d.ended_at is not None and d.ended_at >= state.settled_at:
                extra.setdefault(d.path, Tallies()).responded += 1
        add(extra)
    tail_repeats: set[RepeatDay] = set()
    if period.end >= state.cutoff:
        tail = Period(max(period.start, state.cutoff), period.end)
        add(tallies_by_place(scope=scope, unit=within, period=tail, now=now, category=category, channel=channel,
                             parts=frozenset({"closed", "reported", "response"})))
        # Today's returns and today's repeat-return days, in one read.
        returned, tail_repeats = returns_and_repeats(
            base=cases_at(scope=scope, unit=within, category=category, channel=channel), lo=tail.lo, hi=tail.hi)
        add({path: Tallies(returned=n) for path, n in returned.items()})
    add(_pingpong(within=within, period=period, state=state, category=category, channel=channel,
                  tail=tail_repeats))
    if snapshot:
        add(tallies_by_place(scope=scope, unit=within, period=period, now=now, category=category, channel=channel,
                             parts=frozenset({"open"})))
    return out


def _category_ids(category: Category) -> list[int]:
    return [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]


def _pingpong(*, within: Unit, period: Period, state: FactState, category: Category | None, channel: str,
              tail: set[RepeatDay]) -> dict[str, Tallies]:
    """Ping-pong by place: distinct cases with a repeat-return day in the period, from the return facts
    before the cutoff and, from the cutoff on, the `tail` days read from raw rows by the caller."""
    cases: dict[int, str] = {}
    last_fact_day = min(period.end, state.cutoff - dt.timedelta(days=1))
    if period.start <= last_fact_day:
        q = ReturnFact.objects.filter(day__gte=period.start, day__lte=last_fact_day, place__startswith=within.path)
        if category is not None:
            q = q.filter(category_id__in=_category_ids(category))
        if channel:
            q = q.filter(channel=channel)
        cases.update(q.order_by().values_list("case_id", "place"))
    for case_id, _, path, _, _ in tail:
        cases[case_id] = path
    by: dict[str, Tallies] = {}
    for path in cases.values():
        by.setdefault(path, Tallies()).pingpong += 1
    return by


@dataclass
class Breakdown:
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_day: list[tuple[str, int, int]]


def breakdown(*, scope: Scope, unit: Unit, period: Period, state: FactState | None,
              live: Any) -> Breakdown | None:
    """Reported cases by top-level category, by channel, and reported / closed by day, from the facts
    (no category or channel filter) plus the raw rows from the facts' cutoff on. None when the facts
    cannot be used. `live(base, period)` gives the same three lists from raw rows (board.py's functions)."""
    if state is None:
        return None
    cats: dict[str, int] = {}
    chans: dict[str, int] = {}
    days: dict[dt.date, list[int]] = {d: [0, 0] for d in period.dates()}
    last_fact_day = min(period.end, state.cutoff - dt.timedelta(days=1))
    if period.start <= last_fact_day:
        names = {pk: (parent or name) for pk, name, parent in
                 Category.objects.values_list("pk", "name", "parent__name")}
        labels = dict(Channel.choices)
        # One grouped read: per day for the all-cases rows, per category and per channel over the period.
        per_day = Pick(When(category_id=0, channel="", then=F("day")), default=None)
        for cat, chan, day, reported, closed in (
            DayFact.objects.filter(unit_id=unit.pk, day__gte=period.start, day__lte=last_fact_day).order_by()
            .annotate(on=per_day).values("category_id", "channel", "on")
            .annotate(r=Sum("reported"), c=Sum("closed")).values_list("category_id", "channel", "on", "r", "c")
        ):
            if cat == 0 and chan == "":
                days[day][0] += reported
                days[day][1] += closed
            elif chan == "":
                if reported:
                    cats[names.get(cat, str(cat))] = cats.get(names.get(cat, str(cat)), 0) + reported
            elif reported:
                label = labels.get(chan, chan)
                chans[label] = chans.get(label, 0) + reported
    if period.end >= state.cutoff:
        tail = Period(max(period.start, state.cutoff), period.end)
        t_cats, t_chans, t_days = live(cases_at(scope=scope, unit=unit), tail)
        for name, n in t_cats:
            cats[name] = cats.get(name, 0) + n
        for name, n in t_chans:
            chans[name] = chans.get(name, 0) + n
        tail_dates = tail.dates()
        for d, (_, r, c) in zip(tail_dates, t_days, strict=True):
            days[d][0] += r
            days[d][1] += c
    return Breakdown(
        by_category=sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])),
        by_channel=sorted(chans.items(), key=lambda kv: (-kv[1], kv[0])),
        by_day=[(f"{d:%m-%d}", r, c) for d, (r, c) in days.items()],
    )



def heat(*, scope: Scope, unit: Unit, period: Period, state: FactState | None,
         category: Category | None = None) -> dict[tuple[int, int], int]:
    """Cases reported in the period with a location in the unit's subtree, per heat cell: whole months from
    the heat facts (no category filter, facts usable), the other days from raw rows, in one statement."""
    base = cases_at(scope=scope, unit=unit, category=category)
    months: list[dt.date] = []
    if state is not None and category is None:
        last_fact_day = min(period.end, state.cutoff - dt.timedelta(days=1))
        if period.start <= last_fact_day:
            months = whole_months(period.start, last_fact_day)
    rows: Any
    if months:
        first, after = midnight(months[0]), midnight(next_month(months[-1]))
        rows = heat_cells(base.filter(Q(created_at__gte=period.lo, created_at__lt=first)
                                      | Q(created_at__gte=after, created_at__lt=period.hi))).union(
            HeatFact.objects.filter(month__gte=months[0], month__lt=next_month(months[-1]),
                                    place__startswith=unit.path).order_by()
            .values("cy", "cx").annotate(n=Sum("n")), all=True)
    else:
        rows = heat_cells(base.filter(created_at__gte=period.lo, created_at__lt=period.hi))
    out: dict[tuple[int, int], int] = {}
    for r in rows:
        cell = (int(r["cy"]), int(r["cx"]))
        out[cell] = out.get(cell, 0) + int(r["n"])
    return out
