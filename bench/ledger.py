"""Ledger benchmarks run inside the bench database's Django: `python -m bench.ledger <what>`.

  samples               JSON with search values from the seeded ledger (a name, an ID number, a phone…)
  import N              build an .xlsx of N households (two people each) and import it; JSON timings
  explain [role…]       for a township and a county office (or the roles named): every SQL statement of
                        the five searches and of household detail, with EXPLAIN (ANALYZE, BUFFERS)
  latency [N]           single-client timings in this process (Django test client, no HTTP server):
                        N requests (default 30) per search, detail page and API; p50/p95 (query
                        counts are asserted in tests/residents/test_query_counts.py)

The searches use the same sample values as `make bench` (`samples`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from openpyxl import Workbook  # noqa: E402

from gridgov.access.models import Grant  # noqa: E402
from gridgov.core.clock import now  # noqa: E402
from gridgov.residents import idnumber, protected  # noqa: E402
from gridgov.residents.excel import COLUMNS, import_job_get, import_submit  # noqa: E402
from gridgov.residents.models import Household, Resident  # noqa: E402
from gridgov.units.models import Unit  # noqa: E402


def township_office() -> Grant:
    grant = (Grant.dangerously_unscoped.filter(role__code="township_office", revoked_at__isnull=True)
             .select_related("user", "unit").order_by("id").first())
    if grant is None:
        raise SystemExit("no township office in the bench world")
    return grant


def samples() -> dict[str, object]:
    grant = township_office()
    prefix = grant.unit.path
    resident = (Resident.dangerously_unscoped.filter(household__unit__path__startswith=prefix).exclude(phone_cipher="")
                .select_related("household").order_by("id").first())
    assert resident is not None
    two_char = (Resident.dangerously_unscoped.filter(household__unit__path__startswith=prefix, name__regex=r"^..$")
                .order_by("id").values_list("name", flat=True).first())
    return {
        "username": grant.user.username,
        "name": two_char or resident.name,
        "id_number": protected.reveal_id(resident.id_cipher),
        "phone": protected.reveal_phone(resident.phone_cipher),
        "address": (resident.household.address or "村")[:2],
        "house_number": resident.household.house_number,
        "household_id": resident.household_id,
        "households_in_scope": Household.dangerously_unscoped.filter(unit__path__startswith=prefix).count(),
    }


# Region codes for the generated file: the first whose sample ID numbers are not in the ledger yet
# is used, so a second run on the same database imports new people instead of reporting duplicates.
IMPORT_REGIONS = ("659001", "659002", "659003", "659004", "659005", "659006", "659007", "659008")


def free_region() -> str:
    for region in IMPORT_REGIONS:
        probe = [protected.id_index(idnumber.make(region, dt.date(1950, 1, 1), 100 + k)) for k in (0, 1, 2)]
        if not Resident.dangerously_unscoped.filter(id_index__in=probe).exists():
            return region
    raise SystemExit("every bench import region is already in the ledger: use a fresh database")


def build_xlsx(n: int, grids: list[str], region: str = "140225") -> bytes:
    headers = [h for h, _, _, _ in COLUMNS]
    index = {f: i for i, (_, f, _, _) in enumerate(COLUMNS)}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户情台账")
    ws.append(headers)
    base = dt.date(1950, 1, 1)
    for i in range(n):
        for person, relation in ((0, "户主"), (1, "配偶")):
            row = [""] * len(headers)
            k = 2 * i + person
            born = base + dt.timedelta(days=k // 900)  # 900 distinct sequence numbers per birth date
            row[index["household_key"]] = str(i + 1)
            row[index["relation"]] = relation
            row[index["name"]] = ("刘" if person == 0 else "陈") + chr(0x4E00 + (i * 7 + person) % 2000)
            row[index["id_number"]] = idnumber.make(region, born, 100 + k % 900)
            if person == 0:
                row[index["grid"]] = grids[i % len(grids)]
                row[index["address"]] = "导入测试组"
                row[index["house_number"]] = str(i + 1)
                row[index["phone"]] = f"137{i:08d}"
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run_import(n: int) -> dict[str, object]:
    grant = township_office()
    grids = list(Unit.dangerously_unscoped.filter(path__startswith=grant.unit.path, kind__base__in=["grid",
                                                                                                    "micro_grid"])
                 .exclude(serial="").values_list("name", flat=True)[:50])
    started = time.perf_counter()
    content = build_xlsx(n, grids, free_region())
    built = time.perf_counter() - started
    started = time.perf_counter()
    job = import_submit(actor=grant.user, now=now(), unit_id=grant.unit.pk, filename="bench.xlsx", content=content,
                        mode="all")
    from gridgov.access.scope import scope_for

    job = import_job_get(scope=scope_for(grant.user), job_id=job.pk)
    seconds = time.perf_counter() - started
    return {"households": n, "rows": 2 * n, "bytes": len(content), "build_s": round(built, 1),
            "import_s": round(seconds, 1), "status": job.status, "created": job.households_created,
            "message": job.message, "errors": job.error_rows}


def _user_for(role: str) -> object:
    grant = (Grant.dangerously_unscoped.filter(role__code=role, revoked_at__isnull=True).select_related("user", "unit")
             .order_by("id").first())
    if grant is None:
        raise SystemExit(f"no {role} in the bench world")
    return grant.user


def _searches(sample: dict[str, object]) -> dict[str, dict[str, object]]:
    return {"name": {"name": sample["name"]}, "id_number": {"id_number": sample["id_number"]},
            "phone": {"phone": sample["phone"]}, "address": {"address": sample["address"]},
            "house_number": {"house_number": sample["house_number"]}}


def explain(roles: list[str]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gridgov.access.scope import scope_for
    from gridgov.residents import selectors

    sample = samples()
    today = now().date()
    for role in roles or ["township_office", "county_office"]:
        user = _user_for(role)
        scope = scope_for(user)
        calls = {f"search {k}": (lambda v=v, scope=scope: selectors.household_search(
            scope=scope, query=selectors.HouseholdQuery.from_params(v), today=today))
            for k, v in _searches(sample).items()}
        calls["detail"] = lambda scope=scope: selectors.household_detail(
            scope=scope, household_id=int(sample["household_id"]), today=today)
        for label, call in calls.items():
            call()  # warm the cache as a served request would find it
            with CaptureQueriesContext(connection) as ctx:
                call()
            print(f"=== {role}: {label}: {len(ctx.captured_queries)} queries", flush=True)
            for q in ctx.captured_queries:
                sql = q["sql"]
                print(f"--- {sql[:3000]}")
                if sql.lstrip().upper().startswith("SELECT"):
                    with connection.cursor() as cur:
                        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                        print("\n".join(r[0] for r in cur.fetchall()), flush=True)


def latency(n: int) -> dict[str, object]:
    from django.core import signals
    from django.db import close_old_connections
    from django.test import Client

    # Keep one connection for the run, as the test runner does: a served request takes one from the pool.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    sample = samples()
    out: dict[str, object] = {}
    for role in ("township_office", "county_office"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(_user_for(role))  # type: ignore[arg-type]
        requests: dict[str, tuple[str, str, dict[str, object] | None]] = {
            f"API search {k}": ("post", "/api/households/search", v) for k, v in _searches(sample).items()}
        requests["API detail"] = ("get", f"/api/households/{sample['household_id']}", None)
        requests["page detail"] = ("get", f"/households/{sample['household_id']}/", None)
        requests["page search name"] = ("post", "/households/", {"q": sample["name"]})
        for label, (method, path, body) in requests.items():
            def call(method: str = method, path: str = path, body: dict[str, object] | None = body,
                     client: Client = client) -> int:
                if method == "get":
                    return client.get(path).status_code
                if path.startswith("/api/"):
                    return client.post(path, json.dumps(body), content_type="application/json").status_code
                return client.post(path, body).status_code
            status = call()
            times = []
            for _ in range(n):
                started = time.perf_counter()
                call()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out[f"{role}: {label}"] = {"status": status, "p50_ms": round(times[len(times) // 2], 1),
                                       "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
            print(f"{role}: {label}: {out[f'{role}: {label}']}", flush=True)
    return out


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "samples":
        print(json.dumps(samples(), ensure_ascii=False))
    elif what == "import":
        print(json.dumps(run_import(int(sys.argv[2])), ensure_ascii=False))
    elif what == "explain":
        explain(sys.argv[2:])
    elif what == "latency":
        print(json.dumps(latency(int(sys.argv[2]) if len(sys.argv) > 2 else 30), ensure_ascii=False))
    else:
        raise SystemExit(__doc__)
