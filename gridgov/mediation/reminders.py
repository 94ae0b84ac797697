"""Deadline reminders of open mediation cases (调解期限提醒): an in-app message to the presiding
mediator (调解主持人) three working days before the deadline and once the deadline has passed.

A periodic job (Celery beat "mediation-deadline-remind", queue "sweep") runs `mediation_deadline_remind`.
It is idempotent and safe to run twice or side by side:
- each reminder is keyed on the deadline it concerns: the case row remembers the deadline it was sent
  for (`due_soon_reminded_for`, `overdue_reminded_for`), and the outbox row's dedupe key names the case,
  the kind and the deadline, so a rerun, a second beat or a crash between the two writes sends nothing
  twice;
- the one extension moves `due_at`, so the reminders of the new deadline go out again;
- only open cases (受理, 调解中) are reminded: a concluded case has no clock.

Reminders are messages, not steps of the workflow: no history row and no audit row (no state changes);
the outbox row is the record. The deadline itself is 30 calendar days (models.DEADLINE_DAYS); the
three days before it are counted on the official working-day calendar (without the deployment's local
overrides, which the closed loop of cases keeps as its own data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet

from gridgov.access.models import Grant, User
from gridgov.access.roles import P
from gridgov.core.clock import local
from gridgov.core.workdays import WorkCalendar, working_days_between
from gridgov.notify.services import notify_many

from .models import MediationCase
from .states import OPEN

# Remind this many working days before the deadline (the deadline's own day counts when it is one).
REMIND_WORKING_DAYS = 3
# The widest calendar span three working days can cover (the Spring Festival week and two weekends).
_SCAN = dt.timedelta(days=21)
# Cases per transaction.
BATCH = 200
TOPIC_DUE_SOON = "mediation.due_soon"
TOPIC_OVERDUE = "mediation.overdue"


@dataclass
class ReminderReport:
    due_soon: int = 0
    overdue: int = 0


def _open() -> list[str]:
    return [s.value for s in OPEN]


def due_soon_key(m: MediationCase) -> str:
    return f"mediation:{m.pk}:due_soon:{m.due_at.isoformat()}"


def overdue_key(m: MediationCase) -> str:
    return f"mediation:{m.pk}:overdue:{m.due_at.isoformat()}"


def recipients_many(cases: Iterable[MediationCase]) -> dict[int, list[int]]:
    """Who is reminded of each case: its presiding mediator while their account is active; a case
    nobody presides yet goes to those holding mediation.handle by a grant at the committee's unit
    itself (who would assign one), not to every office above it. One query for the batch."""
    cases = list(cases)
    presiding_ids = {m.presiding_id for m in cases if m.presiding_id}
    active = set(User.objects.filter(pk__in=presiding_ids, is_active=True).values_list("pk", flat=True))
    unassigned_units = {m.committee_unit_id for m in cases if m.presiding_id not in active}
    by_unit: dict[int, set[int]] = {}
    if unassigned_units:
        grants = (Grant.dangerously_unscoped.filter(unit_id__in=unassigned_units, revoked_at__isnull=True,
                                                    user__is_active=True)
                  .select_related("role"))
        for g in grants:
            if P.MEDIATION_HANDLE in g.role.permissions:
                by_unit.setdefault(g.unit_id, set()).add(g.user_id)
    return {m.pk: [m.presiding_id] if m.presiding_id in active else sorted(by_unit.get(m.committee_unit_id, ()))
            for m in cases}


def _link(m: MediationCase) -> str:
    return f"/mediation/{m.pk}/"


def _due_text(m: MediationCase) -> str:
    return f"{local(m.due_at):%Y年%m月%d日}"


def _left(calendar: WorkCalendar, now: dt.datetime, m: MediationCase) -> str:
    days = working_days_between(calendar, now, m.due_at)
    return f"还有 {days} 个工作日" if days else "今天到期"


def _batches(qs: QuerySet[MediationCase], *, limit: int) -> Iterable[list[int]]:
    ids = list(qs.order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
    for i in range(0, len(ids), BATCH):
        yield ids[i:i + BATCH]


def mediation_deadline_remind(*, now: dt.datetime, calendar: WorkCalendar | None = None,
                              limit: int = 5000) -> ReminderReport:
    """Send the reminders that are due at `now` and not yet sent for the case's current deadline."""
    calendar = calendar or WorkCalendar()
    report = ReminderReport()

    # 1. Past the deadline and still open: once per deadline.
    overdue = (MediationCase.dangerously_unscoped.filter(status__in=_open(), due_at__lte=now)
               .filter(Q(overdue_reminded_for__isnull=True) | ~Q(overdue_reminded_for=F("due_at"))))
    for ids in _batches(overdue, limit=limit):
        with transaction.atomic():
            # Locked and re-checked: a second run waiting here finds the rows already marked.
            cases = list(overdue.filter(pk__in=ids).select_for_update(of=("self",)).order_by("pk"))
            if not cases:
                continue
            MediationCase.dangerously_unscoped.filter(pk__in=[m.pk for m in cases]).update(
                overdue_reminded_for=F("due_at")
            )
            who = recipients_many(cases)
            notify_many(
                [
                    {
                        "user_ids": who[m.pk],
                        "topic": TOPIC_OVERDUE,
                        "title": f"调解已超期：{m.title}",
                        "body": (
                            f"{m.number} · 调解期限 {_due_text(m)} 已过，"
                            + (
                                "已延长过一次，请尽快调结或依法终止调解。"
                                if m.extended_days
                                else "请尽快调结；当事人同意的，可延长一次期限。"
                            )
                        ),
                        "link": _link(m),
                        "dedupe_key": overdue_key(m),
                    }
                    for m in cases
                ],
                now=now,
            )
            report.overdue += len(cases)

    # 2. Due within three working days and not yet reminded for this deadline.
    soon = MediationCase.dangerously_unscoped.filter(
        status__in=_open(), due_at__gt=now, due_at__lte=now + _SCAN
    ).filter(Q(due_soon_reminded_for__isnull=True) | ~Q(due_soon_reminded_for=F("due_at")))
    for ids in _batches(soon, limit=limit):
        with transaction.atomic():
            locked = list(soon.filter(pk__in=ids).select_for_update(of=("self",)).order_by("pk"))
            cases = [m for m in locked if working_days_between(calendar, now, m.due_at) <= REMIND_WORKING_DAYS]
            if not cases:
                continue
            MediationCase.dangerously_unscoped.filter(pk__in=[m.pk for m in cases]).update(
                due_soon_reminded_for=F("due_at")
            )
            who = recipients_many(cases)
            notify_many(
                [
                    {
                        "user_ids": who[m.pk],
                        "topic": TOPIC_DUE_SOON,
                        "title": f"调解即将到期：{m.title}",
                        "body": f"{m.number} · 调解期限 {_due_text(m)}，{_left(calendar, now, m)}。",
                        "link": _link(m),
                        "dedupe_key": due_soon_key(m),
                    }
                    for m in cases
                ],
                now=now,
            )
            report.due_soon += len(cases)
    return report
