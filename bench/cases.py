"""The case loop's figures for `make bench` (called from bench/run.py), or on their own against an
existing database:

    .venv/bin/python -m bench.cases --db postgres://postgres@127.0.0.1:5432/gridgov_cases_m

1. Intake throughput and p95 through the real API (`POST /api/cases/`, a grid worker's session,
   a fresh Idempotency-Key per request, a real category and the worker's own grid) at 32 and 128
   concurrent clients, beside `POST /bench/insert` (the same stack doing one INSERT; mounted only
   with GRIDGOV_BENCH_ENDPOINTS=1).
2. p95 of the work-queue pages (待办, 即将超期, 已超期, 督办, 退回待审定, 已办) for a grid worker,
   a township office user and a department handler with the most cases waiting.

Intake writes real cases into the database it runs on: use a bench database or a clone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from typing import Any

QUEUES = {"todo": "待办", "due_soon": "即将超期", "overdue": "已超期", "supervised": "督办",
          "returned": "退回待审定", "done": "已办"}

_PREPARE = r"""
import django, json
django.setup()
from django.db import connection
from django.db.models import Count, Q
from gridgov.access.models import Grant
from gridgov.cases.models import Case, Category
from gridgov.cases.states import ACTIVE
from gridgov.interfaces.bench_endpoints import CREATE_SQL
with connection.cursor() as cur:
    cur.execute(CREATE_SQL)
    cur.execute("ANALYZE cases_case")  # a freshly seeded or cloned database has no statistics yet
    cur.execute("ANALYZE cases_caseevent")
active = [s.value for s in ACTIVE]
def busiest(role, field):
    grants = Grant.dangerously_unscoped.filter(role__code=role, revoked_at__isnull=True)
    ids = list(grants.values_list(field, flat=True))
    holder = 'holder_department_id' if field == 'department_id' else 'holder_unit_id'
    top = (Case.dangerously_unscoped.filter(**{f"{holder}__in": ids}, status__in=active)
           .exclude(title__startswith="压测事件")  # cases an earlier intake run made
           .values(holder)
           .annotate(n=Count('id')).order_by('-n').first())
    if top is None:
        return None, None, 0
    key = top[holder]
    g = grants.filter(**{field: key}).select_related('user').order_by('id').first()
    return g.user.username, key, top['n']
worker, grid_id, worker_open = busiest('grid_worker_full', 'unit_id')
township, township_id, township_open = busiest('township_office', 'unit_id')
handler, department_id, handler_open = busiest('department_handler', 'department_id')
# Intake goes to another grid worker's grid, so it does not swell the queues measured after it.
intake = (Grant.dangerously_unscoped.filter(role__code='grid_worker_full', revoked_at__isnull=True,
                                            unit__kind__base='grid')
          .exclude(unit_id=grid_id).select_related('user').order_by('id').first())
category = Category.objects.filter(is_active=True, on_site=False, lowest_level='grid').order_by('sort_order').first()
print(json.dumps({
    "worker": worker, "worker_open": worker_open,
    "intake_user": intake.user.username, "intake_grid": intake.unit_id,
    "township": township, "township_open": township_open,
    "handler": handler, "handler_open": handler_open,
    "category": category.code, "cases": Case.dangerously_unscoped.count(),
}))
"""


def prepare(pg_url: str) -> dict[str, Any]:
    from bench.run import PY, ROOT, env_for

    out = subprocess.run([PY, "-c", _PREPARE], cwd=ROOT, env=env_for(pg_url), check=True, capture_output=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def collectstatic() -> None:
    """Pages are served with DEBUG=0: the hashed static files' manifest must exist."""
    from bench.run import PY, ROOT, env_for

    if not (ROOT / "var" / "static" / "staticfiles.json").exists():
        env = env_for("sqlite:///unused")
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def measure(report: Any, pg_url: str, total: int) -> None:
    """Called by bench/run.py with a server already serving `pg_url` (with GRIDGOV_BENCH_ENDPOINTS=1)."""
    from bench.run import CSRF, load, session_cookie

    collectstatic()
    facts = prepare(pg_url)
    note = f"{facts['cases']:,} cases in the database"
    cookie = f"sessionid={session_cookie(pg_url, facts['intake_user'])}; csrftoken={CSRF}"
    headers = {"Cookie": cookie, "X-CSRFToken": CSRF, "Content-Type": "application/json"}
    run_id = uuid.uuid4().hex[:8]

    def intake(i: int, batch: str = "") -> tuple[str, str, bytes, dict[str, str]]:
        # The request's number appears as is (no arithmetic on it), so that bench/run.py can hand the
        # request to wrk as a template (bench/wrk.lua numbers each request itself).
        body = {"title": f"压测事件 {i}", "description": "路灯不亮，夜间通行不便。", "category": facts["category"],
                "channel": "field", "unit_id": facts["intake_grid"]}
        return ("POST", "/api/cases/", json.dumps(body, ensure_ascii=False).encode(),
                {**headers, "Idempotency-Key": f"bench-{run_id}-{batch}-{i}"})

    def bare(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = {"title": f"压测事件 {i}", "description": "路灯不亮，夜间通行不便。"}
        return "POST", "/bench/insert", json.dumps(body, ensure_ascii=False).encode(), headers

    load(bare, total=20, concurrency=2, ok=(201,))
    load(lambda i: intake(i, "warm"), total=20, concurrency=2, ok=(201,))
    for clients in (32, 128):
        base = load(bare, total=total, concurrency=clients, ok=(201,))
        real = load(lambda i, c=clients: intake(i, f"c{c}"), total=total, concurrency=clients, ok=(201,))
        share = real.rate / base.rate * 100 if base.rate else float("nan")
        report.add(f"bare endpoint, one INSERT (same stack), {clients} clients",
                   f"{base.rate:.0f} req/s, p95 {base.p(0.95):.0f} ms", "",
                   f"{base.errors} errors; {base.cpu_note()}")
        report.add(f"case intake POST /api/cases/ (new key each), {clients} clients",
                   f"{real.rate:.0f} cases/s, p95 {real.p(0.95):.0f} ms", "≥ 60 % of bare",
                   f"{share:.0f} % of bare; {real.errors} errors; {note}; {real.cpu_note()}")
    people = {"grid worker": (facts["worker"], facts["worker_open"]),
              "township office": (facts["township"], facts["township_open"]),
              "department handler": (facts["handler"], facts["handler_open"])}
    queue_total = max(40, total // 4)
    for label, (username, waiting) in people.items():
        if not username:
            continue
        h = {"Cookie": f"sessionid={session_cookie(pg_url, username)}"}
        for code, name in QUEUES.items():
            path = f"/cases/?queue={code}"
            load(lambda i, p=path, h=h: ("GET", p, None, h), total=10, concurrency=2)
            result = load(lambda i, p=path, h=h: ("GET", p, None, h), total=queue_total, concurrency=8)
            report.add(f"work queue {name} ({code}) as {label}, 8 clients",
                       f"p95 {result.p(0.95):.0f} ms, p50 {result.p(0.5):.0f} ms, {result.rate:.0f} req/s",
                       "p95 ≤ 300 ms", f"{waiting:,} open cases held; {result.errors} errors; {result.cpu_note()}")


def main() -> None:
    from bench import run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="PostgreSQL URL of an existing, migrated database")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--port", type=int, default=run.PORT, help="loopback port for granian (default %(default)s)")
    args = parser.parse_args()
    run.PORT = args.port  # load() and serve() read it at call time
    report = run.Report()
    collectstatic()
    server = run.serve(args.db)
    try:
        measure(report, args.db, args.requests)
    finally:
        server.terminate()
        server.wait(10)
    print("\n| measure | figure | target | note |\n|---|---|---|---|")
    for r in report.rows:
        print(f"| {r.what} | {r.figure} | {r.target} | {r.note} |")


if __name__ == "__main__":
    sys.exit(main())
