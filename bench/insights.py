"""Dashboard speed at county scale with a year of cases: `python -m bench.insights` (PostgreSQL).

Builds the size-M world (one county, 14 townships, ~2,600 grids) with seed_world, then bulk-writes a
year of synthetic cases with their history rows (the case loop's own world step has not landed yet,
so this writes rows directly: it is benchmark data, not a write path), then times the dashboard and
the map data in-process (Django test client: middleware, views, templates; no HTTP server) for the
county office and one township office. Appends the figures to docs/benchmarks.md.

With BENCH_DATABASE_URL it runs against that existing database instead (a clone of the size-M world,
which has a year of cases): nothing is seeded, the day facts are built (full, then one incremental
run, both timed), then the pages are timed in-process (one client) and over HTTP (granian on
loopback, 8 clients) with the figures cache off, so every request computes its figures.

Environment:
  BENCH_DATABASE_URL   an existing database to measure (no seeding)
  BENCH_PORT           loopback port for the 8-client run (default 8766)
  BENCH_PG             base URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
  BENCH_CASES_PER_DAY  cases per grid per working day (default 0.35)
  BENCH_SKIP_SEED      reuse the database as it is (1)
  BENCH_REPEAT         timed requests per page (default 15)
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "gridgov_insights_bench"


def _setup() -> str:
    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    url = f"{base}/{DB_NAME}"
    existing = os.environ.get("BENCH_DATABASE_URL", "")
    if existing:
        from bench.run import env_for

        os.environ.update(env_for(existing))
        os.environ["GRIDGOV_INSIGHTS_CACHE_SECONDS"] = "0"
        os.environ["BENCH_SKIP_SEED"] = "1"
        url = existing
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0",
                      SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",  # noqa: S106
                      SECURE_COOKIES="0", ALLOWED_HOSTS="127.0.0.1,localhost,testserver")
    os.environ.pop("GRIDGOV_TESTING", None)
    if os.environ.get("BENCH_SKIP_SEED") != "1":
        admin = f"{base}/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {DB_NAME} TEMPLATE template0 ENCODING 'UTF8'"],
                       check=True)
        env = dict(os.environ)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "seed_world", "--size", "M", "--seed", "1"], cwd=ROOT, env=env,
                       check=True)
        print(f"seed_world --size M: {time.perf_counter() - started:.0f} s", flush=True)
    # DEBUG is off, as in a deployment: pages need the collected, hashed static files.
    if not (ROOT / "var" / "static" / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                       env=dict(os.environ), check=True)
    return url


def seed_cases(per_day: float, now: dt.datetime) -> int:
    from django.db import transaction

    from gridgov.access.models import Department
    from gridgov.cases.models import Case, CaseEvent, Category
    from gridgov.core.clock import LOCAL_TZ
    from gridgov.core.workdays import add_working_days, calendar_with
    from gridgov.units.models import Unit

    rng = random.Random(7)
    cal = calendar_with()
    grids = list(Unit.dangerously_unscoped.filter(kind__base="grid", is_active=True).values_list("pk", "path",
                                                                                                 "centroid_lat",
                                                                                   "centroid_lng"))
    county = Unit.dangerously_unscoped.filter(kind__base="county").first()
    assert county is not None
    departments = list(Department.dangerously_unscoped.values_list("pk", flat=True)) or [None]
    cats = list(Category.objects.filter(on_site=False))
    start = (now - dt.timedelta(days=365)).astimezone(LOCAL_TZ).date()
    days = [start + dt.timedelta(days=i) for i in range(365)]
    workdays = [d for d in days if cal.is_working_day(d)]
    total = int(len(grids) * len(workdays) * per_day)
    print(f"writing {total} cases over {len(workdays)} working days for {len(grids)} grids", flush=True)
    channels = ["field"] * 6 + ["hotline"] * 2 + ["walk_in", "wechat", "public"]
    n = 0
    batch_cases: list[Case] = []
    plans: list[list[tuple[str, dt.datetime, str, str, int | None]]] = []

    def flush() -> None:
        with transaction.atomic():
            made = Case.dangerously_unscoped.bulk_create(batch_cases, batch_size=2000)
            events = []
            for case, plan in zip(made, plans, strict=True):
                for seq, (action, at, frm, to, dept) in enumerate(plan, 1):
                    events.append(CaseEvent(case=case, seq=seq, action=action, at=at, from_status=frm, to_status=to,
                                            to_department_id=dept if action in ("dispatch", "redispatch",
                                                                                "acknowledge") else None,
                                            from_department_id=dept if action in ("return", "feedback") else None))
            CaseEvent.dangerously_unscoped.bulk_create(events, batch_size=5000)
        batch_cases.clear()
        plans.clear()

    for i in range(total):
        grid_id, path, lat, lng = rng.choice(grids)
        day = rng.choice(workdays)
        created = dt.datetime.combine(day, dt.time(8 + rng.randrange(9), rng.randrange(60)), tzinfo=LOCAL_TZ)
        cat = rng.choice(cats)
        respond_days, resolve_days = 1, 7
        respond_due = add_working_days(cal, created, respond_days)
        resolve_due = add_working_days(cal, created, resolve_days)
        plan = [("report", created, "", "reported", None)]
        t = created + dt.timedelta(hours=rng.uniform(0.2, 6))
        plan.append(("accept", t, "reported", "handling", None))
        fate = rng.random()
        dept = rng.choice(departments)
        status, rating, resolved_at, closed_at, holder_dept, result = "handling", None, None, None, None, ""
        if created > now - dt.timedelta(days=10) and fate < 0.5:
            status = rng.choice(["handling", "acknowledged", "dispatched"])
            if status != "handling":
                plan.append(("dispatch", t + dt.timedelta(hours=1), "handling", "dispatched", dept))
                holder_dept = dept
                if status == "acknowledged":
                    plan.append(("acknowledge", t + dt.timedelta(hours=5), "dispatched", "acknowledged", dept))
        elif fate < 0.04:
            status = "rejected"
            plan[-1] = ("reject", t, "reported", "rejected", None)
            closed_at = t
        elif fate < 0.07:
            status = "handling"  # open and overdue
        else:
            if rng.random() < 0.5:
                resolved_at = t + dt.timedelta(hours=rng.uniform(1, 120))
                plan.append(("self_handle", resolved_at, "handling", "resolved", None))
            else:
                d_at = t + dt.timedelta(hours=1)
                plan.append(("dispatch", d_at, "handling", "dispatched", dept))
                if rng.random() < 0.08:
                    plan.append(("return", d_at + dt.timedelta(hours=3), "dispatched", "returned", dept))
                    d_at += dt.timedelta(hours=20)
                    plan.append(("redispatch", d_at, "returned", "dispatched", dept))
                ack = d_at + dt.timedelta(hours=rng.uniform(1, 40))
                plan.append(("acknowledge", ack, "dispatched", "acknowledged", dept))
                fb = ack + dt.timedelta(hours=rng.uniform(4, 200))
                plan.append(("feedback", fb, "acknowledged", "feedback", dept))
                resolved_at = fb + dt.timedelta(hours=2)
                plan.append(("review", resolved_at, "feedback", "resolved", None))
            result = "已办理"
            if resolved_at > now:
                resolved_at = now - dt.timedelta(hours=1)
            if rng.random() < 0.7:
                rating = rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
                closed_at = resolved_at + dt.timedelta(hours=rng.uniform(1, 48))
                plan.append(("confirm", closed_at, "resolved", "closed", None))
            else:
                closed_at = resolved_at + dt.timedelta(days=3)
                plan.append(("close", closed_at, "resolved", "closed", None))
            status = "closed"
            if closed_at > now:
                status, closed_at, rating = "resolved", None, None
                plan.pop()
        n += 1
        batch_cases.append(Case(
            number=f"B-{i:07d}", title="基准测试事件", description="bench", category=cat, urgency="ordinary",
            channel=rng.choice(channels), county=county, unit_id=grid_id, lat=lat, lng=lng,
            tracking_token=f"bench{i:012d}", status=status,
            holder_unit_id=None if holder_dept else grid_id, holder_department_id=holder_dept,
            owner_unit_id=grid_id, owner_path=path, unit_path=path, respond_due=respond_due, resolve_due=resolve_due,
            responded_at=t, resolved_at=resolved_at, closed_at=closed_at, rating=rating, result=result,
            created_at=created, updated_at=closed_at or t,
        ))
        plans.append(plan)
        if len(batch_cases) >= 5000:
            flush()
            print(f"  {n} cases", flush=True)
    if batch_cases:
        flush()
    return n


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


PAGES = [
    ("dashboard, this month", "/dashboard/"),
    ("dashboard, last 365 days", "/dashboard/?preset=year"),
    ("wall screen, this month", "/dashboard/screen/"),
    ("wall screen, last 365 days", "/dashboard/screen/?preset=year"),
    ("map data, this month", "/dashboard/map.json"),
    ("map data, last 365 days", "/dashboard/map.json?preset=year"),
]


@dataclass
class Timing:
    p95: float
    p50: float
    cpu: float  # median CPU ms of this process per request
    statements: int


def timed(client, path: str, repeat: int, mode: str) -> Timing:  # type: ignore[no-untyped-def]
    """`repeat` requests after a warm-up: "computed" with the figures cache off (every figure computed on
    each request), "kept" with figures kept 120 s as deployed (the warm-up computes them)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.GRIDGOV_INSIGHTS_CACHE_SECONDS = 0 if mode == "computed" else 120
    try:
        client.get(path)  # warm the process (imports, templates, connection) and, kept, the figures
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        statements = len(ctx.captured_queries)
        if os.environ.get("BENCH_SQL") == "1":  # the slowest statements of one request (database time)
            slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:6]
            total = sum(float(q["time"]) for q in ctx.captured_queries)
            print(f"    {mode} {path}: {statements} statements, {total * 1000:.0f} ms in the database", flush=True)
            for q in slow:
                print(f"      {float(q['time']) * 1000:6.0f} ms  {q['sql'][:230]}", flush=True)
        samples, cpu = [], []
        profile = os.environ.get("BENCH_PROFILE", "")
        profiler = None
        if profile and profile == f"{mode}:{path}":
            import cProfile

            profiler = cProfile.Profile()
        for _ in range(repeat):
            started, c0 = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            r = client.get(path)
            if profiler is not None:
                profiler.disable()
            cpu.append((time.process_time() - c0) * 1000)
            samples.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        if profiler is not None:
            import pstats

            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    finally:
        settings.GRIDGOV_INSIGHTS_CACHE_SECONDS = 0
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(p95, statistics.median(samples), statistics.median(cpu), statements)


def many_clients(url: str, paths: list[tuple[str, str, str]], total: int, concurrency: int,
                 cache_seconds: int) -> list[tuple[str, float, float, float]]:
    """p95 / p50 / req/s of each page with `concurrency` clients over HTTP (granian on loopback). With
    cache_seconds 0 every request computes its figures; otherwise figures are kept as deployed (in Redis
    when it is up, shared by the workers) and each page is warmed first."""
    from bench import run

    run.PORT = int(os.environ.get("BENCH_PORT", "8766"))
    os.environ["GRIDGOV_INSIGHTS_CACHE_SECONDS"] = str(cache_seconds)
    server = run.serve(url)
    out = []
    try:
        cookies: dict[str, str] = {}
        for label, username, path in paths:
            if username not in cookies:
                cookies[username] = f"sessionid={run.session_cookie(url, username)}"
            headers = {"Cookie": cookies[username]}
            run.load(lambda i, p=path, h=headers: ("GET", p, None, h), total=8, concurrency=2)  # warm up
            result = run.load(lambda i, p=path, h=headers: ("GET", p, None, h), total=total,
                              concurrency=concurrency)
            out.append((label + (f" ({result.errors} errors)" if result.errors else ""), result.p(0.95),
                        result.p(0.5), result.rate))
            print(f"  {concurrency} clients, {out[-1][0]}: p95 {out[-1][1]:.0f} ms, p50 {out[-1][2]:.0f} ms, "
                  f"{out[-1][3]:.1f} req/s", flush=True)
    finally:
        server.terminate()
        server.wait(10)
        os.environ["GRIDGOV_INSIGHTS_CACHE_SECONDS"] = "0"
    return out


def main() -> None:
    url = _setup()
    import django

    django.setup()
    from django.conf import settings as dj_settings
    from django.test import Client

    # Kept figures go to the shared Redis under a prefix of their own: other sessions' benchmarks of other
    # databases (same unit ids) must not read them, and nothing here flushes the cache.
    dj_settings.CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_PREFIX", "bench-insights")

    from bench import run
    from gridgov.access.models import Grant
    from gridgov.cases.models import Case, CaseEvent
    from gridgov.core.clock import now
    from gridgov.insights.facts import facts_build
    from gridgov.insights.models import DayFact

    load_before = uptime()
    moment = now()
    if os.environ.get("BENCH_SKIP_SEED") != "1":
        started = time.perf_counter()
        seed_cases(float(os.environ.get("BENCH_CASES_PER_DAY", "0.35")), moment)
        print(f"cases written in {time.perf_counter() - started:.0f} s", flush=True)
        subprocess.run(["psql", os.environ["DATABASE_URL"], "-qc", "ANALYZE"], check=True)
    cases, events = Case.dangerously_unscoped.count(), CaseEvent.dangerously_unscoped.count()
    started = time.perf_counter()
    # BENCH_FACTS_FULL=0 keeps day facts built earlier on this database (a full build of a year at size M
    # takes minutes on a loaded machine); BENCH_FACTS_NOTE then says how long that build took.
    full = facts_build(now=now(), full=os.environ.get("BENCH_FACTS_FULL", "1") == "1")
    full_s = time.perf_counter() - started
    facts_note = os.environ.get("BENCH_FACTS_NOTE", "") or (
        f"day facts built in {full_s:.0f} s ({full.days} days, {full.rows} rows)")
    subprocess.run(["psql", os.environ["DATABASE_URL"], "-qc", "ANALYZE insights_dayfact"], check=True)
    started = time.perf_counter()
    inc = facts_build(now=now() + dt.timedelta(minutes=5))
    inc_s = time.perf_counter() - started
    print(f"facts: full build {full_s:.1f} s ({full.days} days, {full.rows} rows), incremental {inc_s:.2f} s "
          f"({inc.status}, {inc.days} days)", flush=True)
    repeat = int(os.environ.get("BENCH_REPEAT", "15"))
    rows = []
    users: dict[str, str] = {}
    # BENCH_ROLES / BENCH_PAGES / BENCH_MODES narrow the run (comma-separated; pages by path).
    roles = os.environ.get("BENCH_ROLES", "county_office,township_office").split(",")
    pages = [pg for pg in PAGES if not os.environ.get("BENCH_PAGES") or pg[1] in os.environ["BENCH_PAGES"].split(",")]
    for role in roles:
        grant = (Grant.dangerously_unscoped.filter(role__code=role, revoked_at__isnull=True).select_related("user",
                                                                                                            "unit")
                 .order_by("id").first())
        assert grant is not None, role
        users[role] = grant.user.username
        client = Client()
        client.force_login(grant.user)
        for label, path in pages:
            for mode in os.environ.get("BENCH_MODES", "computed,kept").split(","):
                n = repeat if mode == "kept" or "year" not in path else max(3, repeat // 2)
                m = timed(client, path, n, mode)
                rows.append((f"{label}, {mode}, as {role} ({grant.unit.name})", m))
                print(f"  {rows[-1][0]}: p95 {m.p95:.0f} ms, p50 {m.p50:.0f} ms, CPU {m.cpu:.0f} ms/request, "
                      f"{m.statements} statements", flush=True)
    if os.environ.get("BENCH_CONCURRENT", "0") != "1":
        lines = [
            "",
            f"## Insights (#6): one client at size M ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"`python -m bench.insights` on PostgreSQL: {cases} cases, {events} history rows, {facts_note} "
            f"(an incremental run {inc_s:.1f} s). In-process Django test client (middleware, views, templates; "
            "no HTTP server), one client. computed: GRIDGOV_INSIGHTS_CACHE_SECONDS=0, every figure is computed "
            "on each request; kept: 120 s, warmed once, as deployed (Redis). CPU: this process's CPU time per "
            "request (time.process_time; the database server's own time is not in it). "
            f"Machine: {run.machine()}; commit {run.commit()}; load before: {load_before}; after: {uptime()}.",
            "",
            "| page | p95 | p50 | CPU per request (median) | statements |",
            "|---|---|---|---|---|",
            *[f"| {what} | {m.p95:.0f} ms | {m.p50:.0f} ms | {m.cpu:.0f} ms | {m.statements} |" for what, m in rows],
            "",
        ]
        print("\n".join(lines))
        if os.environ.get("BENCH_WRITE", "0") == "1":
            with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
        return
    rows_old = [(what, m.p95, m.p50) for what, m in rows]
    computed_pages = [
        ("county dashboard, this month", users["county_office"], "/dashboard/"),
        ("county dashboard, last 365 days", users["county_office"], "/dashboard/?preset=year"),
        ("county map data, this month", users["county_office"], "/dashboard/map.json"),
        ("township dashboard, this month", users["township_office"], "/dashboard/"),
    ]
    concurrent = many_clients(url, computed_pages, total=int(os.environ.get("BENCH_TOTAL", "80")), concurrency=8,
                              cache_seconds=0)
    kept_pages = [
        *computed_pages,
        ("county wall screen, this month", users["county_office"], "/dashboard/screen/"),
        ("county map boundaries (2,600 grids), kept", users["county_office"], "/dashboard/map-geometry.json"),
        ("township map data, this month", users["township_office"], "/dashboard/map.json"),
    ]
    kept_rows = many_clients(url, kept_pages, total=int(os.environ.get("BENCH_TOTAL_KEPT", "640")), concurrency=32,
                             cache_seconds=120)
    lines = [
        "",
        f"## Insights: dashboard at size M with a year of cases ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.insights` on PostgreSQL: {cases} cases, {events} history rows, {facts_note} "
        f"(an incremental run {inc_s:.1f} s). "
        f"Every figure is computed (the figures cache is off or cleared before each request) from the day "
        f"facts plus the raw rows they do not cover (today, late sign-fors, ping-pong, open now). One client: "
        f"in-process Django test client, {repeat} timed requests after a warm-up. 8 and 32 clients: granian "
        "(2 workers × 4 threads) on loopback; at 32 clients the figures are kept 120 s as deployed (one "
        "request computes, the others are served the kept figures; Redis shared by the workers). "
        f"Machine: {run.machine()}; commit {run.commit()}; load before: {load_before}; after: {uptime()}.",
        "",
        "| page, one client | p95 | p50 |",
        "|---|---|---|",
        *[f"| {what} | {p95:.0f} ms | {p50:.0f} ms |" for what, p95, p50 in rows_old],
        "",
        "| page, 8 clients, computed | p95 | p50 | req/s |",
        "|---|---|---|---|",
        *[f"| {what} | {p95:.0f} ms | {p50:.0f} ms | {rate:.1f} |" for what, p95, p50, rate in concurrent],
        "",
        "| page, 32 clients, figures kept 120 s (as deployed) | p95 | p50 | req/s |",
        "|---|---|---|---|",
        *[f"| {what} | {p95:.0f} ms | {p50:.0f} ms | {rate:.1f} |" for what, p95, p50, rate in kept_rows],
        "",
    ]
    print(f"day facts rows: {DayFact.objects.count()}")
    if os.environ.get("BENCH_WRITE", "1") == "1":
        out = ROOT / "docs" / "benchmarks.md"
        with out.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
