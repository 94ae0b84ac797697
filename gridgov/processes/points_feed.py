"""The points feed: facts of other workflows scoring grid workers (cases: self-handled, reported and
resolved, overdue; visits: each visit recorded). Workflow apps never import each other, so the wiring
is a process: each run reads the facts since the feed's cursor from the workflows' selectors
(`cases.selectors.worker_facts`, `visits.selectors.worker_facts`) and hands each to the workforce hook
`points_award_event`, which is idempotent (a fact read twice scores once). Run by Celery beat
(`workforce-points-feed`, task `gridgov.workforce.points_feed`, every 10 minutes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from gridgov.cases.selectors import worker_facts as case_facts
from gridgov.visits.selectors import worker_facts as visit_facts
from gridgov.workforce import selectors as workforce_selectors
from gridgov.workforce import services, staff

# Where a feed starts the first time it runs.
FIRST_RUN_LOOKBACK = dt.timedelta(days=35)
# A page of facts; a full page means there is more (the cursor then stops at the last fact read).
PAGE = 5000

Facts = Callable[..., list[dict[str, Any]]]
Scorer = Callable[[dict[str, Any], dt.datetime], int]


def _score_case(fact: dict[str, Any], now: dt.datetime) -> int:
    awarded = 0
    users = [fact["user_id"]] if fact.get("user_id") else staff.field_workers_at(fact.get("unit_id") or 0)
    for uid in users:
        entry = services.points_award_event(worker_id=uid, kind=fact["kind"], source_type="case",
                                            source_id=str(fact["case_id"]), at=fact["at"], now=now,
                                            detail=f"事件 {fact['number']}")
        awarded += entry is not None
    return awarded


def _score_visit(fact: dict[str, Any], now: dt.datetime) -> int:
    entry = services.points_award_event(worker_id=fact["user_id"], kind="visit", source_type="visit",
                                        source_id=str(fact.get("visit_id") or fact.get("id")), at=fact["at"],
                                        now=now, detail=str(fact.get("detail", ""))[:60])
    return int(entry is not None)


def _feeds() -> list[tuple[str, Facts, Scorer]]:
    # Read at each run (not at import), so a test may stand in for a source.
    return [("cases", case_facts, _score_case), ("visits", visit_facts, _score_visit)]


def points_feed_run(*, now: dt.datetime, first_start: dt.datetime | None = None) -> dict[str, int]:
    """One run of every feed; returns how many entries each wrote or found."""
    report: dict[str, int] = {}
    for name, read, score in _feeds():
        since, until = services.feed_window(name=name, now=now, start=first_start or now - FIRST_RUN_LOOKBACK)
        facts = read(since=since, until=until)
        report[name] = sum(score(f, now) for f in facts)
        # A full page means there is more: advance only to the last fact read (by the feed's own clock:
        # `recorded_at` when the source offers it, else `at`).
        last = (facts[-1].get("recorded_at") or facts[-1]["at"]) if len(facts) >= PAGE else until
        services.feed_advance(name=name, until=last, now=now)
    return report


def seed_world_step(*, seed: int, now: dt.datetime, root: Any, stdout: Any) -> None:
    """World step (seed_world): score the generated case history of the last two months, so the demo
    township's ledger and assessment carry case points. Only where points rules exist. (The visits step
    runs after this one: the generated visit history is not scored.)"""
    if not workforce_selectors.any_rules() or workforce_selectors.feed_has_run(name="cases"):
        return
    report = points_feed_run(now=now, first_start=now - dt.timedelta(days=62))
    stdout.write(f"points feed: {report}\n")
