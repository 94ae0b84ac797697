"""The periodic deadline sweep: warn before the deadline, mark overdue, auto-urge, and escalate
where the category says so.

Idempotent and safe to run twice or to kill midway: every case is handled in its own
transaction under a row lock, and each effect is keyed on the deadline it concerns
(warned_for, respond_urged_for, overdue_for), so a second run finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q

from gridgov.core.workdays import add_working_days
from gridgov.notify.services import notify_users

from . import deadlines
from .models import Case, Urgency
from .services import case_act, holder_user_ids
from .states import CLOCKED, Status


@dataclass
class SweepReport:
    warned: int = 0
    respond_urged: int = 0
    overdue: int = 0
    escalated: int = 0
    closed: int = 0


# A resolved case the reporter neither accepts nor reopens is archived after this many working days.
AUTO_CLOSE_WORKING_DAYS = 7


_MAX_WARN = max(deadlines.WARN_BEFORE, deadlines.WARN_BEFORE_EMERGENCY)


def _locked(pk: int) -> Case | None:
    return Case.unscoped.select_for_update(of=("self",)).select_related("category", "holder_unit").filter(
        pk=pk).first()


def case_sweep(*, now: dt.datetime, limit: int = 2000) -> SweepReport:
    report = SweepReport()
    clocked = [s.value for s in CLOCKED]

    warn_ids = list(
        Case.unscoped.filter(status__in=clocked, resolve_due__gt=now, resolve_due__lte=now + _MAX_WARN)
        .filter(Q(warned_for__isnull=True) | ~Q(warned_for=F("resolve_due")))
        .values_list("pk", flat=True)[:limit]
    )
    for pk in warn_ids:
        with transaction.atomic():
            case = _locked(pk)
            if case is None or case.status not in clocked or case.resolve_due is None:
                continue
            if case.warned_for == case.resolve_due or not (
                    now < case.resolve_due <= now + deadlines.warn_window(case.urgency)):
                continue
            case.warned_for = case.resolve_due
            Case.unscoped.filter(pk=pk).update(warned_for=case.resolve_due)
            notify_users(user_ids=holder_user_ids(case), topic="case.deadline_warning",
                         title=f"即将超期：{case.title}",
                         body=f"{case.number} · {deadlines.countdown(case.resolve_due, now)}",
                         link=f"/cases/{case.pk}/", now=now,
                         dedupe_key=f"case:{pk}:warn:{case.resolve_due.isoformat()}")
            report.warned += 1

    # Signed for too late: a dispatched case not acknowledged by its response deadline is urged once.
    respond_ids = list(
        Case.unscoped.filter(status=Status.DISPATCHED, respond_due__lt=now)
        .filter(Q(respond_urged_for__isnull=True) | ~Q(respond_urged_for=F("respond_due")))
        .values_list("pk", flat=True)[:limit]
    )
    for pk in respond_ids:
        with transaction.atomic():
            case = _locked(pk)
            if (case is None or case.status != Status.DISPATCHED or case.respond_due is None
                    or case.respond_due >= now or case.respond_urged_for == case.respond_due):
                continue
            Case.unscoped.filter(pk=pk).update(respond_urged_for=case.respond_due)
            case_act(actor=None, now=now, case_id=pk, action="urge", note="超过签收时限，系统自动催办")
            report.respond_urged += 1

    overdue_ids = list(
        Case.unscoped.filter(status__in=clocked, resolve_due__lt=now)
        .filter(Q(overdue_for__isnull=True) | ~Q(overdue_for=F("resolve_due")))
        .order_by("resolve_due", "pk")  # the longest overdue first, whatever the limit leaves for the next run
        .values_list("pk", flat=True)[:limit]
    )
    for pk in overdue_ids:
        with transaction.atomic():
            case = _locked(pk)
            if (case is None or case.status not in clocked or case.resolve_due is None
                    or case.resolve_due >= now or case.overdue_for == case.resolve_due):
                continue
            Case.unscoped.filter(pk=pk).update(overdue=True, overdue_for=case.resolve_due)
            case_act(actor=None, now=now, case_id=pk, action="urge", note="已超过办理时限，系统自动催办")
            report.overdue += 1
            escalate = case.category.escalate_when_overdue or case.urgency == Urgency.EMERGENCY
            if (escalate and case.status in (Status.REPORTED, Status.HANDLING)
                    and case.holder_unit is not None and case.holder_unit.parent_id is not None):
                case_act(actor=None, now=now, case_id=pk, action="escalate", note="超期未办，系统自动上报")
                report.escalated += 1

    calendar = deadlines.work_calendar()
    resolved = list(Case.unscoped.filter(status=Status.RESOLVED, resolved_at__lt=now).values_list(
        "pk", "resolved_at")[:limit])
    for pk, resolved_at in resolved:
        if resolved_at is None or add_working_days(calendar, resolved_at, AUTO_CLOSE_WORKING_DAYS) > now:
            continue
        with transaction.atomic():
            case = _locked(pk)
            if case is None or case.status != Status.RESOLVED:
                continue
            case_act(actor=None, now=now, case_id=pk, action="close",
                     note=f"反映人 {AUTO_CLOSE_WORKING_DAYS} 个工作日未评价，系统自动归档")
            report.closed += 1
    return report
