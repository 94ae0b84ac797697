"""Measurements on the generated size-L world (issue #8, docs/scale.md): the deadline sweep's first run on
the generated backlog and an idempotent run, the insights day-facts full build, and the county dashboard
of one county computed from the facts (in-process test client, figures computed afresh each request).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_scale_l nice -n 19 .venv/bin/python -m bench.scale_l

SCALE_SWEEP_BUDGET (seconds, default 900): the first sweep runs again and again until nothing is left or
the budget is spent (then the rate is what is reported). SCALE_STEPS: comma list of sweep,facts,dashboard.
It writes to the database it is given (the sweep acts on cases): never point it at a database you need.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import time


def _env() -> None:
    from bench.run import env_for

    os.environ.update(env_for(os.environ["DATABASE_URL"]))
    os.environ["GRIDGOV_INSIGHTS_CACHE_SECONDS"] = "0"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"  # the in-process test client


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def sweep(budget: float) -> None:
    from gridgov.cases.sweep import case_sweep
    from gridgov.core.clock import now

    totals = {"warned": 0, "respond_urged": 0, "overdue": 0, "escalated": 0, "closed": 0}
    started, cpu, runs = time.perf_counter(), _cpu(), 0
    print(f"sweep: first run on the backlog, load {_load()}", flush=True)
    while True:
        t0 = time.perf_counter()
        report = case_sweep(now=now())
        runs += 1
        for k in totals:
            totals[k] += getattr(report, k)
        acted = report.warned + report.respond_urged + report.overdue + report.closed
        print(f"  run {runs}: {report} in {time.perf_counter() - t0:.1f} s; totals {totals}; "
              f"elapsed {time.perf_counter() - started:.0f} s, load {_load()}", flush=True)
        if acted == 0 or time.perf_counter() - started > budget:
            break
    wall = time.perf_counter() - started
    effects = totals["warned"] + totals["respond_urged"] + totals["overdue"] + totals["closed"]
    print(f"sweep first run(s): {runs} runs, {effects} cases acted on ({totals}) in {wall:.0f} s "
          f"({effects / wall:.1f} cases/s), process CPU {_cpu() - cpu:.0f} s, load {_load()}", flush=True)
    for i in range(3):
        t0 = time.perf_counter()
        report = case_sweep(now=now())
        print(f"sweep idempotent run {i + 1}: {report} in {(time.perf_counter() - t0) * 1000:.0f} ms", flush=True)


def facts() -> None:
    from gridgov.core.clock import now
    from gridgov.insights.facts import facts_build
    from gridgov.insights.models import DayFact

    print(f"facts: full build, load {_load()}", flush=True)
    t0, cpu = time.perf_counter(), _cpu()
    report = facts_build(now=now(), full=True)
    print(f"facts full build: {report} in {time.perf_counter() - t0:.1f} s (process CPU {_cpu() - cpu:.1f} s), "
          f"{DayFact.objects.count()} rows, load {_load()}", flush=True)
    subprocess.run(["psql", os.environ["DATABASE_URL"], "-qc", "ANALYZE insights_dayfact"], check=True)
    t0 = time.perf_counter()
    report = facts_build(now=now() + dt.timedelta(minutes=5))
    print(f"facts incremental build: {report} in {time.perf_counter() - t0:.2f} s", flush=True)


def dashboard(repeat: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    from gridgov.access.models import Grant

    grant = (Grant.dangerously_unscoped.filter(role__code="county_office", revoked_at__isnull=True)
             .select_related("user", "unit").order_by("unit__path", "id").first())
    assert grant is not None
    client = Client()
    client.force_login(grant.user)
    print(f"dashboard as {grant.user.username} (county office of {grant.unit.name}), load {_load()}", flush=True)
    for label, path in [("dashboard, this month", "/dashboard/"),
                        ("dashboard, last 365 days", "/dashboard/?preset=year"),
                        ("map data, this month", "/dashboard/map.json"),
                        ("wall screen, this month", "/dashboard/screen/")]:
        cache.clear()
        t0 = time.perf_counter()
        r = client.get(path)
        first = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, (path, r.status_code)
        samples = []
        for _ in range(repeat):
            cache.clear()  # computed afresh each time
            t0 = time.perf_counter()
            r = client.get(path)
            samples.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        samples.sort()
        slowest = _slowest_queries(client, path)
        print(f"  {label}: first {first:.0f} ms; then min {samples[0]:.0f} / median "
              f"{statistics.median(samples):.0f} / max {samples[-1]:.0f} ms ({repeat} requests), load {_load()}",
              flush=True)
        for ms, sql in slowest:
            print(f"      {ms:7.0f} ms  {sql}", flush=True)


def _slowest_queries(client: object, path: str, top: int = 5) -> list[tuple[float, str]]:
    """One more request (figures computed afresh), timing each SQL query: the slowest `top` and the total."""
    from django.core.cache import cache
    from django.db import connection

    timings: list[tuple[float, str]] = []

    def timer(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - t0) * 1000, " ".join(sql.split())[:160]))

    cache.clear()
    t0 = time.perf_counter()
    with connection.execute_wrapper(timer):
        client.get(path)  # type: ignore[attr-defined]
    total = (time.perf_counter() - t0) * 1000
    in_sql = sum(ms for ms, _ in timings)
    timings.sort(reverse=True)
    return [(total, f"(request; {len(timings)} queries, {in_sql:.0f} ms in SQL)"), *timings[:top]]


def main() -> None:
    _env()
    import django

    django.setup()
    steps = os.environ.get("SCALE_STEPS", "sweep,facts,dashboard").split(",")
    if "sweep" in steps:
        sweep(float(os.environ.get("SCALE_SWEEP_BUDGET", "900")))
    if "facts" in steps:
        facts()
    if "dashboard" in steps:
        from django.test.utils import override_settings

        # Static URLs without the collected manifest (var/static is shared and may be older than the code):
        # a dict lookup less per asset, nothing the measured figures depend on.
        plain = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                 "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(STORAGES=plain):
            dashboard(int(os.environ.get("SCALE_REPEAT", "5")))


if __name__ == "__main__":
    main()
