from __future__ import annotations

from celery import shared_task

from gridgov.core.clock import now

from .chain import write_checkpoint


@shared_task(name="audit.seal")
def audit_seal() -> int:
    """Every minute: a signed checkpoint of the chain's head to the archive storage and the log (rows are
    sealed when written; each commit that sealed rows writes one too). Returns the head's seq."""
    cp = write_checkpoint(now=now())
    return int(cp["last_seq"]) if cp else 0


@shared_task(name="audit.archive")
def audit_archive() -> int:
    """Daily: rows older than the retention (≥ 184 days) go to an archive file (audit.archive)."""
    from .archive import archive_all

    return archive_all(now=now())
