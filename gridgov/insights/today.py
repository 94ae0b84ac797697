"""今日工作: what a staff member has to do today, as their home page shows it at a glance on a cheap phone.

Each part comes from its own app's selectors, through the actor's scope, and appears only for those who
hold the right: their cases waiting (待办, 即将超期, 已超期 and the first few, overdue first), the households
due a visit by the must-visit rules (五必访), their open duty-list items, the mediations they handle and
their unread in-app messages. Every figure is what the list it links to shows. A fixed handful of queries
whatever the data (tests/functional/test_home_today.py): counts stop at a cap, and the visit figures are
left to 我的走访 for someone who may visit more households than a village has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.cases import queue_counts
from gridgov.cases import selectors as case_selectors
from gridgov.cases.deadlines import countdown
from gridgov.cases.states import STATUSES
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.mediation import selectors as mediation_selectors
from gridgov.mediation.states import Status as MediationStatus
from gridgov.notify import selectors as notify_selectors
from gridgov.units.models import Unit
from gridgov.visits import selectors as visit_selectors
from gridgov.workforce import selectors as duty_selectors

CASE_CAP = 99  # the queue pages list 100 cases: a figure above shows as 99+
UNREAD_CAP = 99
FIRST_CASES = 5
VISIT_MOST = 1000  # households a grid or a village has; above, the figures are on 我的走访


@dataclass(frozen=True)
class Figure:
    """A count read up to `cap` + 1 rows: shown as 99+ beyond the cap."""

    n: int
    cap: int

    @property
    def text(self) -> str:
        return f"{self.cap}+" if self.n > self.cap else str(self.n)

    def __bool__(self) -> bool:
        return self.n > 0


@dataclass(frozen=True)
class CaseLine:
    case: Any
    countdown: str
    late: bool
    unit_name: str = ""


@dataclass
class Today:
    cases: dict[str, Figure] | None = None  # todo, due_soon, overdue; None without case work
    first_cases: list[CaseLine] = field(default_factory=list)
    can_visit: bool = False
    visits: visit_selectors.DueCounts | None = None  # None when the charge is too large to count here
    duty: duty_selectors.DutyToday | None = None
    mediation: dict[str, int] | None = None  # accepted, mediating, overdue; for those who mediate
    unread: Figure = Figure(0, UNREAD_CAP)
    can_report: bool = False
    can_register_mediation: bool = False

    @property
    def anything(self) -> bool:
        """Whether the user has any of this work at all (an auditor has none: the page says so)."""
        return bool(self.cases is not None or self.can_visit or self.duty is not None or self.mediation is not None)


def _case_line(case: Any, now: dt.datetime, unit_names: dict[int, str]) -> CaseLine:
    live = STATUSES[case.status].type.value in ("open", "in_progress")
    late = bool(live and case.resolve_due and case.resolve_due < now)
    return CaseLine(case=case, countdown=countdown(case.resolve_due, now) if live else "", late=late,
                    unit_name=unit_names.get(case.unit_id, ""))


def my_day(*, scope: Scope, user: Any, now: dt.datetime) -> Today:
    today = Today(unread=Figure(notify_selectors.inbox_unread(user=user, cap=UNREAD_CAP), UNREAD_CAP),
                  can_report=scope.can(P.CASE_REPORT), can_register_mediation=scope.can(P.MEDIATION_REGISTER))
    if scope.can(P.CASE_VIEW) or scope.can(P.CASE_DEPARTMENT):
        counts = queue_counts.queue_counts(scope=scope, now=now, cap=CASE_CAP)
        today.cases = {name: Figure(n, CASE_CAP) for name, n in counts.items()}
        if counts["todo"]:
            # The 待办 queue's order: soonest due first, so the overdue ones lead.
            rows = case_selectors.case_queue(scope=scope, queue="todo", now=now, limit=FIRST_CASES)
            # The queue loads each case with its category and reporter only: the grids' names in one read
            # (case.unit would load each grid whole, boundary and all, one statement per line).
            names = dict(Unit.dangerously_unscoped.filter(pk__in={c.unit_id for c in rows}).values_list("pk", "name"))
            today.first_cases = [_case_line(c, now, names) for c in rows]
    if scope.can(P.HOUSEHOLD_EDIT):
        today.can_visit = True
        today.visits = visit_selectors.due_counts(scope=scope, today=local(now).date(), most=VISIT_MOST)
    day_end = dt.datetime.combine(local(now).date() + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    today.duty = duty_selectors.duty_today(scope=scope, user=user, now=now, day_end=day_end)
    if scope.can(P.MEDIATION_HANDLE):
        by_status = mediation_selectors.status_counts(scope=scope)
        today.mediation = {"accepted": by_status[MediationStatus.ACCEPTED],
                           "mediating": by_status[MediationStatus.MEDIATING],
                           "overdue": mediation_selectors.overdue_count(scope=scope, now=now)}
    return today
