"""The visit compliance measure (走访达标率), defined once here and in docs/measures.md.

For a unit U and a period P, evaluated on day E = the period's last day (or today, if the period has
not ended):

- a household counts (denominator) when it is in U's subtree, active in the ledger, in at least one
  must-visit group on E (a key-group tag on the household, or on an active member, that has a rule in
  force at the household's grid: docs/visits.md), and its first deadline in that group has passed:
  entry day + cadence < E. A household that entered its group less than a cadence ago is not yet due
  and is left out (it can be neither late nor on time).
- it is compliant (numerator) when it is not overdue on E: its last visit on or before E fell on day
  v with v + cadence ≥ E, i.e. it was visited within its cadence of E (a visit exactly `cadence` days
  before E counts; one day earlier does not).
- the cadence of a household in several groups is the shortest (the most frequent group decides); its
  entry day is the day it entered that group.
- no household counted → "—", never 0% and never a division by zero.

It is the due list's arithmetic (`gridgov.visits.selectors.must_visit_status`): "compliant on E" is
"not overdue on 我的走访 on E". Rules are read as they are now (they are not versioned).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from gridgov.residents.models import Household
from gridgov.units.models import Unit
from gridgov.visits.selectors import must_visit_status

from .measures import Period

CODE = "visit_compliance"
LABEL = "走访达标率"
DEFINITION = ("统计日（时段最后一天，未结束时为今天）仍在五必访对象中、且入组已满一个走访周期的在册户里，"
              "最近一次走访距统计日不超过其走访周期的户数占比；一户属于多个对象类别时按最短周期计；"
              "没有应访户时显示“—”。")


@dataclass(frozen=True)
class VisitCompliance:
    as_of: dt.date
    households: int  # denominator: must-visit households due by E
    compliant: int  # numerator: of them, not overdue on E

    @property
    def value(self) -> float | None:
        return self.compliant / self.households if self.households else None

    @property
    def text(self) -> str:
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"

    @property
    def parts(self) -> str:
        return f"{self.compliant}/{self.households} 户" if self.households else "没有应访户"


def visit_compliance(*, unit: Unit, period: Period, today: dt.date) -> VisitCompliance:
    """The unit must already be in the viewer's scope (the dashboard checks it); the figure is an
    aggregate and names nobody."""
    as_of = min(period.end, today)
    seconds = int(getattr(settings, "GRIDGOV_INSIGHTS_CACHE_SECONDS", 0))
    if seconds <= 0:
        return _compliance(unit=unit, as_of=as_of)
    # Kept like the other dashboard figures (one computation per unit and day for everyone who may see it):
    # it walks every must-visit household under the unit, which is a county's tens of thousands.
    key = f"insights:visits:v1:{unit.pk}:{unit.path}:{as_of}"
    found = cache.get(key)
    if isinstance(found, VisitCompliance):
        return found
    result = _compliance(unit=unit, as_of=as_of)
    cache.set(key, result, seconds)
    return result


def _compliance(*, unit: Unit, as_of: dt.date) -> VisitCompliance:
    households = Household.dangerously_unscoped.filter(unit__path__startswith=unit.path)
    due = [s for s in must_visit_status(households=households, on=as_of)
           if s.since + dt.timedelta(days=s.cadence) < as_of]
    return VisitCompliance(as_of=as_of, households=len(due), compliant=sum(1 for s in due if not s.overdue_on(as_of)))
