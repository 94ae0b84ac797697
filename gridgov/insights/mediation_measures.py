"""The mediation measures (docs/measures.md, "Mediation", says the same in words).

For a unit and a period (whole local days, both ends included), over the mediation cases whose
dispute lies in the unit's subtree and which the actor may see:

- mode split: mediations registered (受理) in the period, counted by mode (人民/行政/司法调解), and
  each mode's share of them;
- success rate = mediations concluded in the period with a signed agreement ÷ mediations concluded
  in the period (with an agreement, a failure or a termination);
- on-time rate = mediations concluded in the period at or before their deadline (30 days from
  registering, plus the extension if one was granted) ÷ mediations concluded in the period;
- still open at the end of the period, and how many of those were past their deadline.

A ratio with nothing to divide by is "—", never 0 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q

from gridgov.access.scope import Scope
from gridgov.insights.measures import DASH, Period
from gridgov.mediation.models import MediationCase, Mode
from gridgov.units.models import Unit

DEFINITIONS = {
    "mode_split": "本期受理的纠纷中，人民调解、行政调解、司法调解各占多少（件数和占比）。",
    "success_rate": ("调解成功率 = 本期调解结束且达成书面调解协议的件数 ÷ 本期调解结束的件数"
                     "（达成协议、调解不成、终止调解）。"),
    "on_time_rate": ("按期调结率 = 本期调解结束时未超过调解期限的件数 ÷ 本期调解结束的件数；"
                     "期限为受理之日起 30 天，经延期的按延长后的期限。"),
    "open": "期末仍在调解中的件数（受理于期末之前、期末时尚未结束），其中已超过调解期限的为超期。",
}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def fmt(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class MediationFigures:
    registered: int
    by_mode: dict[str, int]
    concluded: int
    agreed: int
    on_time: int
    open_at_end: int
    overdue_at_end: int

    @property
    def success_rate(self) -> float | None:
        return _rate(self.agreed, self.concluded)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.concluded)

    def mode_share(self, mode: str) -> float | None:
        return _rate(self.by_mode.get(mode, 0), self.registered)

    def rows(self) -> list[dict[str, str]]:
        """The mode split as table rows (label, count, share)."""
        return [{"mode": label, "count": str(self.by_mode.get(code, 0)), "share": fmt(self.mode_share(code))}
                for code, label in Mode.choices]

    @property
    def success_rate_text(self) -> str:
        return fmt(self.success_rate)

    @property
    def on_time_rate_text(self) -> str:
        return fmt(self.on_time_rate)


def mediation_figures(*, scope: Scope, unit: Unit, period: Period, now: dt.datetime) -> MediationFigures:
    """Three aggregate queries, whatever the number of mediations."""
    qs = MediationCase.objects.within(scope).filter(unit_path__startswith=unit.path)
    lo, hi = period.lo, period.hi
    modes = {r["mode"]: r["n"] for r in qs.filter(accepted_at__gte=lo, accepted_at__lt=hi)
             .values("mode").annotate(n=Count("id")).order_by()}
    done = qs.filter(concluded_at__gte=lo, concluded_at__lt=hi).aggregate(
        concluded=Count("id"),
        agreed=Count("id", filter=~Q(agreement_number="")),
        on_time=Count("id", filter=Q(concluded_at__lte=F("due_at"))),
    )
    end = min(hi, now)
    still = qs.filter(Q(concluded_at__isnull=True) | Q(concluded_at__gte=hi), accepted_at__lt=hi).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=end)))
    return MediationFigures(
        registered=sum(modes.values()), by_mode=modes, concluded=done["concluded"], agreed=done["agreed"],
        on_time=done["on_time"], open_at_end=still["open"], overdue_at_end=still["overdue"],
    )
