from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from gridgov.audit.chain import export_rows


class Command(BaseCommand):
    help = ("Write every audit row of the table as JSON lines (the archive files' format): the input of the "
            "offline verifier, gridgov/audit/offline.py, which needs only this, the archives and the key.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        n = export_rows(Path(options["file"]))
        self.stdout.write(f"{n} audit rows written to {options['file']}")
