"""The monthly assessment (月考核): each assessed worker's month rolled into one score, ranked,
with the grids ranked alongside. Pure reads; `services.assessment_publish` freezes the result.

score = base + the month's points + duty_weight × duty completion rate
- points: every ledger entry of the worker dated in the month (events and manual entries, so
  deductions and corrections count; 0-point "cap reached" entries add nothing);
- duty completion rate: the worker's items due in the month (named items, and unit items the
  worker completed) that were done by their due time and confirmed; with nothing due the rate
  counts as 1 (nothing was left undone) and is shown as "—";
- ranking: highest score first, equal scores share a rank (1, 1, 3);
- the circular commends the best `commend_count` at or above the floor and names everyone below it.
A grid's score is the average of its workers' scores; its duty rate counts every item of the grid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from gridgov.units.models import Unit

from . import staff
from .models import AssessmentSetting, DutyItem, PointEntry
from .periods import month_bounds


@dataclass
class Line:
    name: str
    unit_id: int
    grid_name: str
    points: int
    items_due: int
    items_on_time: int
    score: Decimal
    worker_id: int | None = None
    rank: int = 0
    band: str = ""

    @property
    def rate(self) -> float | None:
        return self.items_on_time / self.items_due if self.items_due else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate:.0%}"


@dataclass
class Result:
    unit: Unit
    month: dt.date
    setting: AssessmentSetting
    workers: list[Line] = field(default_factory=list)
    grids: list[Line] = field(default_factory=list)

    @property
    def commended(self) -> list[Line]:
        return [r for r in self.workers if r.band == "commended"]

    @property
    def below(self) -> list[Line]:
        return [r for r in self.workers if r.band == "below"]


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _score(setting: AssessmentSetting, points: int, due: int, on_time: int) -> Decimal:
    rate = Decimal(on_time) / Decimal(due) if due else Decimal(1)
    return _round(Decimal(setting.base) + Decimal(points) + Decimal(setting.duty_weight) * rate)


def rank(lines: list[Line]) -> None:
    lines.sort(key=lambda r: (-r.score, r.name))
    previous: Decimal | None = None
    current = 0
    for i, line in enumerate(lines, start=1):
        if line.score != previous:
            current = i
        line.rank = current
        previous = line.score


def on_time_q() -> Q:
    from django.db.models import F

    return Q(state=DutyItem.State.CONFIRMED, done_at__lte=F("due_at"))


def compute(unit: Unit, month: dt.date) -> Result:
    from .services import setting_for

    setting = setting_for(unit)
    start, end = month_bounds(month)
    result = Result(unit=unit, month=month, setting=setting)
    grants = staff.assessed_grants(unit.path)
    worker_ids = [g.user_id for g in grants]
    points = dict(PointEntry.dangerously_unscoped.filter(worker_id__in=worker_ids, at__gte=start, at__lt=end,
                                             unit__path__startswith=unit.path)
                  .values_list("worker").annotate(s=Sum("points")).values_list("worker", "s"))
    due: dict[int, int] = defaultdict(int)
    done: dict[int, int] = defaultdict(int)
    items = (DutyItem.dangerously_unscoped.filter(due_at__gte=start, due_at__lt=end, unit__path__startswith=unit.path)
             .exclude(state=DutyItem.State.WITHDRAWN)
             .values("assignee_id", "done_by_id", "unit_id", "state", "done_at", "due_at"))
    grid_due: dict[int, int] = defaultdict(int)
    grid_done: dict[int, int] = defaultdict(int)
    grid_of_unit: dict[int, int] = {}
    grids = {g.unit_id: g.unit for g in grants}
    grid_paths = sorted(((u.path, u.pk) for u in grids.values()), key=lambda x: -len(x[0]))
    unit_paths = dict(Unit.dangerously_unscoped.filter(path__startswith=unit.path).values_list("pk", "path"))
    for uid, path in unit_paths.items():
        grid_of_unit[uid] = next((gid for gpath, gid in grid_paths if path.startswith(gpath)), 0)
    for it in items:
        ok = it["state"] == DutyItem.State.CONFIRMED and it["done_at"] is not None and it["done_at"] <= it["due_at"]
        who = it["assignee_id"] or (it["done_by_id"] if it["state"] in ("done", "confirmed") else None)
        if who is not None:
            due[who] += 1
            done[who] += int(ok)
        gid = grid_of_unit.get(it["unit_id"], 0)
        if gid:
            grid_due[gid] += 1
            grid_done[gid] += int(ok)
    by_grid: dict[int, list[Line]] = defaultdict(list)
    for g in grants:
        p = int(points.get(g.user_id) or 0)
        line = Line(name=g.user.display_name, unit_id=g.unit_id, grid_name=g.unit.name, points=p,
                    items_due=due[g.user_id], items_on_time=done[g.user_id],
                    score=_score(setting, p, due[g.user_id], done[g.user_id]), worker_id=g.user_id)
        result.workers.append(line)
        by_grid[g.unit_id].append(line)
    rank(result.workers)
    for i, line in enumerate(result.workers):
        if line.score < setting.floor:
            line.band = "below"
        elif i < setting.commend_count:
            line.band = "commended"
    for gid, lines in by_grid.items():
        avg = _round(sum((ln.score for ln in lines), Decimal(0)) / len(lines))
        result.grids.append(Line(name=grids[gid].name, unit_id=gid, grid_name=grids[gid].name,
                                 points=sum(ln.points for ln in lines), items_due=grid_due[gid],
                                 items_on_time=grid_done[gid], score=avg))
    rank(result.grids)
    for line in result.grids:
        line.band = "below" if line.score < setting.floor else ""
    return result


def from_published(assessment) -> Result:  # type: ignore[no-untyped-def]
    """The frozen rows of a published assessment, in the same shape as `compute`."""
    setting = AssessmentSetting(unit=assessment.unit, base=assessment.base, duty_weight=assessment.duty_weight,
                                floor=assessment.floor, commend_count=assessment.commend_count,
                                updated_at=assessment.published_at)
    result = Result(unit=assessment.unit, month=assessment.month, setting=setting)
    for row in assessment.rows.all():
        line = Line(name=row.name, unit_id=row.unit_id, grid_name=row.grid_name, points=row.points,
                    items_due=row.items_due, items_on_time=row.items_on_time, score=row.score,
                    worker_id=row.worker_id, rank=row.rank, band=row.band)
        (result.workers if row.kind == "worker" else result.grids).append(line)
    return result
