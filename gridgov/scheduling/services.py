"""The job lease and the run record. Each function is one statement (or one transaction): the lease is
taken by one atomic UPDATE … WHERE lease free or expired, which PostgreSQL and SQLite both decide for
exactly one of two runners (PostgreSQL re-checks the WHERE clause on the row the winner committed;
SQLite writes one transaction at a time).

No audit rows: a job's run is the machine's own work, recorded here; the changes a job makes are
audited by the services it calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When

from .models import JobState

# A recorded error is cut to this many characters.
ERROR_CHARS = 2000


def job_rows_ensure(names: Iterable[str]) -> None:
    """Create the missing rows (a new job, a fresh database). Safe to run at once from two runners."""
    names = list(names)
    have = set(JobState.objects.filter(name__in=names).values_list("name", flat=True))
    missing = [JobState(name=n) for n in names if n not in have]
    if missing:
        try:
            with transaction.atomic():
                JobState.objects.bulk_create(missing, ignore_conflicts=True)
        except IntegrityError:  # pragma: no cover - ignore_conflicts covers both engines
            pass


def job_claim(*, name: str, now: dt.datetime, owner: str, lease_seconds: float, due_only: bool = True,
              early_seconds: float = 0.0) -> bool:
    """Take the job's lease until now + lease_seconds; True when this caller got it.

    `due_only`: only when the job is due (its next run at most `early_seconds` from now, or never run).
    The embedded runner asks with early_seconds=0; a Celery worker with half the period, so that the
    messages of two beats (or a beat's late message) within one period run the job once."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    due = Q()
    if due_only:
        due = Q(next_run_at__isnull=True) | Q(next_run_at__lte=now + dt.timedelta(seconds=early_seconds))
    taken = JobState.objects.filter(free, due, name=name).update(
        lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_seconds),
        last_started_at=now, last_outcome=JobState.Outcome.RUNNING,
    )
    return taken == 1


def _release(owner: str) -> dict[str, Any]:
    """Clear the lease only if it is still ours: a run that outlived its lease must not free the lease of
    the runner that took the job over."""
    mine = Q(lease_owner=owner)
    return {"lease_until": Case(When(mine, then=Value(None)), default=F("lease_until")),
            "lease_owner": Case(When(mine, then=Value("")), default=F("lease_owner"))}


def job_succeeded(*, name: str, owner: str, started: dt.datetime, finished: dt.datetime,
                  result: dict[str, int], next_run_at: dt.datetime) -> None:
    JobState.objects.filter(name=name).update(
        **_release(owner), last_finished_at=finished, last_success_at=finished, last_outcome=JobState.Outcome.OK,
        last_result=result, last_error="", last_seconds=(finished - started).total_seconds(),
        failures_in_row=0, runs_total=F("runs_total") + 1, next_run_at=next_run_at,
    )


def job_failed(*, name: str, owner: str, started: dt.datetime, finished: dt.datetime, error: str,
               retry_at: dt.datetime) -> None:
    JobState.objects.filter(name=name).update(
        **_release(owner), last_finished_at=finished, last_outcome=JobState.Outcome.FAILED,
        last_error=error[:ERROR_CHARS], last_seconds=(finished - started).total_seconds(),
        failures_in_row=F("failures_in_row") + 1, runs_total=F("runs_total") + 1,
        failures_total=F("failures_total") + 1, next_run_at=retry_at,
    )


def backoff_seconds(*, failures_in_row: int, period: float) -> float:
    """Wait before retrying a job that failed for the n-th time in a row: 30 s, 1 min, 2 min… never longer
    than the job's own period."""
    return float(min(period, 30.0 * 2 ** max(failures_in_row - 1, 0)))
