"""The workforce measures (docs/measures.md, "Duty lists and points"): duty-list completion rate
and points (totals, average per worker) for any unit's subtree and any period of whole local days.

- 责任清单按时完成率 duty completion rate: items due in the period (due time inside it; withdrawn
  items left out) that were done by their due time and confirmed by the issuer (confirmation may
  come later, even after the period) ÷ items due in the period. Nothing due → "—".
- 积分净值 net points: the sum of every ledger entry dated in the period (awards, deductions,
  manual entries and corrections; 0-point "cap reached" entries add nothing), with awards and
  deductions shown apart.
- 人均积分 average points per worker: net points ÷ assessed workers (grid workers and grid heads
  with an active grant in the subtree now). No worker → "—".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.units.models import Unit
from gridgov.workforce.selectors import duty_counts, points_totals

DASH = "—"


@dataclass(frozen=True)
class WorkforceMeasure:
    code: str
    label: str
    definition: str


DUTY_COMPLETION = WorkforceMeasure(
    "duty_completion_rate", "责任清单按时完成率",
    "期限在本期内的清单任务中，在期限前完成并经下发单位确认的比例（确认可晚于期限；已撤回的不计）。")
POINTS_NET = WorkforceMeasure(
    "points_net", "积分净值", "本期内全部积分记录之和（系统加减分、人工加减分和更正都计入；达上限的 0 分记录不加分）。")
POINTS_AVERAGE = WorkforceMeasure(
    "points_average", "人均积分", "积分净值 ÷ 参加考核的网格员和网格长人数（当前在岗）。")
WORKFORCE_MEASURES = (DUTY_COMPLETION, POINTS_NET, POINTS_AVERAGE)


@dataclass(frozen=True)
class WorkforceValue:
    measure: WorkforceMeasure
    value: float | None
    text: str
    parts: str


def figures(*, unit: Unit, period: Any) -> list[WorkforceValue]:
    """The three measures for the unit's subtree over the period (an insights Period: lo/hi)."""
    due, on_time = duty_counts(path=unit.path, start=period.lo, end=period.hi)
    net, plus, minus, workers = points_totals(path=unit.path, start=period.lo, end=period.hi)
    rate = on_time / due if due else None
    avg = net / workers if workers else None
    return [
        WorkforceValue(DUTY_COMPLETION, rate, DASH if rate is None else f"{rate:.1%}", f"{on_time}/{due}"),
        WorkforceValue(POINTS_NET, float(net), f"{net}", f"加 {plus} / 减 {-minus}"),
        WorkforceValue(POINTS_AVERAGE, avg, DASH if avg is None else f"{avg:.1f}", f"{net}/{workers} 人"),
    ]


def figures_for(*, scope: Scope, unit: Unit, period: Any) -> list[WorkforceValue] | None:
    """Shown only to those who assess staff over the unit (points are about named people). Kept, like
    the board, for GRIDGOV_INSIGHTS_CACHE_SECONDS per unit and period; the scope is checked first."""
    if not scope.can(P.WORK_ASSESS, unit.path):
        return None
    from django.conf import settings
    from django.core.cache import cache

    seconds = int(getattr(settings, "GRIDGOV_INSIGHTS_CACHE_SECONDS", 0))
    if seconds <= 0:
        return figures(unit=unit, period=period)
    key = f"insights:workforce:{unit.pk}:{unit.path}:{period.start}:{period.end}"
    found: list[WorkforceValue] | None = cache.get(key)
    if found is None:
        found = figures(unit=unit, period=period)
        cache.set(key, found, seconds)
    return found
