"""Page and API reads of the shared stack under load (bench/run.py calls `measure`).

The unit tree page, a unit's page and the API's unit roots (and for the offices the dashboard, the wall screen
and the map data, figures kept as deployed), as a county office, a township office
and a grid worker, at each client count in BENCH_CLIENTS (default 32 and 128). Every request is a
full trip through granian, the middleware (session, auth, timeouts, 2FA), scope and template.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

ROLES = ("county_office", "township_office", "grid_worker_full")


def pick(database_url: str) -> dict[str, dict[str, Any]]:
    """For each role: a username holding it and the unit of that grant."""
    from bench import run as harness

    code = (
        "import django,json; django.setup();"
        "from gridgov.access.models import Grant;"
        "g=lambda r: Grant.dangerously_unscoped.filter(role__code=r, revoked_at__isnull=True)"
        ".order_by('id').values('user__username','unit_id').first();"
        f"print(json.dumps({{r: g(r) for r in {list(ROLES)!r}}}))"
    )
    out = subprocess.run([harness.PY, "-c", code], cwd=harness.ROOT, env=harness.env_for(database_url), check=True,
                         capture_output=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(report: Any, database_url: str, total: int, clients: tuple[int, ...] = (32, 128)) -> None:
    from bench import run as harness

    for role, found in pick(database_url).items():
        if not found:
            continue
        cookie = f"sessionid={harness.session_cookie(database_url, found['user__username'])}"
        headers = {"Cookie": cookie}
        pages = [("unit tree page", "/units/"), ("unit page", f"/units/{found['unit_id']}/"),
                 ("API unit roots", "/api/units/")]
        if role != "grid_worker_full":
            # The offices' dashboards as deployed: figures kept per unit (GRIDGOV_INSIGHTS_CACHE_SECONDS),
            # so the warm-up computes them once and the load reads kept pages, as a busy office would.
            pages += [("dashboard (this month)", "/dashboard/"), ("wall screen (this month)", "/dashboard/screen/"),
                      ("map data (this month)", "/dashboard/map.json")]
        for label, path in pages:
            harness.load(lambda i, p=path, h=headers: ("GET", p, None, h), total=20, concurrency=2)  # warm up
            for n in clients:
                result = harness.load(lambda i, p=path, h=headers: ("GET", p, None, h), total=max(total, 2 * n),
                                      concurrency=n)
                report.add(f"{label} as {role}, {n} clients",
                           f"p95 {result.p(0.95):.0f} ms, p50 {result.p(0.5):.0f} ms, {result.rate:.0f} req/s",
                           "p95 ≤ 100 ms" if n == 32 else "", f"{result.errors} errors; {result.cpu_note()}")
