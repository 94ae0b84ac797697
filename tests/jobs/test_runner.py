"""The job runner (issue 15.1): the schedule defined once runs in process, each due job once, a lease per
job in the database, a failing job recorded and retried after a back-off."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings

from config.jobs import JOB_BY_NAME, JOBS, RUN_TASK, JobDef
from gridgov.interfaces.jobs.runner import next_run_after, run_due
from gridgov.scheduling.models import JobState
from gridgov.scheduling.services import job_claim, job_rows_ensure

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CALLS: list[tuple[str, dt.datetime]] = []
FAIL: dict[str, int] = {}
_lock = threading.Lock()


def counting(*, now: dt.datetime) -> dict[str, int]:
    with _lock:
        CALLS.append(("counting", now))
    return {"sent": 2, "sealed": 3}


def flaky(*, now: dt.datetime) -> dict[str, int]:
    with _lock:
        CALLS.append(("flaky", now))
    if FAIL.get("flaky", 0) > 0:
        FAIL["flaky"] -= 1
        raise RuntimeError("channel down")
    return {"sent": 1}


COUNTING = JobDef("test-counting", "测试", "tests.jobs.test_runner:counting", "default", every=300, timeout=120)
FLAKY = JobDef("test-flaky", "测试", "tests.jobs.test_runner:flaky", "default", every=3600, timeout=120)


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    FAIL.clear()
    yield
    CALLS.clear()


def _row(job: JobDef) -> JobState:
    return JobState.objects.get(name=job.name)


def test_a_due_job_runs_once_and_its_run_is_recorded():
    ran = run_due(now=T0, owner="a", jobs=[COUNTING], finished=lambda: T0 + dt.timedelta(seconds=4))
    assert [(o.job, o.ok, o.result) for o in ran] == [("test-counting", True, {"sent": 2, "sealed": 3})]
    row = _row(COUNTING)
    assert row.last_outcome == "ok" and row.last_result == {"sent": 2, "sealed": 3}
    assert row.last_started_at == T0 and row.last_finished_at == row.last_success_at == T0 + dt.timedelta(seconds=4)
    assert row.last_seconds == 4 and row.runs_total == 1 and row.failures_total == 0
    assert row.next_run_at == T0 + dt.timedelta(seconds=300)
    assert row.lease_until is None and row.lease_owner == ""
    # Asked again before the period is over (any runner): nothing runs.
    assert run_due(now=T0 + dt.timedelta(seconds=299), owner="b", jobs=[COUNTING]) == []
    assert len(CALLS) == 1
    # One period later it runs again, once.
    assert len(run_due(now=T0 + dt.timedelta(seconds=300), owner="b", jobs=[COUNTING])) == 1
    assert run_due(now=T0 + dt.timedelta(seconds=300), owner="a", jobs=[COUNTING]) == []
    assert [c[1] for c in CALLS] == [T0, T0 + dt.timedelta(seconds=300)]
    assert _row(COUNTING).runs_total == 2


def test_a_leased_job_is_skipped_until_the_lease_expires():
    job_rows_ensure([COUNTING.name])
    assert job_claim(name=COUNTING.name, now=T0, owner="dead", lease_seconds=120)
    # A second claim at once, from anyone, fails: the atomic UPDATE found the lease taken.
    assert not job_claim(name=COUNTING.name, now=T0, owner="other", lease_seconds=120)
    assert run_due(now=T0 + dt.timedelta(seconds=119), owner="other", jobs=[COUNTING]) == []
    assert CALLS == []
    ran = run_due(now=T0 + dt.timedelta(seconds=120), owner="other", jobs=[COUNTING])
    assert len(ran) == 1 and len(CALLS) == 1
    assert _row(COUNTING).lease_owner == ""


def test_a_job_that_raises_is_recorded_failed_and_retried_with_a_growing_back_off():
    FAIL["flaky"] = 2
    ran = run_due(now=T0, owner="a", jobs=[FLAKY], finished=lambda: T0)
    assert len(ran) == 1 and not ran[0].ok and "channel down" in ran[0].error
    row = _row(FLAKY)
    assert row.last_outcome == "failed" and "RuntimeError: channel down" in row.last_error
    assert row.failures_in_row == 1 and row.failures_total == 1 and row.last_success_at is None
    assert row.next_run_at == T0 + dt.timedelta(seconds=30) and row.lease_until is None
    assert run_due(now=T0 + dt.timedelta(seconds=29), owner="a", jobs=[FLAKY]) == []
    # Second failure: the next try waits twice as long.
    t1 = T0 + dt.timedelta(seconds=30)
    assert not run_due(now=t1, owner="a", jobs=[FLAKY], finished=lambda: t1)[0].ok
    assert _row(FLAKY).next_run_at == t1 + dt.timedelta(seconds=60) and _row(FLAKY).failures_in_row == 2
    # Then it succeeds: the error is cleared, the ordinary period resumes.
    t2 = t1 + dt.timedelta(seconds=60)
    assert run_due(now=t2, owner="a", jobs=[FLAKY], finished=lambda: t2)[0].ok
    row = _row(FLAKY)
    assert row.last_outcome == "ok" and row.last_error == "" and row.failures_in_row == 0
    assert row.failures_total == 2 and row.runs_total == 3 and row.last_success_at == t2
    assert row.next_run_at == t2 + dt.timedelta(seconds=3600)
    assert len(CALLS) == 3


def test_a_run_that_outlived_its_lease_does_not_free_the_next_runners_lease():
    job_rows_ensure([COUNTING.name])
    assert job_claim(name=COUNTING.name, now=T0, owner="slow", lease_seconds=120)
    later = T0 + dt.timedelta(seconds=200)
    assert job_claim(name=COUNTING.name, now=later, owner="next", lease_seconds=120)
    from gridgov.scheduling.services import job_succeeded

    job_succeeded(name=COUNTING.name, owner="slow", started=T0, finished=later, result={}, next_run_at=later)
    row = _row(COUNTING)
    assert row.lease_owner == "next" and row.lease_until == later + dt.timedelta(seconds=120)


def test_cron_jobs_run_at_their_minute_in_china_time():
    archive = JOB_BY_NAME["audit-archive"]  # 02:30 China time, daily
    # 09:00 UTC is 17:00 in China: the next 02:30 there is 18:30 UTC.
    assert next_run_after(archive, T0) == dt.datetime(2026, 3, 2, 18, 30, tzinfo=dt.UTC)
    assert archive.period == 86400
    assert next_run_after(JOB_BY_NAME["cases-sweep"], T0) == T0 + dt.timedelta(minutes=5)


def test_the_beat_schedule_is_built_from_the_one_registry():
    from config.celery import app

    app.loader.import_default_modules()
    beat = settings.CELERY_BEAT_SCHEDULE
    assert set(beat) == {job.name for job in JOBS}
    for job in JOBS:
        entry = beat[job.name]
        assert entry["task"] == RUN_TASK and entry["args"] == (job.name,)
        assert entry["options"]["queue"] == job.queue and job.queue in settings.GRIDGOV_QUEUES
    assert RUN_TASK in app.tasks
    with pytest.raises(ValueError):
        JobDef("every-second", "太频繁", "x:y", "default", every=1)
    with pytest.raises(ValueError):
        JobDef("no-time", "没有时间", "x:y", "default")


def test_the_celery_task_runs_the_job_once_per_period(settings):
    """What beat sends at scale goes through the same lease and record: a second message within half a
    period (a second beat) does nothing."""
    from gridgov.interfaces.jobs.tasks import run_scheduled_job

    first = run_scheduled_job.apply(args=("audit-seal",)).get()
    assert set(first) == {"sealed", "checkpoints"}
    assert run_scheduled_job.apply(args=("audit-seal",)).get() == {"skipped": 1}
    row = JobState.objects.get(name="audit-seal")
    assert row.runs_total == 1 and row.last_outcome == "ok"


def test_every_registered_job_runs_on_an_empty_database():
    ran = run_due(now=T0, owner="a")
    assert {o.job for o in ran} == {job.name for job in JOBS}
    assert [o.error for o in ran if not o.ok] == []
    assert all(isinstance(v, int) for o in ran for v in o.result.values())


def test_beat_messages_go_to_each_jobs_own_queue():
    from config.celery import app

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        queue = app.amqp.router.route(dict(entry["options"]), entry["task"], entry["args"])["queue"].name
        assert queue == JOB_BY_NAME[name].queue


def test_under_celery_a_failing_job_is_recorded_and_retried(monkeypatch):
    from gridgov.interfaces.jobs.tasks import run_scheduled_job

    FAIL["flaky"] = 1  # fails once, then succeeds
    monkeypatch.setitem(JOB_BY_NAME, "test-flaky", FLAKY)
    result = run_scheduled_job.apply(args=("test-flaky",))
    row = _row(FLAKY)
    # The retry (eager here: at once) finds the job due within half its period and runs it again.
    assert result.get() == {"sent": 1}
    assert row.last_outcome == "ok" and row.failures_total == 1 and row.runs_total == 2 and row.last_error == ""
    assert [c[0] for c in CALLS] == ["flaky", "flaky"]
