"""Two runners at once, and a runner killed mid-job (issue 15: "Killing the runner mid-job and starting it
again leaves no job done twice"). On PostgreSQL: parallel transactions and a real SIGKILL of
`manage.py run_jobs` while the deadline sweep waits on a row lock."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from config.jobs import JOB_BY_NAME, JOBS, JobDef
from gridgov.cases.models import CaseEvent
from gridgov.core import clock
from gridgov.interfaces.jobs.runner import run_due
from gridgov.scheduling.models import JobState
from tests.cases.test_concurrency import run_parallel

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="parallel transactions and a killed process are exercised on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

CALLS: list[str] = []
_lock = threading.Lock()


def slow(*, now: dt.datetime) -> dict[str, int]:
    with _lock:
        CALLS.append("slow")
    time.sleep(0.3)  # both runners are inside run_due at once
    return {"sent": 1}


SLOW = JobDef("test-slow", "测试", "tests.jobs.test_runner_concurrency:slow", "default", every=300, timeout=120)


def test_four_runners_at_once_run_a_job_once(migration_rows):
    CALLS.clear()
    outcomes = run_parallel(4, lambda i: run_due(now=T0, owner=f"runner-{i}", jobs=[SLOW]))
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sum(len(o) for o in outcomes) == 1
    assert CALLS == ["slow"]
    assert JobState.objects.get(name="test-slow").runs_total == 1


def test_two_runners_at_once_run_every_registered_job_once(migration_rows):
    outcomes = run_parallel(2, lambda i: run_due(now=T0, owner=f"runner-{i}"))
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    ran = [o.job for batch in outcomes for o in batch]
    assert sorted(ran) == sorted(job.name for job in JOBS)
    assert all(o.ok for batch in outcomes for o in batch), outcomes
    assert set(JobState.objects.filter(name__in=ran).values_list("runs_total", flat=True)) == {1}


def _escalations(ids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(ids, 0)
    for cid in CaseEvent.dangerously_unscoped.filter(case_id__in=ids, action="escalate",
                                                     actor__isnull=True).values_list(
            "case_id", flat=True):
        counts[cid] += 1
    return counts


def test_runner_killed_mid_job_then_started_again_does_no_job_twice(kit):
    cases = [kit.to_state("handling", category="public_order") for _ in range(6)]  # escalate when overdue
    ids = sorted(c.pk for c in cases)
    held = max(cases, key=lambda c: (c.resolve_due, c.pk)).pk  # the sweep takes the longest overdue first
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(GRIDGOV_TESTING="1", DATABASE_URL=(f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                                                  f"{db['PORT'] or 5432}/{db['NAME']}"))
    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT id FROM cases_case WHERE id = %s FOR UPDATE", [held])
        proc = subprocess.Popen([sys.executable, "manage.py", "run_jobs", "--once", "--job", "cases-sweep"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            for _ in range(600):  # until the runner's sweep waits on the held row
                with connection.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
                    if cur.fetchone()[0] > 0:
                        break
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
            else:
                pytest.fail("the runner never reached the held case")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        blocker.rollback()
        blocker.close()
    midway = _escalations(ids)
    assert midway[held] == 0 and sum(midway.values()) >= 1, midway  # killed midway
    row = JobState.objects.get(name="cases-sweep")
    assert row.last_outcome == "running" and row.lease_owner.startswith("runner:") and row.runs_total == 0
    # Started again at once: the dead runner's lease still holds the job; nothing runs.
    sweep = JOB_BY_NAME["cases-sweep"]
    now = clock.now()
    assert row.lease_until is not None and row.lease_until > now
    assert run_due(now=now, owner="again", jobs=[sweep]) == []
    assert _escalations(ids) == midway
    # Once the lease has expired the job runs again; its own idempotence finishes the rest, once each.
    ran = run_due(now=row.lease_until, owner="again", jobs=[sweep])
    assert len(ran) == 1 and ran[0].ok and ran[0].result["escalated"] == 6 - sum(midway.values())
    assert set(_escalations(ids).values()) == {1}
    for cid in ids:
        assert CaseEvent.dangerously_unscoped.filter(case_id=cid, action="urge", actor__isnull=True).count() == 1
    row.refresh_from_db()
    assert row.last_outcome == "ok" and row.lease_owner == "" and row.runs_total == 1
    # A next period changes nothing more.
    again = run_due(now=row.next_run_at, owner="again", jobs=[sweep])
    assert again[0].result["escalated"] == 0 and set(_escalations(ids).values()) == {1}
