from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.audit.archive import archive_all
from gridgov.core.clock import now


class Command(BaseCommand):
    help = ("Archive audit rows older than the retention (what the daily audit.archive job does). In the "
            "two-role PostgreSQL set-up run it as the owner role: the app role may not delete audit rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{archive_all(now=now())} audit rows archived")
