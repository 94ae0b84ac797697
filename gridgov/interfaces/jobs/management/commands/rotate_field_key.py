"""Re-encrypt everything sealed with the field key (the ledger's ID numbers and phones, the
authenticator secrets) with the current key.

Rotation: put the old key in GRIDGOV_FIELD_KEYS_PREVIOUS, the new one in GRIDGOV_FIELD_KEY,
restart the app servers (they read both), run this command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.access.totp import totp_rotate_secrets
from gridgov.core.clock import now
from gridgov.residents.key_rotation import rotate_field_keys


class Command(BaseCommand):
    help = "Re-encrypt ID numbers, phones and authenticator secrets sealed with an older key; recompute blind indexes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true",
                            help="redo every row (after GRIDGOV_INDEX_KEY changed), not only old-key rows")

    def handle(self, *args: Any, **options: Any) -> None:
        moment = now()
        result = rotate_field_keys(now=moment, everything=options["all"])
        devices = totp_rotate_secrets(now=moment)
        self.stdout.write(f"已重新加密 {result.residents} 名人员、{result.households} 户的敏感字段，"
                          f"{devices} 个动态口令设备的密钥。")
