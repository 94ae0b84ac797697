"""Points from other workflows: the wiring between the fact sources (cases, and visits when that
app offers facts) and the workforce points hook. Workflow apps never import each other, so the
wiring lives here, above both; each run reads the facts since the feed's cursor and hands each to
`points_award_event`, which is idempotent (a fact read twice scores once)."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

from gridgov.cases.selectors import worker_facts as case_facts
from gridgov.workforce import services, staff

# Where a feed starts the first time it runs.
FIRST_RUN_LOOKBACK = dt.timedelta(days=35)


def _visit_facts() -> Callable[..., list[dict[str, Any]]] | None:
    """gridgov.visits is built separately: when its selectors offer `worker_facts(since, until)`
    returning dicts with kind "visit", user_id, visit_id (or id), at, it is scored too."""
    try:
        module = importlib.import_module("gridgov.visits.selectors")
    except ImportError:
        return None
    found: Callable[..., list[dict[str, Any]]] | None = getattr(module, "worker_facts", None)
    return found


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


def points_feed_run(*, now: dt.datetime, first_start: dt.datetime | None = None) -> dict[str, int]:
    """One run of every feed; returns how many entries each wrote or found."""
    report: dict[str, int] = {}
    feeds: list[tuple[str, Callable[..., list[dict[str, Any]]], Callable[[dict[str, Any], dt.datetime], int]]] = [
        ("cases", case_facts, _score_case)]
    visits = _visit_facts()
    if visits is not None:
        feeds.append(("visits", visits, _score_visit))
    for name, read, score in feeds:
        since, until = services.feed_window(name=name, now=now, start=first_start or now - FIRST_RUN_LOOKBACK)
        facts = read(since=since, until=until)
        report[name] = sum(score(f, now) for f in facts)
        # A full page means there is more: advance only to the last fact read.
        last = facts[-1]["at"] if len(facts) >= 5000 else until
        services.feed_advance(name=name, until=last, now=now)
    return report


def seed_world_step(*, seed: int, now: dt.datetime, root: Any, stdout: Any) -> None:
    """World step (seed_world): score the generated case history of the last two months, so the demo
    township's ledger and assessment carry case points. Only where points rules exist."""
    from gridgov.workforce.models import FeedCursor
    from gridgov.workforce.selectors import any_rules

    if not any_rules() or FeedCursor.objects.filter(name="cases").exists():
        return
    report = points_feed_run(now=now, first_start=now - dt.timedelta(days=62))
    stdout.write(f"points feed: {report}\n")
