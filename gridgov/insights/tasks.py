from __future__ import annotations

from celery import shared_task

from gridgov.core.clock import now


@shared_task(name="insights.report_build")
def report_build(run_id: int) -> str:
    from .services import report_generate

    return str(report_generate(run_id=run_id, now=now()).status)
