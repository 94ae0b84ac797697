"""The audit log's hash chain: sealing and verifying.

Each sealed row stores `row_hash = sha256(prev_hash || canonical(row))`, and `seq` gives the
chain order. Changing, inserting or removing a sealed row breaks the chain from that row on,
which `manage.py audit_verify` reports. Sealing is a job (every minute in deployments); it takes
a lock so that two sealers never interleave.

Rows past the retention are archived (audit.archive): they leave the table for a file, and the chain
left in the table continues from the last archive's anchor (its last row's hash and seq).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from .models import AuditArchive, AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x6772_6964_6175  # "gridau": the advisory lock id of the sealer
_FIELDS = (
    "id", "at", "action", "actor_id", "actor_username", "role", "unit_path", "object_type", "object_id",
    "outcome", "ip", "request_id", "detail",
)


def canonical(row: dict) -> bytes:
    data = {k: row[k] for k in _FIELDS}
    data["at"] = row["at"].isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def row_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


def anchor() -> tuple[int, str]:
    """Where the chain in the table starts: after the last archived row, or at the beginning."""
    last = AuditArchive.objects.order_by("-last_seq").values("last_seq", "anchor_hash").first()
    return (int(last["last_seq"]), str(last["anchor_hash"])) if last else (0, GENESIS)


def _lock() -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
            return bool(cursor.fetchone()[0])
    return True  # SQLite: the IMMEDIATE write transaction already serialises writers


def seal(batch: int = 5000) -> int:
    """Seal up to `batch` unsealed rows; return how many. Safe to run concurrently or twice."""
    with transaction.atomic():
        if not _lock():
            return 0
        last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "row_hash").first()
        seq, prev = anchor()  # every sealed row may have been archived
        if last and int(last["seq"] or 0) > seq:
            seq, prev = int(last["seq"] or 0), str(last["row_hash"])
        rows = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id").values(*_FIELDS)[:batch])
        if not rows:
            return 0
        updates = []
        for row in rows:
            seq += 1
            digest = row_hash(prev, row)
            updates.append((seq, prev, digest, row["id"]))
            prev = digest
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            # The one permitted change to an audit row: filling its seal, once (see the guard trigger).
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, row_hash = %s WHERE id = %s AND seq IS NULL",  # noqa: S608
                updates,
            )
        return len(updates)


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: int
    reason: str


def verify() -> Iterator[Break]:
    """Walk the chain in order (from the last archive's anchor) and yield every place where it does not hold."""
    last_seq, prev = anchor()
    expected_seq = last_seq + 1
    qs = AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values(*_FIELDS, "seq", "prev_hash", "row_hash")
    for row in qs.iterator(chunk_size=5000):
        if row["seq"] != expected_seq:
            yield Break(row["seq"], row["id"], f"rows missing before seq {row['seq']} (expected {expected_seq})")
        if row["prev_hash"] != prev:
            yield Break(row["seq"], row["id"], "link to the previous row does not match")
        if row_hash(row["prev_hash"], row) != row["row_hash"]:
            yield Break(row["seq"], row["id"], "row content does not match its hash (changed after sealing)")
        prev = row["row_hash"]
        expected_seq = row["seq"] + 1
