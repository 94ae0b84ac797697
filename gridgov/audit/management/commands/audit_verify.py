from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gridgov.audit.archive import verify_archives
from gridgov.audit.chain import latest_checkpoint, seal, verify


class Command(BaseCommand):
    help = ("Verify the audit log's keyed chain (from the last archive's anchor), that it still holds what the "
            "latest checkpoint in the archive storage (or --checkpoint FILE) vouches for, every archive file "
            "against its checksum and chain, and that no row is unsealed; exit 1 on any break.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--checkpoint", help="a checkpoint file (latest.json, or a checkpoint log: its last line)")
        parser.add_argument("--no-checkpoint", action="store_true", help="do not compare with any checkpoint")
        parser.add_argument("--no-archives", action="store_true", help="skip the archive files")
        parser.add_argument("--seal-pending", action="store_true",
                            help="first seal rows written before the keyed chain (after an upgrade); never needed "
                                 "otherwise, and it would vouch for whatever those rows now say")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal_pending"]:
            while seal():
                pass
        checkpoint = None
        if options["checkpoint"]:
            lines = [line for line in Path(options["checkpoint"]).read_text().splitlines() if line.strip()]
            checkpoint = json.loads(lines[-1])
        elif not options["no_checkpoint"]:
            checkpoint = latest_checkpoint()
        breaks = [] if options["no_archives"] else list(verify_archives())
        breaks += list(verify(checkpoint=checkpoint, use_latest=False))
        for b in breaks:
            self.stderr.write(f"seq {b.seq} (audit event {b.event_id}): {b.reason}")
        if breaks:
            raise CommandError(f"audit chain broken in {len(breaks)} place(s)")
        reach = f", reaching the checkpoint at seq {checkpoint['last_seq']} ({checkpoint['at']})" if checkpoint \
            else " (no checkpoint to compare with)"
        self.stdout.write(f"audit chain intact{reach}")
