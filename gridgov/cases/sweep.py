"""The periodic deadline sweep: warn before the deadline, mark overdue, auto-urge, and escalate
where the category says so, and archive resolved cases nobody rated.

Set-based: each kind of effect takes its due cases in batches of `BATCH`, each batch in one
transaction under row locks (`FOR UPDATE SKIP LOCKED`), and writes the batch with one UPDATE of
the cases, one INSERT of their history rows, one of their audit rows and one of their
notifications (plus one query for the form numbers, one for the holders, one for the history
sequence). Each case action still gets its own history row and audit row, built by the same
handlers `case_act` runs (transitions.transition).

Idempotent and safe to run twice or to kill midway: the selection's conditions are re-checked by
PostgreSQL on the locked rows, each effect is keyed on the deadline it concerns (warned_for,
respond_urged_for, overdue_for), and a batch commits whole or not at all. Rows another session
holds (a person acting on the case, or a second sweep) are skipped in the batches and then taken
one at a time, waiting for their lock, so none is left behind and none is acted on twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Q, QuerySet

from gridgov.audit.services import audit_record_many
from gridgov.core.clock import local
from gridgov.core.workdays import add_working_days
from gridgov.notify.services import notify_many
from gridgov.units.models import Unit

from . import deadlines, numbering
from .calendar import calendar_recompute
from .holders import holder_user_ids_many
from .models import Case, CaseEvent, Urgency
from .numbering import FormKind, form_number
from .states import ACTIONS, CLOCKED, Status
from .transitions import Change, _authorize, _Step, transition


@dataclass
class SweepReport:
    warned: int = 0
    respond_urged: int = 0
    overdue: int = 0
    escalated: int = 0
    closed: int = 0
    recomputed: int = 0


# A resolved case the reporter neither accepts nor reopens is archived after this many working days.
AUTO_CLOSE_WORKING_DAYS = 7
# Cases per transaction: large enough that a year's backlog takes minutes, small enough that a
# batch holds its row locks for well under a second.
BATCH = 200

_MAX_WARN = max(deadlines.WARN_BEFORE, deadlines.WARN_BEFORE_EMERGENCY)
_CLOCKED = [s.value for s in CLOCKED]


class NumberPool:
    """Form numbers for a batch, taken from the county's sequence in one round trip per county."""

    def __init__(self) -> None:
        self._free: dict[tuple[int, int, str], deque[int]] = {}

    def reserve(self, counties: Counter[int], year: int, kind: str) -> None:
        for county_id, n in counties.items():
            values = numbering.next_values(county_id=county_id, year=year, kind=kind, n=n)
            self._free.setdefault((county_id, year, kind), deque()).extend(values)

    def __call__(self, county: Unit, year: int, kind: str, prefix: str = "") -> str:
        free = self._free.get((county.pk, year, kind))
        value = free.popleft() if free else numbering.next_value(county_id=county.pk, year=year, kind=kind)
        return form_number(county_id=county.pk, division_code=county.division_code, year=year, kind=kind, value=value,
                           prefix=prefix)


class _Batch:
    """The writes of one batch, saved together at the end of its transaction."""

    def __init__(self, cases: list[Case], now: dt.datetime) -> None:
        self.cases = cases
        self.now = now
        self.numbers = NumberPool()
        self.changes: list[Change] = []
        self._fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
        self._before = {c.pk: self._values(c) for c in cases}
        self._seq: dict[int, int] | None = None

    def _values(self, case: Case) -> tuple[Any, ...]:
        return tuple(getattr(case, f.attname) for f in self._fields)

    def seq_of(self, case: Case) -> int:
        if self._seq is None:
            self._seq = dict(CaseEvent.dangerously_unscoped.filter(case_id__in=[c.pk for c in self.cases])
                             .values("case_id").annotate(m=Max("seq")).values_list("case_id", "m"))
        self._seq[case.pk] = self._seq.get(case.pk, 0) + 1
        return self._seq[case.pk]

    def act(self, case: Case, action: str, **params: Any) -> bool:
        """One automatic action, as `case_act(actor=None, ...)` takes it; False when not allowed now."""
        spec = ACTIONS[action]
        if not spec.allowed_from(case.status):
            return False
        step = _Step(obj=case, action=spec, actor=None, scope=None, now=self.now, numbers=self.numbers)
        role = _authorize(step)
        self.changes.append(transition(step, role, params, seq_of=self.seq_of))
        return True

    def save(self) -> None:
        changed = [c for c in self.cases if self._values(c) != self._before[c.pk]]
        if changed:
            fields = sorted({f.name for c in changed for f, old, new in
                             zip(self._fields, self._before[c.pk], self._values(c), strict=True) if old != new})
            Case.dangerously_unscoped.bulk_update(changed, fields)
        if not self.changes:
            return
        CaseEvent.dangerously_unscoped.bulk_create([ch.event for ch in self.changes])
        audit_record_many([ch.audit for ch in self.changes])
        notifying = [ch for ch in self.changes if ch.notify is not None]
        holders = holder_user_ids_many([ch.case for ch in notifying])
        notify_many([{**ch.notify, "user_ids": holders[ch.case.pk]} for ch in notifying if ch.notify], now=self.now)


def _sweep(
    due: QuerySet[Case],
    handle: Callable[[_Batch], int],
    *,
    now: dt.datetime,
    limit: int,
    related: tuple[str, ...] = ("category", "holder_unit", "county"),
) -> int:
    """Run `handle` over the cases `due` selects, in locked batches; returns how many it acted on."""
    acted = seen = 0

    def run(cases: list[Case]) -> None:
        nonlocal acted
        batch = _Batch(cases, now)
        acted += handle(batch)
        batch.save()

    skip = connection.features.has_select_for_update_skip_locked
    if related:
        due = due.select_related(*related)
    while seen < limit:
        # Every case a batch takes drops out of `due` (its effect is keyed on the deadline), so this ends.
        with transaction.atomic():
            cases = list(due.select_for_update(of=("self",), skip_locked=skip)[:min(BATCH, limit - seen)])
            if cases:
                run(cases)
        seen += len(cases)
        if len(cases) < BATCH:
            break
    # What the batches skipped is held by someone else: take it one case at a time, waiting for the lock.
    # The conditions are checked again on the locked row, so a case the holder changed meanwhile drops out.
    if skip:
        for pk in list(due.values_list("pk", flat=True)[:max(0, limit - seen)]):
            with transaction.atomic():
                cases = list(due.filter(pk=pk).select_for_update(of=("self",)))
                if cases:
                    run(cases)
    return acted


def _counties(cases: list[Case]) -> Counter[int]:
    return Counter(c.county_id for c in cases)


def case_sweep(*, now: dt.datetime, limit: int = 2000) -> SweepReport:
    report = SweepReport()
    year = local(now).year

    # 0. A working-calendar change saved since the last run moves open cases' deadlines (cases/calendar.py).
    report.recomputed = calendar_recompute(now=now, limit=limit)

    # 1. Warn the holders before the resolution deadline (once per deadline).
    warn_due = (Case.dangerously_unscoped.filter(status__in=_CLOCKED, resolve_due__gt=now,
                                                 resolve_due__lte=now + _MAX_WARN)
                .filter(Q(warned_for__isnull=True) | ~Q(warned_for=F("resolve_due")))
                .filter(Q(urgency=Urgency.EMERGENCY, resolve_due__lte=now + deadlines.warn_window(Urgency.EMERGENCY))
                        | (~Q(urgency=Urgency.EMERGENCY)
                           & Q(resolve_due__lte=now + deadlines.warn_window(Urgency.ORDINARY))))
                .order_by("resolve_due", "pk"))

    def warn(batch: _Batch) -> int:
        Case.dangerously_unscoped.filter(pk__in=[c.pk for c in batch.cases]).update(warned_for=F("resolve_due"))
        holders = holder_user_ids_many(batch.cases)
        notify_many([{"user_ids": holders[c.pk], "topic": "case.deadline_warning", "title": f"即将超期：{c.title}",
                      "body": f"{c.number} · {deadlines.countdown(c.resolve_due, now)}", "link": f"/cases/{c.pk}/",
                      "dedupe_key": f"case:{c.pk}:warn:{c.resolve_due.isoformat()}"}
                     for c in batch.cases if c.resolve_due is not None], now=now)
        return len(batch.cases)

    report.warned = _sweep(warn_due, warn, now=now, limit=limit, related=())

    # 2. Signed for too late: a dispatched case not acknowledged by its response deadline is urged once.
    respond_due = (Case.dangerously_unscoped.filter(status=Status.DISPATCHED, respond_due__lt=now)
                   .filter(Q(respond_urged_for__isnull=True) | ~Q(respond_urged_for=F("respond_due")))
                   .order_by("respond_due", "pk"))

    def urge_late_sign_for(batch: _Batch) -> int:
        batch.numbers.reserve(_counties(batch.cases), year, FormKind.URGE)
        n = 0
        for case in batch.cases:
            case.respond_urged_for = case.respond_due
            n += batch.act(case, "urge", note="超过签收时限，系统自动催办")
        return n

    report.respond_urged = _sweep(respond_due, urge_late_sign_for, now=now, limit=limit)

    # 3. Past the resolution deadline: marked overdue and urged once; escalated where the category says.
    overdue_due = (Case.dangerously_unscoped.filter(status__in=_CLOCKED, resolve_due__lt=now)
                   .filter(Q(overdue_for__isnull=True) | ~Q(overdue_for=F("resolve_due")))
                   .order_by("resolve_due", "pk"))  # the longest overdue first, whatever the limit leaves

    def mark_overdue(batch: _Batch) -> int:
        batch.numbers.reserve(_counties(batch.cases), year, FormKind.URGE)
        for case in batch.cases:
            case.overdue, case.overdue_for = True, case.resolve_due
            batch.act(case, "urge", note=deadlines.OVERDUE_URGE_NOTE)
            escalate = case.category.escalate_when_overdue or case.urgency == Urgency.EMERGENCY
            if (escalate and case.status in (Status.REPORTED, Status.HANDLING)
                    and case.holder_unit is not None and case.holder_unit.parent_id is not None
                    and batch.act(case, "escalate", note="超期未办，系统自动上报")):
                report.escalated += 1
        return len(batch.cases)

    report.overdue = _sweep(overdue_due, mark_overdue, now=now, limit=limit,
                            related=("category", "holder_unit__parent", "county"))

    # 4. Resolved and neither accepted nor reopened for AUTO_CLOSE_WORKING_DAYS working days: archived.
    # Working days take at least as many calendar days, so the SQL bound is safe; the calendar decides.
    calendar = deadlines.work_calendar()
    resolved_due = (Case.dangerously_unscoped.filter(status=Status.RESOLVED,
                                         resolved_at__lte=now - dt.timedelta(days=AUTO_CLOSE_WORKING_DAYS))
                    .order_by("resolved_at", "pk"))
    # The latest resolution old enough: adding working days is monotonic, so a bisection over the
    # days between the SQL bound and a safe lower bound finds the cut-off to the minute.
    resolved_due = resolved_due.filter(resolved_at__lte=_close_cutoff(calendar, now))

    def close(batch: _Batch) -> int:
        return sum(batch.act(case, "close", note=f"反映人 {AUTO_CLOSE_WORKING_DAYS} 个工作日未评价，系统自动归档")
                   for case in batch.cases)

    report.closed = _sweep(resolved_due, close, now=now, limit=limit)
    return report


def _close_cutoff(calendar: Any, now: dt.datetime) -> dt.datetime:
    """The latest moment t with add_working_days(t, AUTO_CLOSE_WORKING_DAYS) <= now (to the second)."""
    hi = now - dt.timedelta(days=AUTO_CLOSE_WORKING_DAYS)  # may be too late (weekends, holidays)
    lo = hi - dt.timedelta(days=60)  # 7 working days never span 67 calendar days
    if add_working_days(calendar, hi, AUTO_CLOSE_WORKING_DAYS) <= now:
        return hi
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if add_working_days(calendar, mid, AUTO_CLOSE_WORKING_DAYS) <= now:
            lo = mid
        else:
            hi = mid
    return lo
