from __future__ import annotations

from celery import shared_task

from gridgov.core.clock import now

from .chain import seal


@shared_task(name="audit.seal")
def audit_seal(batch: int = 5000) -> int:
    return seal(batch=batch)


@shared_task(name="audit.archive")
def audit_archive() -> int:
    """Daily: rows older than the retention (≥ 184 days) go to an archive file (audit.archive)."""
    from .archive import archive_all

    return archive_all(now=now())
