"""Deliberation counts (议事次数 and the six stages' throughput), defined once here and in words in
docs/measures.md: proposals raised, votes decided and passed, matters implemented, opinions
collected and adopted, talk days held, and residents' satisfaction with the result.

Every count is a tally over rows of a unit's subtree (by the proposal's or talk day's unit path) and
a period of whole local days; tallies are computed in a fixed number of grouped queries and summed
by path prefix for the unit and each of its subordinate units, so they add up like the case measures.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.deliberation.models import ConsultationNote, Evaluation, Proposal, TalkDay, VoteMeeting
from gridgov.units.models import Unit

from .measures import DASH, Period, subordinate_units


@dataclass
class DeliberationTallies:
    raised: int = 0
    decided: int = 0
    passed: int = 0
    no_quorum: int = 0
    implemented: int = 0
    opinions: int = 0
    adopted: int = 0
    talk_days: int = 0
    evaluations: int = 0
    satisfied: int = 0  # 满意 + 基本满意

    def add(self, other: DeliberationTallies) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class DeliberationMeasure:
    code: str
    label: str
    definition: str
    kind: str = "count"  # count | rate

    def value(self, t: DeliberationTallies) -> str:
        if self.code == "pass_rate":
            return _rate(t.passed, t.decided)
        if self.code == "adoption_rate":
            return _rate(t.adopted, t.opinions)
        if self.code == "evaluation_satisfaction":
            return _rate(t.satisfied, t.evaluations)
        return str(getattr(t, self.code))


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else DASH


DELIBERATION_MEASURES: tuple[DeliberationMeasure, ...] = (
    DeliberationMeasure("raised", "提事数", "在期内登记的议事事项数（提事），含已撤回的"),
    DeliberationMeasure("decided", "定事数（有效表决）",
                        "在期内结束的表决会议中，到会人数达到法定人数、得出“通过”或“未通过”的次数；到会不足的不计"),
    DeliberationMeasure("passed", "表决通过数", "在期内结束、结果为“通过”的表决次数"),
    DeliberationMeasure("pass_rate", "表决通过率", "表决通过数 ÷ 定事数；没有有效表决时显示“—”", "rate"),
    DeliberationMeasure("no_quorum", "到会不足次数", "在期内结束、因到会人数不足而无效的表决次数"),
    DeliberationMeasure("implemented", "实施完成数", "在期内标记“实施完成”的事项数（审事结束）"),
    DeliberationMeasure("opinions", "征集意见条数", "在期内登记的谋事意见中收集的意见条数之和"),
    DeliberationMeasure("adopted", "采纳意见条数", "其中采纳的条数之和"),
    DeliberationMeasure("adoption_rate", "意见采纳率", "采纳意见条数 ÷ 征集意见条数；没有意见时显示“—”", "rate"),
    DeliberationMeasure("talk_days", "说事日次数", "在期内召开的支部说事日（周五说事）次数"),
    DeliberationMeasure("evaluation_satisfaction", "评事满意率",
                        "期内登记的群众评议中（满意 + 基本满意）÷ 评议总数；没有评议时显示“—”", "rate"),
)


def _add(into: dict[str, DeliberationTallies], path: str, **counts: int) -> None:
    t = into.setdefault(path, DeliberationTallies())
    for attr, n in counts.items():
        setattr(t, attr, getattr(t, attr) + (n or 0))


def tallies_by_place(*, scope: Scope, unit: Unit, period: Period) -> dict[str, DeliberationTallies]:
    """Tallies per unit path where the rows belong (the proposal's or talk day's unit), within the
    actor's scope and the unit's subtree; five grouped queries whatever the size of the data."""
    lo, hi = period.lo, period.hi
    proposals = Proposal.objects.within(scope).filter(unit_path__startswith=unit.path)
    ids = proposals.values("pk")
    out: dict[str, DeliberationTallies] = {}
    for row in (proposals.filter(Q(proposed_at__gte=lo, proposed_at__lt=hi)
                                 | Q(implemented_at__gte=lo, implemented_at__lt=hi))
                .values("unit_path")
                .annotate(raised=Count("pk", filter=Q(proposed_at__gte=lo, proposed_at__lt=hi)),
                          implemented=Count("pk", filter=Q(implemented_at__gte=lo, implemented_at__lt=hi)))):
        _add(out, row["unit_path"], raised=row["raised"], implemented=row["implemented"])
    for row in (VoteMeeting.dangerously_unscoped.filter(proposal_id__in=ids, closed_at__gte=lo, closed_at__lt=hi)
                .values("proposal__unit_path", "result").annotate(n=Count("pk"))):
        n = row["n"]
        _add(out, row["proposal__unit_path"], passed=n if row["result"] == "passed" else 0,
             no_quorum=n if row["result"] == "no_quorum" else 0,
             decided=n if row["result"] in ("passed", "rejected") else 0)
    for row in (ConsultationNote.dangerously_unscoped.filter(proposal_id__in=ids, at__gte=lo, at__lt=hi)
                .values("proposal__unit_path").annotate(opinions=Sum("opinions"), adopted=Sum("adopted"))):
        _add(out, row["proposal__unit_path"], opinions=row["opinions"], adopted=row["adopted"])
    for row in (Evaluation.dangerously_unscoped.filter(proposal_id__in=ids, at__gte=lo, at__lt=hi)
                .values("proposal__unit_path")
                .annotate(n=Count("pk"), ok=Count("pk", filter=Q(satisfaction__in=["satisfied", "basic"])))):
        _add(out, row["proposal__unit_path"], evaluations=row["n"], satisfied=row["ok"])
    for row in (TalkDay.objects.within(scope).filter(unit_path__startswith=unit.path, held_on__gte=period.start,
                                                     held_on__lte=period.end)
                .values("unit_path").annotate(n=Count("pk"))):
        _add(out, row["unit_path"], talk_days=row["n"])
    return out


def rollup(by_place: dict[str, DeliberationTallies], path: str) -> DeliberationTallies:
    total = DeliberationTallies()
    for p, t in by_place.items():
        if p.startswith(path):
            total.add(t)
    return total


@dataclass
class DeliberationRow:
    unit: Unit
    tallies: DeliberationTallies
    values: list[str]


@dataclass
class DeliberationFigures:
    unit: Unit
    period: Period
    total: DeliberationTallies
    values: list[tuple[DeliberationMeasure, str]]
    rows: list[DeliberationRow]

    @property
    def empty(self) -> bool:
        return not any(getattr(self.total, f.name) for f in fields(self.total))


def deliberation_figures(*, scope: Scope, unit: Unit, period: Period) -> DeliberationFigures | None:
    """The unit's deliberation counts and one row per subordinate unit; None when the actor may not
    see deliberation at all (the dashboard then shows no section).

    Kept for GRIDGOV_INSIGHTS_CACHE_SECONDS like the case board, keyed by unit and period, but only
    when the actor sees deliberation over the whole unit (then the figures are the same for everyone
    who does); an actor who sees only part of it gets figures computed for their scope, uncached."""
    if not scope.can(P.DELIBERATION_VIEW):
        return None
    seconds = int(getattr(settings, "GRIDGOV_INSIGHTS_CACHE_SECONDS", 0))
    if seconds <= 0 or not scope.can(P.DELIBERATION_VIEW, unit.path):
        return _figures(scope=scope, unit=unit, period=period)
    key = f"insights:deliberation:v1:{unit.pk}:{unit.path}:{period.start}:{period.end}"
    found = cache.get(key)
    if isinstance(found, DeliberationFigures):
        return found
    result = _figures(scope=scope, unit=unit, period=period)
    cache.set(key, result, seconds)
    return result


def _figures(*, scope: Scope, unit: Unit, period: Period) -> DeliberationFigures:
    by_place = tallies_by_place(scope=scope, unit=unit, period=period)
    total = rollup(by_place, unit.path)
    rows = []
    for sub in subordinate_units(scope=scope, unit=unit):
        t = rollup(by_place, sub.path)
        rows.append(DeliberationRow(unit=sub, tallies=t, values=[m.value(t) for m in DELIBERATION_MEASURES]))
    return DeliberationFigures(unit=unit, period=period, total=total,
                               values=[(m, m.value(total)) for m in DELIBERATION_MEASURES], rows=rows)
