"""Run the case deadline sweep once (cron or Celery beat every few minutes; safe to overlap)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.cases.sweep import case_sweep
from gridgov.core.clock import now


class Command(BaseCommand):
    help = "事件时限巡检：预警、标记超期、自动催办、按类别自动上报（可重复运行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        report = case_sweep(now=now())
        self.stdout.write(
            f"warned={report.warned} respond_urged={report.respond_urged} "
            f"overdue={report.overdue} escalated={report.escalated} closed={report.closed}"
        )
