from __future__ import annotations

from celery import shared_task

from .chain import seal


@shared_task(name="audit.seal")
def audit_seal(batch: int = 5000) -> int:
    return seal(batch=batch)
