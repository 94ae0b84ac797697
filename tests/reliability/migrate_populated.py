"""A migration of a populated size-S database (issue 7): migrate an empty database, seed a size-S
world (a township: 220 units, 15,000 households, ~37,000 residents, ~8,000 cases), then take every
GridGov app back to the migration before its latest and migrate forwards again. Every table that
existed before the forward migration must keep all its rows; Django's checks must pass after.

    DATABASE_URL=... python -m tests.reliability.migrate_populated   (prints a JSON summary)

Run in a fresh database only (the test makes one). Going back stops at an app's first migration
(that would drop the app) and at migrations whose reverse deletes data on purpose (KEEP).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

# Reversing these deletes rows by design (unloading built-in catalogues that data points to).
KEEP = {("residents", "0002_builtin_tags")}


def counts(connection: Any) -> dict[str, int]:
    out = {}
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names(cur)):
            if table == "django_migrations":
                continue
            cur.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out[table] = int(cur.fetchone()[0])
    return out


def main() -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    t0 = time.time()
    call_command("migrate", verbosity=0)
    call_command("seed_world", size="S", seed=3, verbosity=0)
    seeded = time.time() - t0

    ours = {a.label for a in apps.get_app_configs() if a.name.startswith("gridgov.")}
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    leaves = sorted(graph.leaf_nodes())

    def undoes(targets: list[tuple[str, str]]) -> list[str]:
        return [f"{m.app_label}.{m.name}" for m, backwards in executor.migration_plan(targets) if backwards]

    # Take back each app's latest migration unless that would also undo a KEEP migration elsewhere.
    back: dict[str, tuple[str, str]] = {}
    for app, name in leaves:
        previous = [p.key for p in graph.node_map[(app, name)].parents if p.key[0] == app]
        if app not in ours or (app, name) in KEEP or not previous:
            continue
        trial = [previous[0] if a == app else (a, n) for a, n in leaves]
        if not any(tuple(u.split(".", 1)) in KEEP for u in undoes(trial)):
            back[app] = previous[0]
    targets = [back.get(a, (a, n)) for a, n in leaves]
    undone = undoes(targets)
    if any(tuple(u.split(".", 1)) in KEEP for u in undone):
        print(json.dumps({"error": f"going back would undo a KEEP migration: {undone}"}))
        return 1
    executor.migrate(targets)
    before = counts(connection)

    t1 = time.time()
    call_command("migrate", verbosity=0)
    forward = time.time() - t1
    after = counts(connection)
    lost = {t: (n, after.get(t)) for t, n in before.items() if after.get(t, -1) < n}
    call_command("check", verbosity=0)
    pending = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    summary = {
        "vendor": connection.vendor, "seconds_seed": round(seeded, 1), "seconds_forward": round(forward, 1),
        "rolled_back_and_reapplied": undone, "rows_before": sum(before.values()), "rows_after": sum(after.values()),
        "households": before.get("residents_household"), "residents": before.get("residents_resident"),
        "cases": before.get("cases_case"), "units": before.get("units_unit"),
        "tables_that_lost_rows": lost, "pending_after": [f"{m.app_label}.{m.name}" for m, _ in pending],
    }
    print(json.dumps(summary, ensure_ascii=False))
    ok = bool(undone) and not lost and not summary["pending_after"] and (summary["households"] or 0) > 1000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
