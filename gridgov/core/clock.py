"""Time is an input: services take `now`; this is the one place that reads the wall clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return timezone.now()


def local(moment: dt.datetime) -> dt.datetime:
    """The moment in China Standard Time, for display and working-day arithmetic."""
    if timezone.is_naive(moment):
        raise ValueError("naive datetime: every datetime in GridGov is timezone-aware")
    return moment.astimezone(LOCAL_TZ)
