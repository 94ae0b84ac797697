"""Work-queue pages, the queue API and the case page run a fixed number of queries, whatever the
number of cases listed (no query per row), counted on a warm request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

QUEUES = ("todo", "due_soon", "overdue", "supervised", "returned", "done")
# session, user, the page of ids, those rows (done: + the user's history), categories, unread inbox
# count; the grants are read once per access stamp, not per request (access/scope.py)
MAX_QUEUE_PAGE = 7
MAX_QUEUE_API = 5
# 6 → 7 (issue #15, #16): the page now reads, for the department holding a case, whether the office disclosed the
# reporter to it, and the possible duplicates its holder is shown; each one statement, whatever the history's length.
MAX_DETAIL_PAGE = 7


def _count(client, url: str) -> int:
    """Queries of one request, leaving out the session's own writes: the idle-timeout clock saves the
    session every few minutes (with its savepoint), which depends on the wall clock, not on the page."""
    assert client.get(url).status_code == 200  # warm-up: the security policy is cached for a minute
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    return sum(1 for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
               and not (q.startswith(("UPDATE", "INSERT")) and '"django_session"' in q))


@pytest.mark.parametrize("who", ["wang_fang", "zhao_lei", "zhang_wei", "chen_jing", "liu_yang"])
def test_queue_pages_and_api_run_a_fixed_number_of_queries(kit, login, who):
    w = kit.world
    client = login(getattr(w, who))
    counts: dict[int, dict[str, int]] = {}
    for batch in (1, 4, 8):
        for i in range(batch):
            kit.to_state(("dispatched", "reported", "handling", "returned")[i % 4], anonymous=i % 2 == 0,
                         reporter_name="张三", reporter_phone="13800000000", channel="hotline")
        made = kit.to_state("acknowledged")
        kit.act(made, "supervise", w.zhang_wei)
        counts[batch] = {q: _count(client, reverse("staff:case_queue") + f"?queue={q}") for q in QUEUES}
        counts[batch] |= {f"api:{q}": _count(client, f"/api/cases/?queue={q}") for q in QUEUES}
    # Nothing grows with the rows listed (a queue that was empty at first skips the row fetch).
    assert counts[4] == counts[8], counts
    assert all(counts[1][k] <= counts[8][k] <= counts[1][k] + 1 for k in counts[1]), counts
    for key, n in counts[8].items():
        assert n <= (MAX_QUEUE_API if key.startswith("api:") else MAX_QUEUE_PAGE), (key, n)


def test_case_page_runs_a_fixed_number_of_queries(kit, login):
    w = kit.world
    case = kit.to_state("acknowledged", reporter_name="张三", reporter_phone="13800000000", channel="hotline")
    office, dept = login(w.zhang_wei), login(w.liu_yang)
    url = reverse("staff:case_detail", args=[case.pk])
    before = (_count(office, url), _count(dept, url))
    for _ in range(4):
        kit.act(case, "urge", w.zhang_wei, note="请抓紧")
    after = (_count(office, url), _count(dept, url))
    assert before == after and max(after) <= MAX_DETAIL_PAGE, (before, after)


# Intake through the API (docs/benchmarks.md, "Intake"): session, user, (grants: cached under the
# user's access stamp since #8, one less), the idempotency key's
# look-up (and its advisory lock on PostgreSQL), category, the grid with its county (one query),
# calendar overrides, the form number (a sequence on PostgreSQL; the counter row's SELECT and UPDATE
# elsewhere), the case, its history row, its audit row, the holders, the notification: 15 at most
# on either database, where it was 18 (20 with the savepoints) before; 14 with the scope cache.
MAX_INTAKE = 14


def test_intake_runs_a_fixed_small_number_of_queries(kit, login):
    import json

    client = login(kit.world.wang_fang)
    body = {"title": "井盖缺失", "description": "小学门口井盖丢了，很危险。", "category": "sanitation",
            "channel": "field", "unit_id": kit.world.grid_a1.pk}
    counts = []
    for key in ("warm", "k1", "k2"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/api/cases/", data=json.dumps(body | {"title": key}),
                                   content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content
        sql = [q["sql"] for q in ctx.captured_queries]
        counts.append(sum(1 for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
                          and not (q.startswith(("UPDATE", "INSERT")) and '"django_session"' in q)))
        if connection.vendor == "postgresql" and key != "warm":  # (the first also creates the number sequence)
            # The intake's own transaction (a savepoint inside the test's): the advisory lock makes the one
            # around the INSERT needless, and the notification is one INSERT … ON CONFLICT DO NOTHING.
            assert sum(q.startswith("SAVEPOINT") for q in sql) == 1, sql
    assert counts[1] == counts[2] <= MAX_INTAKE, counts
