"""Account lifecycle jobs: accounts unused for 90 days are disabled (等保 level 3)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from gridgov.audit.services import audit_record

from .models import User
from .tokens import tokens_revoke_all

IDLE_DAYS = 90


def accounts_disable_idle(*, now: dt.datetime, days: int = IDLE_DAYS) -> int:
    """Disable every active account with no sign-in for `days` (or never signed in since it was made
    that long ago). Idempotent: a second run finds nothing; each account is audited once."""
    cutoff = now - dt.timedelta(days=days)
    idle = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    disabled = 0
    for pk in list(idle.values_list("pk", flat=True)):
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=pk, is_active=True).first()
            if user is None:
                continue
            last = user.last_login or user.date_joined
            if last >= cutoff:
                continue
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(action="account.disable_idle", actor=None, now=now, obj=user,
                         detail={"username": user.username, "last_seen": last.isoformat(), "days": days})
            tokens_revoke_all(user=user, now=now, reason="account_disabled")
            disabled += 1
    return disabled
