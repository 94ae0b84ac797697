"""Deliver due outbox rows (in-app inbox, SMS, group robots); failures are retried with backoff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.core.clock import now
from gridgov.notify.services import deliver_pending


class Command(BaseCommand):
    help = "发送待发通知（站内消息、短信、群机器人），失败的稍后重试。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        sent = deliver_pending(now=now(), limit=options["limit"])
        self.stdout.write(f"delivered={sent}")
