from __future__ import annotations

from celery import shared_task

from gridgov.core.clock import now


@shared_task(name="insights.report_build")
def report_build(run_id: int) -> str:
    from .services import report_generate

    return str(report_generate(run_id=run_id, now=now()).status)


@shared_task(name="insights.facts_build")
def facts_build() -> str:
    """Bring the dashboard's day facts up to date (idempotent; see insights/facts.py)."""
    from .facts import facts_build as build

    report = build(now=now())
    return f"{report.status} {report.days} days {report.rows} rows"
