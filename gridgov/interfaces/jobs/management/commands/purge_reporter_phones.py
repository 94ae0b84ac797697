"""Erase residents' phone numbers from cases that ended long enough ago (daily; safe to run twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.cases.public.services import PHONE_RETENTION_DAYS, reporter_phones_purge
from gridgov.core.clock import now


class Command(BaseCommand):
    help = f"删除事件结束 {PHONE_RETENTION_DAYS} 天后的反映人电话（每天运行一次，可重复运行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"purged={reporter_phones_purge(now=now())}")
