from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gridgov.audit.archive import verify_archives
from gridgov.audit.chain import seal, verify


class Command(BaseCommand):
    help = ("Seal pending audit rows, then verify the audit log's hash chain (from the last archive's anchor) "
            "and every archive file against its checksum and chain; exit 1 on any break.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-seal", action="store_true", help="verify only")
        parser.add_argument("--no-archives", action="store_true", help="skip the archive files")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            while seal():
                pass
        breaks = [] if options["no_archives"] else list(verify_archives())
        breaks += list(verify())
        for b in breaks:
            self.stderr.write(f"seq {b.seq} (audit event {b.event_id}): {b.reason}")
        if breaks:
            raise CommandError(f"audit chain broken in {len(breaks)} place(s)")
        self.stdout.write("audit chain intact")
