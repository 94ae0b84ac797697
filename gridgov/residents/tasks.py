"""Background jobs of the ledger (Celery; eager in tests and the embedded demo)."""

from __future__ import annotations

from celery import shared_task

from gridgov.core.clock import now


@shared_task(name="residents.import_run", acks_late=True)
def import_run(job_id: int) -> str:
    from . import excel

    return str(excel.import_run(job_id=job_id, now=now()).status)


@shared_task(name="residents.export_build", acks_late=True)
def export_build(export_id: int) -> str:
    from . import exports

    return str(exports.export_build(export_id=export_id, now=now()).status)
