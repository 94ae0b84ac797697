"""World generator step: a realistic history of cases for a preset world.

About 0.5 cases per grid worker per working day over the last few months, across every state,
with overdue ones among the open cases. Rows are written with bulk_create (the services would
take minutes for a county); every row keeps the invariants the services keep: one holder, one
history row per transition, deadlines from the working-day calendar, closed cases with a result.
The seed_world command calls `seed_world_step` by dotted path.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction

from gridgov.access.models import Department, Grant
from gridgov.core.bulkload import Draft, draft_class, id_pool, relaxed_commit, write_drafts
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.workdays import WorkCalendar, add_working_days, memoized
from gridgov.units.models import GRID_BASE_KINDS, Unit
from gridgov.units.selectors import county_of

from . import deadlines, numbering, reporter
from .catalogue import seed_categories
from .models import Case, CaseEvent, Category, default_deadlines
from .numbering import FormKind

CASES_PER_WORKER_PER_DAY = 0.5
HISTORY_DAYS = 120
BATCH = 2000

TITLES: dict[str, tuple[str, ...]] = {
    "livelihood": ("路灯不亮", "自来水停水", "低保申请咨询", "老人就医困难"),
    "livelihood_water": ("水管破裂漏水", "停电两天未恢复"),
    "livelihood_hardship": ("独居老人生活困难", "因病致困求助"),
    "dispute": ("邻里宅基地纠纷", "婚姻家庭矛盾"),
    "dispute_neighbour": ("邻居噪音扰民", "排水沟堵塞引发争执"),
    "dispute_land": ("承包地边界纠纷", "山林权属争议"),
    "petition": ("征地补偿诉求", "拆迁安置诉求"),
    "hazard": ("危房存在安全隐患", "河边护栏缺失"),
    "hazard_fire": ("楼道堆放杂物", "电动车违规充电"),
    "hazard_geology": ("后山出现裂缝", "道路边坡落石"),
    "sanitation": ("村口垃圾堆放", "生活污水直排", "公厕无人打扫"),
    "illegal_building": ("耕地上违章建房", "私自加盖楼层"),
    "public_order": ("夜间有人聚众喧闹", "可疑人员出入"),
    "epidemic": ("外来人员未登记", "集市人员聚集"),
    "labour": ("务工人员社保咨询", "用工合同纠纷"),
    "labour_wages": ("工地拖欠农民工工资",),
    "major_project": ("修路占地协调",),
    "other": ("其他群众诉求",),
}
RESIDENT_NAMES = ("王大爷", "李阿姨", "张师傅", "刘大姐", "陈老汉", "赵婶", "孙先生", "周女士", "吴大叔", "郑奶奶")
CHANNEL_WEIGHTS = (("field", 45), ("hotline", 20), ("public", 15), ("walk_in", 10), ("wechat", 7), ("visit", 3))
URGENCY_WEIGHTS = (("ordinary", 70), ("urgent", 20), ("complex", 7), ("emergency", 3))


@dataclass
class _Staff:
    """Users holding a grant exactly at each unit, and department handlers."""

    at_unit: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    in_department: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


# Rows are drafts streamed to COPY, not model instances (gridgov.core.bulkload).
# seed_world loads these tables, when they start empty on PostgreSQL, without their secondary
# indexes and foreign keys and rebuilds them after the step (bulkload.without_indexes).
BULK_MODELS = (Case, CaseEvent)
CaseRow = draft_class(Case)
CaseEventRow = draft_class(CaseEvent)


@dataclass
class _Draft:
    case: Any
    events: list[Draft] = field(default_factory=list)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _working_days(calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    day = start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class _Builder:
    def __init__(self, *, rng: random.Random, now: dt.datetime, calendar: WorkCalendar, staff: _Staff,
                 departments: list[Department], units: dict[int, Unit]) -> None:
        self.rng, self.now, self.calendar, self.staff = rng, now, calendar, staff
        self.departments, self.units = departments, units
        self.counters: dict[tuple[int, int, str], int] = defaultdict(int)

    def _number(self, county: Unit, at: dt.datetime, kind: str) -> str:
        year = local(at).year
        key = (county.pk, year, kind)
        if key not in self.counters:
            # Continue after numbers already given in this county and year.
            self.counters[key] = numbering.last_given(county_id=county.pk, year=year, kind=kind)
        self.counters[key] += 1
        prefix = numbering.number_prefix(county_id=county.pk, division_code=county.division_code)
        return f"{prefix}-{year}-{FormKind.LETTER[kind]}{self.counters[(county.pk, year, kind)]:05d}"

    def _user_at(self, unit_id: int | None) -> int | None:
        users = self.staff.at_unit.get(unit_id or 0) or []
        return self.rng.choice(users) if users else None

    def build(self, *, grid: Unit, county: Unit, category: Category, created: dt.datetime) -> _Draft:
        rng = self.rng
        urgency = _pick(rng, URGENCY_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        due = deadlines.stage_deadlines(self.calendar, category, urgency, created)
        worker = self._user_at(grid.pk)
        lat = (grid.centroid_lat or 0.0) + rng.uniform(-0.002, 0.002) if grid.centroid_lat else None
        lng = (grid.centroid_lng or 0.0) + rng.uniform(-0.002, 0.002) if grid.centroid_lng else None
        case = CaseRow(
            number=self._number(county, created, FormKind.REPORT),
            title=rng.choice(TITLES.get(category.code, TITLES["other"])),
            description="群众反映：" + rng.choice(TITLES.get(category.code, TITLES["other"])) + "，请尽快处理。",
            category=category, urgency=urgency, channel=channel, county=county, unit=grid, lat=lat, lng=lng,
            number_prefix=numbering.number_prefix(county_id=county.pk, division_code=county.division_code),
            reported_by_id=worker if channel == "field" else None,
            **reporter.sealed_fields(name="" if channel == "field" else rng.choice(RESIDENT_NAMES),
                                     phone="" if channel == "field" else f"13{rng.randrange(10**8, 10**9)}"),
            anonymous=channel == "public" and rng.random() < 0.2,
            tracking_token=secrets.token_urlsafe(16)[:22],
            status="reported", holder_unit=grid, owner_unit=grid, owner_path=grid.path, unit_path=grid.path,
            respond_due=due.respond_due, resolve_due=due.resolve_due, created_at=created, updated_at=created,
        )
        draft = _Draft(case=case)
        self._event(draft, "report", created, worker, "reported", to_unit=grid,
                    detail={"form_number": case.number, "channel": channel})
        self._walk(draft, grid, county, created)
        return draft

    def _event(self, draft: _Draft, action: str, at: dt.datetime, actor: int | None, to_status: str, *,
               to_unit: Unit | None = None, to_department: Department | None = None, note: str = "",
               detail: dict[str, Any] | None = None, new_due: dt.datetime | None = None) -> None:
        case = draft.case
        before_due = case.resolve_due if draft.events else None
        if new_due is not None:
            case.resolve_due = new_due
        draft.events.append(CaseEventRow(
            seq=len(draft.events) + 1, action=action, at=at, actor_id=actor, actor_role="" if actor else "system",
            from_status=case.status if draft.events else "", to_status=to_status,
            from_unit=case.holder_unit if draft.events else None,
            from_department=case.holder_department if draft.events else None,
            to_unit=to_unit, to_department=to_department, note=note,
            resolve_due_before=before_due, resolve_due_after=case.resolve_due, detail=detail or {},
        ))
        case.status = to_status
        case.holder_unit = to_unit
        case.holder_department = to_department
        case.updated_at = at
        case.version = len(draft.events)

    def _walk(self, draft: _Draft, grid: Unit, county: Unit, t: dt.datetime) -> None:
        """Advance the case along a typical path as far as its age allows."""
        rng, case = self.rng, draft.case
        age_days = (self.now - t).days
        # Old cases are mostly finished (a few stuck: the overdue ones); recent ones spread along the loop.
        if age_days > 25:
            progress = rng.uniform(0.3, 0.85) if rng.random() < 0.06 else 1.0
        else:
            progress = age_days / 25 * rng.uniform(0.6, 1.3)

        def step(hours: float) -> dt.datetime | None:
            nonlocal t
            nxt = t + dt.timedelta(hours=hours * rng.uniform(0.5, 1.5))
            if nxt >= self.now:
                return None
            t = nxt
            return t

        r = rng.random()
        if r < 0.03:
            if step(3):
                case.closed_at = t
                self._event(draft, "reject", t, self._user_at(grid.pk), "rejected", to_unit=grid, note="不属于受理范围")
            return
        if progress < 0.08 or step(2) is None:
            return
        self._event(draft, "accept", t, self._user_at(grid.pk), "handling", to_unit=grid)
        case.responded_at = t
        if r < 0.05:
            if step(4):
                case.closed_at = t
                self._event(draft, "cancel", t, None, "cancelled", to_unit=grid, note="反映人撤回")
            return
        holder = grid
        self_handle = r < 0.55 and case.category.lowest_level == "grid"
        if not self_handle:
            # Escalate up the hierarchy to the township (or the county).
            while holder.parent_id and holder.kind.base not in ("township", "subdistrict", "county"):
                if progress < 0.2 or step(6) is None:
                    return
                parent = self.units.get(holder.parent_id)
                if parent is None:
                    break
                self._event(draft, "escalate", t, self._user_at(holder.pk), "handling", to_unit=parent)
                case.owner_unit, case.owner_path = parent, parent.path
                holder = parent
            depts = [d for d in self.departments if holder.path.startswith(d.unit.path)
                     or d.unit.path.startswith(holder.path)]
            if not depts:
                self_handle = True
        if self_handle:
            if progress < 0.4 or step(24) is None:
                return
            case.result = "已现场处理完毕。"
            case.resolved_at = t
            self._event(draft, "self_handle", t, self._user_at(holder.pk), "resolved", to_unit=holder,
                        note=case.result, detail={"form_number": self._number(county, t, FormKind.FEEDBACK)})
        else:
            dept = rng.choice(depts)
            if progress < 0.3 or step(8) is None:
                return
            due = deadlines.stage_deadlines(self.calendar, case.category, case.urgency, t)
            case.respond_due = due.respond_due
            self._event(draft, "dispatch", t, self._user_at(holder.pk), "dispatched", to_department=dept,
                        detail={"form_number": self._number(county, t, FormKind.DISPATCH)}, new_due=due.resolve_due)
            case.responded_at = None
            if rng.random() < 0.06 and step(10):
                self._event(draft, "return", t, self._dept_user(dept), "returned", to_unit=holder,
                            note="经核实不属本部门职责", detail={})
                draft.events[-1].reason_code = "overlap"
                if progress < 0.5 or step(8) is None:
                    return
                self._event(draft, "adjudicate", t, self._user_at(holder.pk), "dispatched", to_department=dept,
                            note="经审定由原部门办理", new_due=add_working_days(self.calendar, t, 7),
                            detail={"form_number": self._number(county, t, FormKind.DISPATCH)})
                case.dispatch_final = True
            if progress < 0.45 or step(12) is None:
                return
            self._event(draft, "acknowledge", t, self._dept_user(dept), "acknowledged", to_department=dept)
            case.responded_at = t
            if progress < 0.7 or step(60) is None:
                self._maybe_urge(draft, county, dept)
                return
            case.result = "已按要求办理完毕。"
            self._event(draft, "feedback", t, self._dept_user(dept), "feedback", to_unit=holder, note=case.result,
                        detail={"form_number": self._number(county, t, FormKind.FEEDBACK)})
            if progress < 0.8 or step(8) is None:
                return
            case.resolved_at = t
            self._event(draft, "review", t, self._user_at(holder.pk), "resolved", to_unit=holder)
        if progress < 0.9 or step(30) is None:
            return
        case.closed_at = t
        if rng.random() < 0.75:
            case.rating = rng.choices((5, 4, 3, 2, 1), weights=(55, 25, 12, 5, 3))[0]
            self._event(draft, "confirm", t, None, "closed", to_unit=holder, detail={"rating": case.rating})
            draft.events[-1].actor_role = "reporter"
        else:
            self._event(draft, "close", t, None, "closed", to_unit=holder, note="反映人未评价，到期归档")

    def _dept_user(self, dept: Department) -> int | None:
        users = self.staff.in_department.get(dept.pk) or []
        return self.rng.choice(users) if users else None

    def _maybe_urge(self, draft: _Draft, county: Unit, dept: Department) -> None:
        case = draft.case
        if case.resolve_due and case.resolve_due < self.now:
            at = min(self.now, case.resolve_due + dt.timedelta(hours=1))
            case.overdue = True
            case.overdue_for = case.resolve_due
            case.urge_count += 1
            self._event(draft, "urge", at, None, case.status, to_department=dept, note=deadlines.OVERDUE_URGE_NOTE,
                        detail={"count": case.urge_count, "auto": True,
                                "form_number": self._number(county, at, FormKind.URGE)})


def prepare_parallel() -> None:
    """Shared rows the per-root steps would otherwise race to create (seed_world --jobs)."""
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    if Case.dangerously_unscoped.filter(unit_path__startswith=root.path).exists():
        stdout.write("cases: already present under this root, skipped\n")
        return
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    start = (now - dt.timedelta(days=HISTORY_DAYS)).astimezone(LOCAL_TZ).date()
    _seed_days(random.Random(seed), now=now, root=root, start=start, end=local(now).date(), stdout=stdout)


def seed_earlier_cases(*, seed: int, now: dt.datetime, root: Unit, since: dt.datetime, until: dt.datetime,
                       stdout: TextIO) -> int:
    """Cases created between `since` and the day before `until` (benchmarks: a year of history
    when the world step wrote its last HISTORY_DAYS). Its own random stream, the same generator."""
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    end = local(until).date() - dt.timedelta(days=1)
    return _seed_days(random.Random(f"{seed}:earlier"), now=now, root=root, start=local(since).date(), end=end,
                      stdout=stdout)


def _seed_days(rng: random.Random, *, now: dt.datetime, root: Unit, start: dt.date, end: dt.date,
               stdout: TextIO) -> int:
    calendar = memoized(deadlines.work_calendar())
    units = {u.pk: u for u in Unit.dangerously_unscoped.filter(path__startswith=root.path).select_related("kind")}
    for anc in Unit.dangerously_unscoped.filter(pk__in=root.ancestor_ids()).select_related("kind"):
        units[anc.pk] = anc
    grids = [u for u in units.values() if u.kind.base in GRID_BASE_KINDS and u.path.startswith(root.path)]
    # Cases belong to the grids workers are responsible for; micro-grids roll up to their grid.
    grids = [g for g in grids if g.kind.base == "grid"] or grids
    staff = _Staff()
    grid_ids = {g.pk for g in grids}
    workers_by_grid: dict[int, int] = defaultdict(int)
    for g in Grant.dangerously_unscoped.filter(unit__path__startswith=root.path,
                                               revoked_at__isnull=True).select_related(
            "role", "unit"):
        staff.at_unit[g.unit_id].append(g.user_id)
        if g.department_id:
            staff.in_department[g.department_id].append(g.user_id)
        if g.role.field_worker:
            grid_id = g.unit_id if g.unit_id in grid_ids else (g.unit.parent_id or g.unit_id)
            workers_by_grid[grid_id] += 1
    if not grids:
        stdout.write("cases: no grids under this root, skipped\n")
        return 0
    departments = list(Department.dangerously_unscoped.filter(is_active=True).select_related("unit").filter(
        unit__path__in=[u.path for u in units.values()]))
    categories = list(Category.objects.filter(is_active=True))
    weights = [3 if c.parent_id is None else 2 for c in categories]
    days = _working_days(calendar, start, end)
    builder = _Builder(rng=rng, now=now, calendar=calendar, staff=staff, departments=departments, units=units)
    county_cache: dict[int | None, Unit] = {}

    def county_for(grid: Unit) -> Unit:
        # Grids of one parent share a county: one lookup per village, not per grid.
        if grid.parent_id not in county_cache:
            county_cache[grid.parent_id] = county_of(grid)
        return county_cache[grid.parent_id]

    drafts: list[_Draft] = []
    total = 0
    with id_pool():
        for day in days:
            for grid in grids:
                expected = CASES_PER_WORKER_PER_DAY * max(workers_by_grid.get(grid.pk, 1), 1)
                n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                for _ in range(n):
                    created = dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60)),
                                                  tzinfo=LOCAL_TZ)
                    if created >= now:
                        continue
                    drafts.append(builder.build(grid=grid, county=county_for(grid),
                                                category=rng.choices(categories, weights=weights)[0],
                                                created=created))
            if len(drafts) >= BATCH:
                total += _flush(drafts)
                drafts = []
        total += _flush(drafts)
    with transaction.atomic():
        for (county_id, year, kind), last in builder.counters.items():
            numbering.advance_to(county_id=county_id, year=year, kind=kind, last=last)
    stdout.write(f"cases: {total} cases over {len(days)} working days in {len(grids)} grids\n")
    return total


def _flush(drafts: list[_Draft]) -> int:
    if not drafts:
        return 0
    with transaction.atomic():
        relaxed_commit()
        write_drafts(Case, [d.case for d in drafts])
        events = []
        for d in drafts:
            for e in d.events:
                e.case = d.case
                events.append(e)
        write_drafts(CaseEvent, events)
    return len(drafts)
