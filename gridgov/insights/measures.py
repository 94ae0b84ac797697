"""The measures the grid offices steer by, defined once (docs/measures.md says the same in words).

Every measure is a ratio or a count over additive tallies. Tallies are computed in a fixed number of
aggregate queries grouped by the place a case happened (its grid's path), then summed in Python for
any unit above: a county, a township, a village or one grid. So a dashboard with rankings of every
subordinate unit costs the same few queries whatever the number of units or cases.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
)

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.cases import deadlines
from gridgov.cases.models import Case, CaseEvent, Category
from gridgov.cases.states import ACTIVE, CLOCKED, Status
from gridgov.core import cleaning
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.units.models import Unit

# The longest period a page or report may ask for: a year (a leap year included).
MAX_PERIOD_DAYS = 366
# Two requests of the same category at the same place within this window: the second is a repeat.
REPEAT_WINDOW = dt.timedelta(days=30)
# The reporter's rating at acceptance (验收): 5 满意, 4 基本满意, 3 一般, 2 不满意, 1 很不满意.
SATISFIED_FROM = 4  # 满意 and 基本满意
RESOLVED_FROM = 3  # the reporter accepted the result as (at least basically) solving the problem
# Dispatches to a department: each starts a response clock stopped by the department's sign-for.
DISPATCH_ACTIONS = ("dispatch", "redispatch", "adjudicate")
RATINGS = {5: "满意", 4: "基本满意", 3: "一般", 2: "不满意", 1: "很不满意"}

DASH = "—"


# --- periods -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole local (China Standard Time) days, both ends included."""

    start: dt.date
    end: dt.date

    @property
    def lo(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=LOCAL_TZ)

    @property
    def hi(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (for trends)."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    @property
    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%Y-%m-%d}"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


PRESETS = {"week": "本周", "month": "本月", "last_week": "上周", "last_month": "上月", "year": "近一年"}


def preset_period(preset: str, *, now: dt.datetime) -> Period:
    today = local(now).date()
    if preset == "week":
        return Period(today - dt.timedelta(days=today.weekday()), today)
    if preset == "last_week":
        monday = today - dt.timedelta(days=today.weekday())
        return Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
    if preset == "last_month":
        first = today.replace(day=1)
        last = first - dt.timedelta(days=1)
        return Period(last.replace(day=1), last)
    if preset == "year":
        return Period(today - dt.timedelta(days=MAX_PERIOD_DAYS - 1), today)
    return Period(today.replace(day=1), today)


def period_from(start: Any = None, end: Any = None, *, now: dt.datetime, preset: str = "month") -> Period:
    """A period from user input, or a clear Chinese message: reversed, in the future, too long."""
    a, b = (cleaning.optional_date(v.strip()[:10] if isinstance(v, str) else v, field="period", label=label,
                                   message=f"{label}格式不正确，请按 2026-03-01 的格式填写。")
            for v, label in ((start, "开始日期"), (end, "结束日期")))
    if a is None and b is None:
        return preset_period(preset, now=now)
    today = local(now).date()
    if a is None or b is None:
        raise ValidationFailed("请同时填写开始日期和结束日期。", field="period")
    if a > b:
        raise ValidationFailed("开始日期不能晚于结束日期。", field="period")
    if a > today:
        raise ValidationFailed("开始日期在未来，还没有数据，请选择今天或以前的日期。", field="period")
    if b > today:
        raise ValidationFailed(f"结束日期不能晚于今天（{today:%Y-%m-%d}）。", field="period")
    if (b - a).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(f"时间跨度不能超过 {MAX_PERIOD_DAYS} 天，请分段查询。", field="period")
    return Period(a, b)


# --- tallies -------------------------------------------------------------------------------------

@dataclass
class Tallies:
    """Additive counts: the tallies of a unit are the sums of its grids' tallies."""

    dispatched: int = 0  # dispatches to a department in the period
    responded: int = 0  # ... signed for (签收) within their response deadline
    closed: int = 0  # cases closed (办结) in the period
    resolved: int = 0  # ... judged resolved by the reporter at acceptance (rating ≥ 3)
    rated: int = 0  # ... rated by the reporter
    satisfied: int = 0  # ... rated 满意 or 基本满意 (≥ 4)
    on_time: int = 0  # ... resolved by the (possibly extended) resolution deadline
    handled: int = 0  # closed cases with a resolution time
    handling_us: int = 0  # sum of their report → resolution times, in microseconds (exact sums)
    returned: int = 0  # returns (退单) by departments in the period
    pingpong: int = 0  # cases returned in the period that have been returned twice or more
    reported: int = 0  # cases reported in the period
    repeats: int = 0  # ... with an earlier case of the same category at the same grid within 30 days
    open_now: int = 0  # cases not finished, now
    overdue_open: int = 0  # ... past their resolution deadline, now

    def add(self, other: Tallies) -> None:
        mine, theirs = self.__dict__, other.__dict__
        for name in TALLY_NAMES:
            mine[name] += theirs[name]


TALLY_NAMES = tuple(f.name for f in fields(Tallies))


def sum_tallies(items: Iterable[Tallies]) -> Tallies:
    total = Tallies()
    for t in items:
        total.add(t)
    return total


# --- measure definitions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    kind: str  # "rate" | "count" | "hours"
    definition: str
    numerator: str = ""
    denominator: str = ""
    higher_is_better: bool = True
    # A floor for the circular (通报) of units below it; None: not circulated.
    floor: float | None = None
    # Counted as of now, not over the period: it has no trend against a previous period.
    snapshot: bool = False

    def value(self, t: Tallies) -> float | None:
        if self.kind == "rate":
            den = getattr(t, self.denominator)
            return None if not den else getattr(t, self.numerator) / den
        if self.kind == "hours":
            return None if not t.handled else t.handling_us / t.handled / 3_600_000_000
        return float(getattr(t, self.numerator))

    def fmt(self, value: float | None) -> str:
        if value is None:
            return DASH
        if self.kind == "rate":
            return f"{value * 100:.1f}%"
        if self.kind == "hours":
            return f"{value:.1f} 小时"
        return f"{int(value)}"

    def parts(self, t: Tallies) -> str:
        """The counts behind a rate, for the page: 6/7."""
        if self.kind == "rate":
            return f"{getattr(t, self.numerator)}/{getattr(t, self.denominator)}"
        if self.kind == "hours":
            return f"{t.handled} 件"
        return ""


MEASURES: tuple[Measure, ...] = (
    Measure("response_rate", "响应率", "rate",
            "交办给部门后，在响应时限内签收的次数 ÷ 交办次数（交办、重新交办、审定均计一次）。",
            "responded", "dispatched", floor=0.9),
    Measure("resolution_rate", "解决率", "rate",
            "办结的事件中，反映人验收时评价为“一般”及以上（认为问题已解决）的件数 ÷ 办结件数。"
            "未评价的办结件计入分母、不计入分子。",
            "resolved", "closed", floor=0.8),
    Measure("satisfaction_rate", "满意率", "rate",
            "（评价为“满意”+“基本满意”的件数）÷ 已评价的办结件数。",
            "satisfied", "rated", floor=0.85),
    Measure("on_time_rate", "按期办结率", "rate",
            "办结的事件中，办结（审核通过或自办自结）时间不晚于办理时限（含批准的延时）的件数 ÷ 办结件数。",
            "on_time", "closed", floor=0.9),
    Measure("overdue_open", "超期未办结", "count",
            "当前仍在办理、已超过办理时限的事件件数（按当前时刻统计，不随所选时段变化）。",
            "overdue_open", higher_is_better=False, snapshot=True),
    Measure("return_rate", "退单率", "rate",
            "部门退回（退单）次数 ÷ 交办次数。",
            "returned", "dispatched", higher_is_better=False),
    Measure("pingpong", "来回踢皮球", "count",
            "本时段内被退回、且累计被退回两次及以上的事件件数。",
            "pingpong", higher_is_better=False),
    Measure("repeat_rate", "重复诉求率", "rate",
            "本时段登记的事件中，同一网格、同一类别在此前 30 天内已有事件的件数 ÷ 登记件数。",
            "repeats", "reported", higher_is_better=False),
    Measure("handling_time", "平均办理时长", "hours",
            "办结事件从登记到办结（审核通过或自办自结）的平均小时数（自然时间）。",
            higher_is_better=False),
)
MEASURE_BY_CODE = {m.code: m for m in MEASURES}
HEADLINE = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "overdue_open")


@dataclass(frozen=True)
class MeasureValue:
    measure: Measure
    value: float | None
    text: str
    parts: str
    previous: float | None = None
    trend: str = ""  # "up" | "down" | "flat" | ""
    trend_text: str = ""
    good: bool | None = None  # whether the change is for the better


def evaluate(t: Tallies, previous: Tallies | None = None) -> list[MeasureValue]:
    out = []
    for m in MEASURES:
        v = m.value(t)
        prev = m.value(previous) if previous is not None and not m.snapshot else None
        trend = trend_text = ""
        good = None
        if v is not None and prev is not None:
            delta = v - prev
            if abs(delta) < 1e-9:
                trend, trend_text = "flat", "持平"
            else:
                trend = "up" if delta > 0 else "down"
                arrow = "↑" if delta > 0 else "↓"
                if m.kind == "rate":
                    trend_text = f"{arrow}{abs(delta) * 100:.1f} 个百分点"
                elif m.kind == "hours":
                    trend_text = f"{arrow}{abs(delta):.1f} 小时"
                else:
                    trend_text = f"{arrow}{abs(delta):.0f}"
                good = (delta > 0) == m.higher_is_better
        elif previous is not None and not m.snapshot:
            trend_text = "上期无数据" if prev is None else ""
        out.append(MeasureValue(m, v, m.fmt(v), m.parts(t), prev, trend, trend_text, good))
    return out


# --- computing tallies ---------------------------------------------------------------------------

def measure_unit(*, scope: Scope, unit_id: Any) -> Unit:
    """A unit whose figures the actor may read: out of sight is 404, exactly like missing."""
    try:
        pk = int(unit_id)
    except (TypeError, ValueError):
        raise NotFound()
    unit = Unit.objects.within(scope).select_related("kind").filter(pk=pk, is_active=True).first()
    if unit is None or not scope.can(P.CASE_VIEW, unit.path):
        raise NotFound()
    return unit


def home_unit(scope: Scope) -> Unit:
    """The top of the actor's case view: the unit a dashboard opens on."""
    paths = scope.paths_for(P.CASE_VIEW)
    if not paths:
        raise NotFound("您没有查看统计的权限。")
    pk = int(paths[0].strip("/").split("/")[-1])
    return measure_unit(scope=scope, unit_id=pk)


def category_get(code: str) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ValidationFailed("事件类别不存在。", field="category")
    return category


def cases_at(*, scope: Scope, unit: Unit, category: Category | None = None, channel: str = "") -> QuerySet[Case]:
    """Cases that happened in the unit's subtree (and its category and subcategories, and channel)."""
    qs = Case.objects.within(scope).filter(unit_path__startswith=unit.path)
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if channel:
        qs = qs.filter(channel=channel)
    return qs


ALL_PARTS = frozenset({"closed", "open", "reported", "returns", "pingpong", "response"})


def tallies_by_place(*, scope: Scope, unit: Unit, period: Period, now: dt.datetime,
                     category: Category | None = None, channel: str = "",
                     parts: frozenset[str] = ALL_PARTS) -> dict[str, Tallies]:
    """Tallies keyed by the path of the grid where cases happened, in a fixed number of queries.

    This is the definition, computed from the raw rows. `parts` leaves some tallies out (the
    pre-aggregated path in facts.py computes the rest from its day facts)."""
    by: dict[str, Tallies] = {}

    def at(path: str) -> Tallies:
        t = by.get(path)
        if t is None:
            t = by[path] = Tallies()
        return t

    base = cases_at(scope=scope, unit=unit, category=category, channel=channel)
    lo, hi = period.lo, period.hi

    if "closed" in parts:
        _closed(base=base, lo=lo, hi=hi, at=at)
    if "open" in parts:
        _open(base=base, now=now, at=at)
    if "reported" in parts:
        _reported(base=cases_at(scope=scope, unit=unit, category=category), channel=channel, lo=lo, hi=hi, at=at)
    if parts & {"returns", "pingpong"}:
        _returns(base=base, lo=lo, hi=hi, at=at, returned="returns" in parts, pingpong="pingpong" in parts)
    if "response" in parts:
        _response(base=base, period=period, at=at)
    return by


def _closed(*, base: QuerySet[Case], lo: dt.datetime, hi: dt.datetime, at: Any) -> None:
    """Closed in the period: resolution, satisfaction, on time, handling time."""
    handling = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows: Any = (
        base.filter(status=Status.CLOSED, closed_at__gte=lo, closed_at__lt=hi)
        .order_by().values("unit_path")
        .annotate(
            closed=Count("pk"),
            resolved=Count("pk", filter=Q(rating__gte=RESOLVED_FROM)),
            rated=Count("pk", filter=Q(rating__isnull=False)),
            satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_FROM)),
            on_time=Count("pk", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("resolve_due"))),
            handled=Count("pk", filter=Q(resolved_at__isnull=False)),
            handling=Sum(handling, filter=Q(resolved_at__isnull=False)),
        )
    )
    for r in rows:
        t = at(r["unit_path"])
        t.closed, t.resolved, t.rated, t.satisfied = r["closed"], r["resolved"], r["rated"], r["satisfied"]
        t.on_time, t.handled = r["on_time"], r["handled"]
        t.handling_us = r["handling"] // dt.timedelta(microseconds=1) if r["handling"] is not None else 0


def _open(*, base: QuerySet[Case], now: dt.datetime, at: Any) -> None:
    """Open now, and overdue now."""
    rows = (
        base.filter(status__in=[s.value for s in ACTIVE]).order_by().values("unit_path")
        .annotate(open_now=Count("pk"),
                  overdue=Count("pk", filter=Q(status__in=[s.value for s in CLOCKED], resolve_due__lt=now)))
    )
    for r in rows:
        t = at(r["unit_path"])
        t.open_now, t.overdue_open = r["open_now"], r["overdue"]


def _reported(*, base: QuerySet[Case], channel: str, lo: dt.datetime, hi: dt.datetime, at: Any) -> None:
    """Reported in the period, and repeats among them: an earlier case (any channel, any status) of the same
    category at the same grid within the 30 days before. Read as one ordered list and matched here: a
    correlated EXISTS per case took tens of seconds for a county month without a dedicated index.
    `base` is not narrowed by channel: an earlier case of any channel makes a repeat."""
    earlier_lo = lo - REPEAT_WINDOW
    times: dict[tuple[int, int], list[dt.datetime]] = {}
    wanted: list[tuple[tuple[int, int], dt.datetime, str]] = []
    for unit_id, category_id, created, chan, path in (
        base.filter(created_at__gte=lo, created_at__lt=hi).order_by()
        .values_list("unit_id", "category_id", "created_at", "channel", "unit_path")
    ):
        key = (unit_id, category_id)
        times.setdefault(key, []).append(created)
        if not channel or chan == channel:
            wanted.append((key, created, path))
    # The 30 days before: only the places and categories of the cases wanted can make repeats, and of those
    # only the latest case before the period can be the latest earlier one of a case in it.
    places = {k[0] for k, _, _ in wanted}
    if places:
        for unit_id, category_id, created in (
            base.filter(created_at__gte=earlier_lo, created_at__lt=lo, unit_id__in=places).order_by()
            .values("unit_id", "category_id").annotate(last=Max("created_at"))
            .values_list("unit_id", "category_id", "last")
        ):
            times.setdefault((unit_id, category_id), []).append(created)
    for series in times.values():
        series.sort()
    for key, created, path in wanted:
        t = at(path)
        t.reported += 1
        series = times[key]
        before = bisect_left(series, created) - 1  # the latest case strictly earlier
        if before >= 0 and series[before] >= created - REPEAT_WINDOW:
            t.repeats += 1


def _returns(*, base: QuerySet[Case], lo: dt.datetime, hi: dt.datetime, at: Any, returned: bool = True,
             pingpong: bool = True) -> None:
    """Returns, and ping-pong (returned twice or more by the period's end)."""
    rows = (
        CaseEvent.dangerously_unscoped.filter(case__in=base.values("pk"), action="return", at__lt=hi)
        .filter(case__in=CaseEvent.dangerously_unscoped.filter(action="return", at__gte=lo,
                                                               at__lt=hi).values("case_id"))
        .order_by().values("case_id", "case__unit_path")
        .annotate(total=Count("pk"), in_period=Count("pk", filter=Q(at__gte=lo)))
    )
    for r in rows:
        t = at(r["case__unit_path"])
        if returned:
            t.returned += r["in_period"]
        if pingpong and r["total"] >= 2:
            t.pingpong += 1


def _response(*, base: QuerySet[Case], period: Period, at: Any) -> None:
    """Dispatches in the period and whether each was signed for within its response deadline."""
    for d in dispatch_outcomes(base=base, lo=period.lo, hi=period.hi):
        t = at(d.path)
        t.dispatched += 1
        if d.responded:
            t.responded += 1


# What ends a dispatch's response clock: the next sign-for, return, cancel or dispatch of that case.
CLOCK_ENDERS = ("acknowledge", "return", "cancel", *DISPATCH_ACTIONS)


@dataclass(frozen=True)
class Dispatch:
    case_id: int
    seq: int
    at: dt.datetime
    path: str
    category_id: int
    channel: str
    responded: bool
    ended_at: dt.datetime | None  # when its clock was ended (by whatever), None while still running


class ResponseClock:
    """The response deadline of a dispatch is the stage deadline computed from the dispatch time on the
    working-day calendar, the same function the case loop used when it dispatched.

    A response deadline is the same local time a whole number of days (working-day policies) or a fixed
    number of hours (emergencies) after the dispatch: its offset depends only on the category, urgency and
    local date, so a year of dispatches needs at most a few thousand calendar walks, not one per dispatch."""

    def __init__(self) -> None:
        self.categories = {c.pk: c for c in Category.objects.all()}
        self.calendar = deadlines.work_calendar()
        self.offsets: dict[tuple[int, str, dt.date], dt.timedelta] = {}

    def in_time(self, category_id: int, urgency: str, when: dt.datetime, signed: dt.datetime) -> bool:
        key = (category_id, urgency, local(when).date())
        offset = self.offsets.get(key)
        if offset is None:
            offset = (deadlines.stage_deadlines(self.calendar, self.categories[category_id], urgency, when)
                      .respond_due - when)
            self.offsets[key] = offset
        return signed <= when + offset


def dispatch_outcomes(*, base: QuerySet[Case], lo: dt.datetime, hi: dt.datetime,
                      settled: dt.datetime | None = None, clock: ResponseClock | None = None) -> list[Dispatch]:
    """Dispatches made in [lo, hi) and whether each was signed for within its response deadline.

    With `settled`, a dispatch counts as responded only when the sign-for came before `settled` (the day
    facts are built from what had happened by then; what came later is added when the figures are read)."""
    in_period = CaseEvent.dangerously_unscoped.filter(case__in=base.values("pk"), action__in=DISPATCH_ACTIONS,
                                          at__gte=lo, at__lt=hi)
    dispatches = list(
        in_period.order_by("case_id", "seq")
        .values_list("case_id", "seq", "at", "case__unit_path", "case__category_id", "case__urgency",
                     "case__channel")
    )
    if not dispatches:
        return []
    following: dict[int, list[tuple[int, str, dt.datetime]]] = {}
    for case_id, seq, action, when in (
        CaseEvent.dangerously_unscoped.filter(case_id__in=in_period.values("case_id"), action__in=CLOCK_ENDERS)
        .order_by("case_id", "seq").values_list("case_id", "seq", "action", "at")
    ):
        following.setdefault(case_id, []).append((seq, action, when))
    clock = clock or ResponseClock()
    out = []
    for case_id, seq, when, path, category_id, urgency, chan in dispatches:
        nxt = next((e for e in following.get(case_id, []) if e[0] > seq), None)
        responded = (nxt is not None and nxt[1] == "acknowledge" and (settled is None or nxt[2] < settled)
                     and clock.in_time(category_id, urgency, when, nxt[2]))
        out.append(Dispatch(case_id, seq, when, path, category_id, chan, responded,
                            None if nxt is None else nxt[2]))
    return out


# --- rolling up --------------------------------------------------------------------------------

def rollup(by_place: dict[str, Tallies], path: str) -> Tallies:
    return sum_tallies(t for p, t in by_place.items() if p.startswith(path))


def subordinate_units(*, scope: Scope, unit: Unit) -> list[Unit]:
    return list(
        Unit.objects.within(scope).filter(parent=unit, is_active=True).select_related("kind")
        .order_by("sort_order", "serial", "id")
    )


@dataclass
class Ranked:
    unit: Unit
    tallies: Tallies
    values: list[MeasureValue] = field(default_factory=list)
    rank: int = 0

    def value(self, code: str) -> MeasureValue:
        return next(v for v in self.values if v.measure.code == code)


def ranking(totals: dict[int, Tallies], units: list[Unit], measure: str = "on_time_rate") -> list[Ranked]:
    """Subordinate units ranked by one measure, best first; units without data (—) last."""
    m = MEASURE_BY_CODE[measure]
    rows = [Ranked(u, totals.get(u.pk) or Tallies()) for u in units]
    for r in rows:
        r.values = evaluate(r.tallies)

    def key(r: Ranked) -> tuple[int, float]:
        v = m.value(r.tallies)
        if v is None:
            return (1, 0.0)
        return (0, -v if m.higher_is_better else v)

    rows.sort(key=key)
    for i, r in enumerate(rows, 1):
        r.rank = i
    return rows


def below_floors(rows: list[Ranked]) -> list[tuple[Ranked, list[MeasureValue]]]:
    """The circular (通报): units with a measure below its floor (only measures with data)."""
    out = []
    for r in rows:
        low = [v for v in r.values
               if v.measure.floor is not None and v.value is not None and v.value < v.measure.floor]
        if low:
            out.append((r, low))
    return out
