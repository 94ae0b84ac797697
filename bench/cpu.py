"""CPU time of one request, in process, for the fixed cost of the stack (issue #8):

    .venv/bin/python -m bench.cpu --db postgres://postgres@127.0.0.1:5432/gridgov_bench_fixed [--requests 200]

Each endpoint is requested through Django's test client with the deployed middleware, a real session
(Redis `cached_db` when Redis answers, as `make bench` serves it), the CSRF check on, DEBUG off, one
thread, one process: the figure is `time.process_time()` per request (the app's Python CPU, not the
database's), the median of three batches, and the statements of one request. On a shared machine
CPU time is far steadier than wall time, but it still grows with the load (cache misses, frequency):
compare figures taken side by side. Writes cases and bench_insert rows: use a clone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CSRF = "benchcsrftokenbenchcsrftoken0123"


def _setup(db: str) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.run import env_for

    os.environ.update(env_for(db))
    redis = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
    if subprocess.run(["redis-cli", "-u", redis, "ping"], capture_output=True).returncode == 0:
        os.environ.update(REDIS_URL=redis, CELERY_BROKER_URL=redis, CELERY_RESULT_BACKEND=redis,
                          CELERY_TASK_ALWAYS_EAGER="0")
    os.environ["GRIDGOV_BENCH_ENDPOINTS"] = "1"
    import django

    django.setup()


def _session(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return str(s.session_key)


def _facts() -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from gridgov.access.models import Grant
    from gridgov.cases.models import Case, Category
    from gridgov.cases.states import ACTIVE
    from gridgov.interfaces.bench_endpoints import CREATE_SQL
    from gridgov.residents.models import Household

    with connection.cursor() as cur:
        cur.execute(CREATE_SQL)
    active = [s.value for s in ACTIVE]
    workers = Grant.dangerously_unscoped.filter(role__code="grid_worker_full", revoked_at__isnull=True,
                                    unit__kind__base="grid").select_related("user", "unit").order_by("id")
    worker = next((g for g in workers[:200]
                   if Case.dangerously_unscoped.filter(holder_unit_id=g.unit_id,
                                                       status__in=active).exists()), workers[0])
    intake = workers.exclude(unit_id=worker.unit_id).first()
    township = (Grant.dangerously_unscoped.filter(role__code="township_office", revoked_at__isnull=True)
                .select_related("user", "unit").order_by("id").first())
    assert intake is not None and township is not None
    household = (Household.dangerously_unscoped.filter(unit__path__startswith=township.unit.path).order_by("id")
                 .values_list("pk", flat=True).first())
    category = (Category.objects.filter(is_active=True, on_site=False, lowest_level="grid").order_by("sort_order")
                .first())
    assert category is not None
    from bench.ledger import samples

    sample = samples()  # the search values `make bench` uses (bench/run.py measure_searches)
    # The busiest department handler (most open cases held), as bench/cases.py picks for the queues.
    handlers = Grant.dangerously_unscoped.filter(role__code="department_handler", revoked_at__isnull=True)
    top = (Case.dangerously_unscoped.filter(holder_department_id__in=handlers.values("department_id"),
                                            status__in=active)
           .values("holder_department_id").annotate(n=Count("id")).order_by("-n").first())
    handler = (handlers.filter(department_id=top["holder_department_id"]).select_related("user").order_by("id").first()
               if top else None)
    return {"worker": worker.user.username, "worker_unit": worker.unit_id, "intake_user": intake.user.username,
            "intake_grid": intake.unit_id, "township": township.user.username, "township_unit": township.unit_id,
            "household": household, "category": category.code, "sample": sample,
            "handler": handler.user.username if handler else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="", help="comma-separated labels")
    parser.add_argument("--profile", default="", help="label to run under cProfile; prints the top functions")
    parser.add_argument("--profile-out", default="", help="with --profile: also write the profile to this file")
    args = parser.parse_args()
    _setup(args.db)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    facts = _facts()
    run = uuid.uuid4().hex[:8]

    def client(username: str | None) -> Client:
        c = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        if username:
            c.cookies["sessionid"] = _session(username)
        c.cookies["csrftoken"] = CSRF
        return c

    worker, township, intake_client = client(facts["worker"]), client(facts["township"]), client(facts["intake_user"])
    anonymous = client(None)
    counter = iter(range(10**9))

    def intake(c: Client) -> Any:
        i = next(counter)
        body = {"title": f"压测事件 {i}", "description": "路灯不亮，夜间通行不便。", "category": facts["category"],
                "channel": "field", "unit_id": facts["intake_grid"]}
        return c.post("/api/cases/", data=json.dumps(body, ensure_ascii=False), content_type="application/json",
                      HTTP_X_CSRFTOKEN=CSRF, HTTP_IDEMPOTENCY_KEY=f"cpu-{run}-{i}")

    def bare(c: Client) -> Any:
        body = {"title": "压测事件", "description": "路灯不亮，夜间通行不便。"}
        return c.post("/bench/insert", data=json.dumps(body, ensure_ascii=False), content_type="application/json",
                      HTTP_X_CSRFTOKEN=CSRF)

    hh = facts["household"]
    endpoints: dict[str, tuple[Client, Any, int]] = {
        "/ops/ready (anonymous)": (anonymous, lambda c: c.get("/ops/ready"), 200),
        "API work queue /api/cases/?queue=todo (grid worker)": (worker, lambda c: c.get("/api/cases/?queue=todo"), 200),
        f"API household /api/households/{hh} (township office)": (township, lambda c: c.get(f"/api/households/{hh}"),
                                                                  200),
        "page work queue /cases/?queue=todo (grid worker)": (worker, lambda c: c.get("/cases/?queue=todo"), 200),
        "page work queue /cases/?queue=todo (township office)": (township, lambda c: c.get("/cases/?queue=todo"),
                                                                 200),
        "API work queue /api/cases/?queue=todo (township office)": (township,
                                                                    lambda c: c.get("/api/cases/?queue=todo"), 200),
        f"page household /households/{hh}/ (township office)": (township, lambda c: c.get(f"/households/{hh}/"), 200),
        "bare INSERT POST /bench/insert (grid worker)": (intake_client, bare, 201),
        "case intake POST /api/cases/ (grid worker)": (intake_client, intake, 201),
    }
    # The reads of issue #8's p95 target that do the most work per request: a unit's page, the five
    # household searches, the work queues of the three personas bench/cases.py loads.
    endpoints[f"page unit /units/{facts['worker_unit']}/ (grid worker)"] = (
        worker, lambda c: c.get(f"/units/{facts['worker_unit']}/"), 200)
    endpoints[f"page unit /units/{facts['township_unit']}/ (township office)"] = (
        township, lambda c: c.get(f"/units/{facts['township_unit']}/"), 200)
    sample = facts["sample"]
    ledger_client = client(sample["username"])
    for key in ("name", "id_number", "phone", "address", "house_number"):
        body = json.dumps({key: sample[key]}, ensure_ascii=False)
        endpoints[f"API search {key} /api/households/search (township office)"] = (
            ledger_client, lambda c, b=body: c.post("/api/households/search", data=b, content_type="application/json",
                                                    HTTP_X_CSRFTOKEN=CSRF), 200)
    endpoints["page search name /households/ (township office)"] = (
        ledger_client, lambda c: c.post("/households/", {"q": sample["name"], "csrfmiddlewaretoken": CSRF}), 200)
    queue_clients = {"grid worker": worker, "township office": township}
    if facts["handler"]:
        queue_clients["department handler"] = client(facts["handler"])
    for who, c in queue_clients.items():
        for code in ("todo", "due_soon", "overdue", "supervised", "returned", "done"):
            label = f"page work queue /cases/?queue={code} ({who})"
            if label not in endpoints:
                endpoints[label] = (c, lambda c, q=code: c.get(f"/cases/?queue={q}"), 200)
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    results = []
    for label, (c, call, status) in endpoints.items():
        if only and not any(o in label for o in only):
            continue
        for _ in range(10):
            response = call(c)
            assert response.status_code == status, (label, response.status_code, response.content[:300])
        with CaptureQueriesContext(connection) as ctx:
            call(c)
        captured = list(ctx.captured_queries)  # the next request's request_started clears the log
        statements = [q["sql"] for q in captured]
        if args.profile and args.profile in label:
            import cProfile
            import pstats

            prof = cProfile.Profile(time.process_time)  # CPU, not time spent waiting for the database
            prof.enable()
            for _ in range(args.requests):
                call(c)
            prof.disable()
            if args.profile_out:
                prof.dump_stats(args.profile_out)  # for pstats: callers, other sorts, filters
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        batches = []
        walls = []
        for _ in range(3):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                call(c)
            batches.append((time.process_time() - cpu0) * 1000 / args.requests)
            walls.append((time.perf_counter() - wall0) * 1000 / args.requests)
        row = {"endpoint": label, "cpu_ms": round(statistics.median(batches), 2),
               "cpu_ms_batches": [round(b, 2) for b in batches], "wall_ms": round(statistics.median(walls), 2),
               "statements": len(statements)}
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        if os.environ.get("BENCH_CPU_SQL"):
            for q in captured:
                print(f"    {float(q['time']) * 1000:7.2f} ms  {q['sql'][:150]}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\n| endpoint | CPU ms/request | statements |\n|---|---|---|")
    for r in results:
        print(f"| {r['endpoint']} | {r['cpu_ms']} | {r['statements']} |")


if __name__ == "__main__":
    main()
