"""The deadline sweep over a year of cases: `python -m bench.sweep` (run by bench/run.py with the
bench database in DATABASE_URL). Prints one JSON line.

The world generator writes the last 120 days of cases; when the database holds less than a year,
the cases of the earlier days are added first with the same generator (`gridgov.cases.world`),
so the sweep sees a year of history. Then the sweep runs as the beat runs it (batches of
`limit` cases per kind of effect) until a run finds nothing left, and once more: that last run is
the idempotent one, the price every scheduled run pays when there is nothing to do.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import django


def main() -> None:
    django.setup()
    from gridgov.cases.models import Case
    from gridgov.cases.sweep import case_sweep
    from gridgov.cases.world import seed_earlier_cases
    from gridgov.core.clock import now as clock_now
    from gridgov.units.models import Unit

    now = clock_now()
    year_ago = now - dt.timedelta(days=365)
    added = 0
    first = Case.dangerously_unscoped.order_by("created_at").values_list("created_at", flat=True).first()
    topped_up_s = 0.0
    if first is not None and first > year_ago + dt.timedelta(days=7):
        started = time.perf_counter()
        for root in Unit.dangerously_unscoped.filter(parent__isnull=True, is_active=True).order_by("id"):
            added += seed_earlier_cases(seed=1, now=now, root=root, since=year_ago, until=first,
                                        stdout=io.StringIO())
        topped_up_s = time.perf_counter() - started
    cases = Case.dangerously_unscoped.count()
    runs = []
    while True:
        started = time.perf_counter()
        report = case_sweep(now=now)
        seconds = time.perf_counter() - started
        acted = report.warned + report.respond_urged + report.overdue + report.escalated + report.closed
        runs.append({"seconds": round(seconds, 2), "acted": acted, **report.__dict__})
        if acted == 0 or len(runs) >= 50:
            break
    print(json.dumps({"cases": cases, "added": added, "topped_up_s": round(topped_up_s, 1), "runs": runs}))


if __name__ == "__main__":
    main()
