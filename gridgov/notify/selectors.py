"""Reads of the outbox for operations (counts only, no payloads)."""

from __future__ import annotations

import datetime as dt

from .models import Outbox


def outbox_backlog(*, now: dt.datetime) -> dict[str, int]:
    """Messages waiting for delivery: due now, and due later (after a failed attempt). Counts only:
    payloads hold phone numbers and never leave the outbox. Both read outbox_pending_idx."""
    pending = Outbox.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)
    return {
        "due": pending.filter(available_at__lte=now).count(),
        "waiting": pending.filter(available_at__gt=now).count(),
    }
