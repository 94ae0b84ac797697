"""Real concurrency on PostgreSQL: parallel intake with one key, and two people acting at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.services import case_act
from gridgov.core.errors import Conflict
from tests.world import T0

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel transactions are exercised on PostgreSQL")


def run_parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_parallel_submissions_of_one_key_make_one_case(kit):
    _needs_postgres()
    w = kit.world
    body = json.dumps({"title": "积水", "description": "路口积水严重。", "category": "sanitation",
                       "channel": "field", "unit_id": w.grid_a1.pk})

    def submit(_: int) -> int:
        c = Client()
        c.force_login(w.wang_fang)
        r = c.post("/api/cases/", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same-key")
        return r.status_code

    codes = run_parallel(20, submit)
    assert sorted(codes) == [200] * 19 + [201], codes
    assert Case.unscoped.count() == 1
    assert Case.unscoped.get().number.endswith("S00001")


def test_two_people_acting_at_once_one_wins_the_other_gets_a_conflict(kit):
    _needs_postgres()
    w = kit.world
    case = kit.report()

    def act(i: int) -> str:
        actor = w.zhao_lei if i == 0 else w.li_qiang
        action = "accept" if i == 0 else "reject"
        params = {} if i == 0 else {"reason": "重复"}
        return case_act(actor=actor, now=T0, case_id=case.pk, action=action, **params).status

    outcomes = run_parallel(2, act)
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "不能" in losers[0].message
    assert CaseEvent.unscoped.filter(case=case).count() == 2
