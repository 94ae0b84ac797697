"""Celery tasks: thin wrappers over the idempotent job functions (safe to run twice or overlap)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from gridgov.cases.sweep import case_sweep
from gridgov.core.clock import now
from gridgov.interfaces.jobs import periodic
from gridgov.notify.services import deliver_pending


@shared_task(name="gridgov.cases.sweep")
def cases_sweep_task() -> dict[str, int]:
    report = case_sweep(now=now())
    return {"warned": report.warned, "respond_urged": report.respond_urged, "overdue": report.overdue,
            "escalated": report.escalated, "closed": report.closed,
            "recomputed": report.recomputed}


@shared_task(name="gridgov.notify.deliver")
def notify_deliver_task() -> int:
    return deliver_pending(now=now())


@shared_task(name="gridgov.access.disable_idle")
def accounts_disable_idle_task() -> int:
    from gridgov.access.lifecycle import accounts_disable_idle

    return accounts_disable_idle(now=now())


@shared_task(name="gridgov.residents.exports_expire")
def exports_expire_task() -> int:
    from gridgov.residents.exports import exports_expire

    return exports_expire(now=now())


@shared_task(name="gridgov.residents.retention")
def residents_retention_task() -> dict[str, int]:
    from gridgov.residents.retention import retention_run

    report = retention_run(now=now())
    return {"residents": report.residents, "households": report.households, "import_files": report.import_files}


@shared_task(name="gridgov.cases.public.purge_phones")
def reporter_phones_purge_task() -> int:
    """The promise on the report form: a reporter's phone is erased PHONE_RETENTION_DAYS after the case ends."""
    from gridgov.cases.public.services import reporter_phones_purge

    return reporter_phones_purge(now=now())


@shared_task(name="gridgov.workforce.duty_sweep")
def duty_sweep_task() -> int:
    from gridgov.workforce.services import duty_sweep

    return duty_sweep(now=now())


@shared_task(name="gridgov.workforce.points_feed")
def points_feed_task() -> dict[str, int]:
    from gridgov.processes.points_feed import points_feed_run

    return points_feed_run(now=now())


@shared_task(name="gridgov.mediation.deadline_remind")
def mediation_deadline_remind_task() -> dict[str, int]:
    from gridgov.mediation.reminders import mediation_deadline_remind

    report = mediation_deadline_remind(now=now())
    return {"due_soon": report.due_soon, "overdue": report.overdue}


@shared_task(name="gridgov.notices.escalate")
def notices_escalate_task() -> dict[str, int]:
    """Reminders for grids below full reach after a notice's deadline (the job `notices-escalate`, by hand)."""
    return periodic.notices_escalate(now=now())


@shared_task(name="gridgov.processes.routines_run")
def routines_run_task() -> dict[str, int]:
    """Routines' occurrences ahead and the day-before reminders (the job `processes-routines-run`, by hand)."""
    return periodic.routines_run(now=now())


@shared_task(name="gridgov.jobs.run", bind=True, max_retries=5)
def run_scheduled_job(self: Any, name: str) -> dict[str, int]:
    """What Celery beat sends for every job of config/jobs.py (CELERY_BEAT_SCHEDULE). The job runs through
    the same lease and record as in the embedded runner; a message arriving within half a period of the
    job's last run (a second beat, a late message) finds it not due and does nothing. A failure is recorded,
    then retried by Celery after the same back-off."""
    from config.jobs import JOB_BY_NAME
    from gridgov.interfaces.jobs.runner import job_run, runner_owner
    from gridgov.scheduling.models import JobState
    from gridgov.scheduling.services import backoff_seconds

    job = JOB_BY_NAME[name]
    outcome = job_run(job, now=now(), owner=runner_owner("celery"), early_seconds=job.period / 2)
    if outcome is None:
        return {"skipped": 1}
    if not outcome.ok:
        failures = JobState.objects.filter(name=name).values_list("failures_in_row", flat=True).first() or 1
        raise self.retry(countdown=backoff_seconds(failures_in_row=failures, period=job.period))
    return outcome.result
