"""Reads of the outbox for operations (counts only, no payloads), and of a staff user's own inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import InboxMessage, Outbox


def outbox_backlog(*, now: dt.datetime) -> dict[str, int]:
    """Messages waiting for delivery: due now, and due later (after a failed attempt). Counts only:
    payloads hold phone numbers and never leave the outbox. Both read outbox_pending_idx."""
    pending = Outbox.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)
    return {
        "due": pending.filter(available_at__lte=now).count(),
        "waiting": pending.filter(available_at__gt=now).count(),
    }


def inbox_unread(*, user: Any, cap: int = 99) -> int:
    """How many of the user's own in-app messages are unread, at most cap + 1 (inbox_user_unread_idx)."""
    return InboxMessage.objects.filter(user_id=user.pk, read_at__isnull=True).order_by().values("pk")[: cap + 1].count()
