"""The job runner: runs the schedule (config/jobs.py) in this process, with no extra server.

`job_run` is the one way a scheduled job runs, whoever runs it: the embedded runner below (`manage.py
run_jobs`, the thread of `manage.py serve` that `make demo` starts) and, at scale, the Celery task
`gridgov.jobs.run` that beat sends. It takes the job's lease (gridgov.scheduling), calls the job's function
with `now`, and records the counts or the error. A failure is logged with its traceback, recorded on the
job's row (the jobs page shows it) and retried after a back-off (30 s, 1 min, 2 min… at most the period).

The times come from celery.schedules: an interval job's next run is its start plus the interval, a cron
job's the next matching minute in China time (`crontab.remaining_delta`, as Celery beat computes it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections

from config.jobs import JOB_BY_NAME, JOBS, JobDef
from gridgov.core import clock
from gridgov.scheduling import services
from gridgov.scheduling.models import JobState
from gridgov.scheduling.selectors import job_states

log = logging.getLogger("gridgov.jobs")


def runner_owner(kind: str) -> str:
    """A lease owner's name: what runs it, on which machine and process, and a random part (two runners in
    one process are two owners)."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def job_function(job: JobDef) -> Callable[..., dict[str, int]]:
    module, _, name = job.func.partition(":")
    fn: Callable[..., dict[str, int]] = getattr(importlib.import_module(module), name)
    return fn


def next_run_after(job: JobDef, started: dt.datetime) -> dt.datetime:
    if job.every is not None:
        return started + dt.timedelta(seconds=job.every)
    last, delta, _ = job.celery_schedule().remaining_delta(clock.local(started), tz=clock.LOCAL_TZ)
    nxt: dt.datetime = last + delta
    return nxt.astimezone(dt.UTC)


def _counts(result: Any) -> dict[str, int]:
    if isinstance(result, dict):
        return {str(k): int(v) for k, v in result.items() if isinstance(v, int | float)}
    if isinstance(result, int):
        return {"done": result}
    return {}


@dataclass(frozen=True)
class Outcome:
    job: str
    ok: bool
    result: dict[str, int]
    error: str = ""


def job_run(job: JobDef, *, now: dt.datetime, owner: str, due_only: bool = True, early_seconds: float = 0.0,
            finished: Callable[[], dt.datetime] | None = None) -> Outcome | None:
    """Run one job if this caller gets its lease; None when another runner holds it or it is not due.
    A failure is recorded and returned, never raised (the caller decides whether to retry at once)."""
    services.job_rows_ensure([job.name])
    if not services.job_claim(name=job.name, now=now, owner=owner, lease_seconds=job.timeout, due_only=due_only,
                              early_seconds=early_seconds):
        return None
    failures_before = JobState.objects.filter(name=job.name).values_list("failures_in_row", flat=True).first() or 0
    end = finished or clock.now
    started_clock = time.monotonic()
    try:
        result = _counts(job_function(job)(now=now))
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        log.exception("job %s failed (%d in a row)", job.name, failures_before + 1)
        done = max(end(), now)
        wait = services.backoff_seconds(failures_in_row=failures_before + 1, period=job.period)
        services.job_failed(name=job.name, owner=owner, started=now, finished=done, error=error,
                            retry_at=now + dt.timedelta(seconds=wait))
        return Outcome(job.name, False, {}, error)
    done = max(end(), now)
    services.job_succeeded(name=job.name, owner=owner, started=now, finished=done, result=result,
                           next_run_at=next_run_after(job, now))
    log.info("job %s done in %.1f s: %s", job.name, time.monotonic() - started_clock, result)
    return Outcome(job.name, True, result)


def run_due(*, now: dt.datetime | Callable[[], dt.datetime], owner: str, jobs: Iterable[JobDef] = JOBS,
            finished: Callable[[], dt.datetime] | None = None,
            stopping: Callable[[], bool] = lambda: False) -> list[Outcome]:
    """One pass of the runner: every job that is due and not leased runs once, one after another
    (`stopping` is asked between two jobs). `now` is a moment, or a clock asked again before each job
    (the runner's: a job's start is when it started, not when the pass did)."""
    jobs = list(jobs)
    services.job_rows_ensure(job.name for job in jobs)
    states = job_states(job.name for job in jobs)
    ran = []
    for job in jobs:
        if stopping():
            break
        moment = now() if callable(now) else now
        state = states.get(job.name)
        if state is not None and state.next_run_at is not None and state.next_run_at > moment:
            continue  # not due: no write
        if state is not None and state.lease_until is not None and state.lease_until > moment:
            continue  # another runner has it
        outcome = job_run(job, now=moment, owner=owner, finished=finished)
        if outcome is not None:
            ran.append(outcome)
    return ran


class JobRunner:
    """The embedded runner's loop: every `tick` seconds, run what is due (run_due with the wall clock).
    `stop` ends it between two jobs (a job in progress finishes first)."""

    def __init__(self, *, tick: float = 5.0, jobs: Iterable[JobDef] = JOBS, stop: threading.Event | None = None,
                 owner: str | None = None) -> None:
        self.tick = tick
        self.jobs = list(jobs)
        self.stop = stop or threading.Event()
        self.owner = owner or runner_owner("runner")

    def run_once(self) -> list[Outcome]:
        try:
            return run_due(now=clock.now, owner=self.owner, jobs=self.jobs, stopping=self.stop.is_set)
        finally:
            close_old_connections()

    def run_forever(self) -> None:
        log.info("job runner %s started: %d jobs, every %.0f s", self.owner, len(self.jobs), self.tick)
        while not self.stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database away for a moment: log, wait, try again
                log.exception("job runner pass failed")
            self.stop.wait(self.tick)
        log.info("job runner %s stopped", self.owner)


def job_by_name(name: str) -> JobDef:
    return JOB_BY_NAME[name]
