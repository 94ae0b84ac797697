"""Issue 7, reliability: 20 people acting on one case at once, and the deadline sweep run twice at
once or killed midway (a real SIGKILL of `manage.py case_sweep` while it waits on a row lock)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.sweep import case_sweep
from gridgov.cases.transitions import case_act
from gridgov.core.errors import Conflict, DomainError
from tests.world import T0

from .test_concurrency import run_parallel

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="row locks and parallel transactions are exercised on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_twenty_threads_acting_on_one_case_exactly_one_wins(kit):
    w = kit.world
    case = kit.report()
    version = Case.dangerously_unscoped.get(pk=case.pk).version

    def act(i: int) -> str:
        # Half accept as the grid head, half reject as the village secretary: all from the same version.
        if i % 2 == 0:
            return case_act(actor=w.zhao_lei, now=T0, case_id=case.pk, action="accept",
                            expected_version=version).status
        return case_act(actor=w.li_qiang, now=T0, case_id=case.pk, action="reject", reason="重复",
                        expected_version=version).status

    outcomes = run_parallel(20, act)
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 19 and all(isinstance(e, Conflict) for e in losers), outcomes
    case = Case.dangerously_unscoped.get(pk=case.pk)
    assert case.version == version + 1 and case.status == winners[0]
    assert CaseEvent.dangerously_unscoped.filter(case=case).count() == 2  # the report and the one winning action


def _overdue_escalating_cases(kit, n: int) -> list[Case]:
    cases = [kit.to_state("handling", category="public_order") for _ in range(n)]  # escalate_when_overdue
    return cases


def _escalations(case_ids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(case_ids, 0)
    for cid in CaseEvent.dangerously_unscoped.filter(case_id__in=case_ids, action="escalate",
                                                     actor__isnull=True).values_list(
            "case_id", flat=True):
        counts[cid] += 1
    return counts


def test_two_sweeps_at_once_escalate_every_case_once(kit):
    cases = _overdue_escalating_cases(kit, 8)
    late = max(c.resolve_due for c in cases) + dt.timedelta(hours=1)
    reports = run_parallel(2, lambda _: case_sweep(now=late))
    assert not [r for r in reports if isinstance(r, BaseException)], reports
    assert sum(r.escalated for r in reports) == 8
    assert sum(r.overdue for r in reports) == 8
    ids = [c.pk for c in cases]
    assert set(_escalations(ids).values()) == {1}
    assert CaseEvent.dangerously_unscoped.filter(case_id__in=ids, action="urge").count() == 8
    assert case_sweep(now=late).escalated == 0


def test_sweep_killed_midway_then_run_again_never_double_escalates(kit):
    cases = _overdue_escalating_cases(kit, 6)
    ids = sorted(c.pk for c in cases)
    held = max(cases, key=lambda c: (c.resolve_due, c.pk)).pk  # the sweep takes the longest overdue first
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(GRIDGOV_TESTING="1", DATABASE_URL=(f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                                                  f"{db['PORT'] or 5432}/{db['NAME']}"))
    # Another session holds the last case's row: the sweep does the others, then waits on it.
    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT id FROM cases_case WHERE id = %s FOR UPDATE", [held])
        proc = subprocess.Popen([sys.executable, "manage.py", "case_sweep"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for _ in range(600):  # wait (up to a minute) until it is blocked on the held row
                with connection.cursor() as cur:  # not the blocker: its transaction sees one snapshot
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
                    if cur.fetchone()[0] > 0:
                        break
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
            else:
                pytest.fail("the sweep never reached the held case")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        blocker.rollback()
        blocker.close()
    midway = _escalations(ids)
    assert midway[held] == 0
    assert sum(midway.values()) >= 1, "killed before it escalated anything: not midway"
    assert set(midway.values()) <= {0, 1}
    # Run it again (and once more): every case ends escalated exactly once, urged exactly once.
    now = max(c.resolve_due for c in cases) + dt.timedelta(days=30)
    case_sweep(now=now)
    case_sweep(now=now)
    assert set(_escalations(ids).values()) == {1}
    for cid in ids:
        assert CaseEvent.dangerously_unscoped.filter(case_id=cid, action="urge", actor__isnull=True).count() == 1
