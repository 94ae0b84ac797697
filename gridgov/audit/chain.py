"""The audit log's keyed chain: sealing at write time, checkpoints outside the database, verifying.

Each row is sealed when it is written (`seal_events`, called by audit_record in the transaction of the
change): the next seq comes from the chain head row (`UPDATE … SET seq = seq + n … RETURNING seq,
last_hash`, one statement, which locks the head until commit and so serialises writers of audit rows),
and `row_hash = HMAC-SHA256(key, prev_hash || canonical(row))` with the current key of
GRIDGOV_AUDIT_KEY (kept outside the database; rotatable: each row names its key id, old keys still
verify old rows). The row form and the HMAC are in audit/offline.py, which also verifies offline.

After each commit that sealed rows, a signed **checkpoint** (first and last seq, count, last hash, time,
key id, HMAC) is appended to the audit archive storage (GRIDGOV_AUDIT_ARCHIVE_DIR/checkpoints/) and
written to the application log (logger `gridgov.audit.checkpoint`); the `audit.seal` job writes one
every minute as well. `audit_verify` walks the chain in the table from the last archive's anchor and
checks it reaches the latest checkpoint: an edited row fails its HMAC, a deleted middle row leaves a
gap, a deleted tail or a log re-chained without the key cannot reach the checkpoint's last hash, and a
row written without a seal is reported as such.

Rows past the retention are archived (audit.archive): they leave the table for a file, and the chain
left in the table continues from the last archive's anchor (its last row's hash and seq).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from gridgov.core import clock

from . import offline
from .models import AuditArchive, AuditChainHead, AuditEvent
from .offline import FIELDS as _FIELDS
from .offline import GENESIS, Break, chain_breaks

__all__ = ["GENESIS", "_FIELDS", "Break", "anchor", "chain_breaks", "seal", "seal_events", "verify"]

log = logging.getLogger("gridgov.audit.checkpoint")
_LOCK_KEY = 0x6772_6964_6175  # "gridau": the advisory lock id of the sealer and the archiver
_ROW = (*_FIELDS, "seq", "prev_hash", "row_hash", "key_id")


@lru_cache(maxsize=1)
def keys() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: key}) from GRIDGOV_AUDIT_KEY."""
    try:
        return offline.parse_keys(str(getattr(settings, "GRIDGOV_AUDIT_KEY", "")))
    except offline.KeyError_ as exc:
        raise ImproperlyConfigured(f"{exc}: the audit log cannot be sealed.") from exc


def reset_keys() -> None:
    keys.cache_clear()


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


# --- sealing --------------------------------------------------------------------------------------------
def _values(event: AuditEvent) -> dict[str, Any]:
    """The row as the database will give it back (what verify hashes): each field's own normalisation."""
    out: dict[str, Any] = {}
    for name in offline.KEYED_FIELDS:
        f: Any = AuditEvent._meta.get_field(name)
        value = getattr(event, f.attname)
        if name == "ip":
            value = f.get_prep_value(value) or None
        elif name == "detail":
            value = json.loads(json.dumps(value if value is not None else {}))
        elif name not in ("at", "actor_id") and value is not None:
            value = str(value)
        out[name] = value
        setattr(event, f.attname, value)
    return out


def _ensure_head() -> None:
    """The head row, made from the table's state when missing (a fresh or flushed database)."""
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "row_hash").first()
    seq, prev = anchor()
    if last and int(last["seq"] or 0) > seq:
        seq, prev = int(last["seq"] or 0), str(last["row_hash"])
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (id, seq, last_hash) VALUES (1, %s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
                       [seq, prev])


def _take(n: int) -> tuple[int, str]:
    """Reserve n sequence numbers: (the first, the hash before it). Locks the head until commit."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    sql = f"UPDATE {table} SET seq = seq + %s WHERE id = 1 RETURNING seq, last_hash"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [n])
        got = cursor.fetchone()
        if got is None:
            _ensure_head()
            cursor.execute(sql, [n])
            got = cursor.fetchone()
    return int(got[0]) - n + 1, str(got[1])


def seal_events(events: list[AuditEvent]) -> None:
    """Seal new, unsaved audit rows (in the caller's transaction; they must be inserted in this order)."""
    if not events:
        return
    current, ks = keys()
    first, prev = _take(len(events))
    for i, event in enumerate(events):
        row = _values(event)
        event.seq, event.prev_hash, event.key_id = first + i, prev, current
        event.row_hash = offline.seal_hash(prev, row, current, ks)
        prev = event.row_hash
    _checkpoint_on_commit()


def seal(batch: int = 5000) -> int:
    """Seal rows written without a seal (rows from before the keyed chain; the migration and
    `audit_verify --seal-pending` call it). Returns how many. Rows written since are sealed at once, so in
    normal running there is nothing to do, and audit_verify reports unsealed rows rather than sealing them."""
    with transaction.atomic():
        if not _lock():
            return 0
        rows = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id").values(*_FIELDS)[:batch])
        if not rows:
            return 0
        current, ks = keys()
        first, prev = _take(len(rows))
        updates = []
        for i, row in enumerate(rows):
            digest = offline.seal_hash(prev, row, current, ks)
            updates.append((first + i, prev, digest, current, row["id"]))
            prev = digest
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            # The one permitted change to an audit row: filling its seal, once (see the guard triggers).
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, row_hash = %s, key_id = %s "  # noqa: S608
                "WHERE id = %s AND seq IS NULL",
                updates,
            )
        _checkpoint_on_commit()
        return len(updates)


# --- checkpoints ----------------------------------------------------------------------------------------
def checkpoint_dir() -> Path:
    return Path(settings.GRIDGOV_AUDIT_ARCHIVE_DIR) / "checkpoints"


def checkpoint_current(*, now: dt.datetime) -> dict[str, Any] | None:
    """The signed checkpoint of the chain as the table holds it now (None while it is empty)."""
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "row_hash").first()
    anchor_seq, anchor_hash = anchor()
    if last is None and not anchor_seq:
        return None
    last_seq, last_hash = (int(last["seq"] or 0), str(last["row_hash"])) if last else (anchor_seq, anchor_hash)
    current, ks = keys()
    return offline.checkpoint_sign(first_seq=anchor_seq + 1, last_seq=last_seq, last_hash=last_hash,
                                   at=now.astimezone(dt.UTC).isoformat(timespec="seconds"), key_id=current, keys=ks)


def checkpoint_write(cp: dict[str, Any]) -> Path:
    """Append the checkpoint to the day's log in the archive storage, replace latest.json, and log it."""
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    line = json.dumps(cp, sort_keys=True, separators=(",", ":"))
    day = folder / f"checkpoints-{cp['at'][:10]}.jsonl"
    with open(day, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    tmp = folder / f".latest.{os.getpid()}.tmp"
    tmp.write_text(line + "\n", encoding="utf-8")
    os.replace(tmp, folder / "latest.json")
    log.info("audit checkpoint %s", line)
    return day


def write_checkpoint(*, now: dt.datetime) -> dict[str, Any] | None:
    cp = checkpoint_current(now=now)
    if cp is not None:
        checkpoint_write(cp)
    return cp


def _after_commit() -> None:
    connection.__dict__.pop("_gridgov_audit_checkpoint", None)
    try:
        write_checkpoint(now=clock.now())
    except Exception:  # the change is committed; the next seal or the job writes the checkpoint
        log.exception("audit checkpoint not written")


def _checkpoint_on_commit() -> None:
    """One checkpoint after the transaction commits, however many rows it sealed."""
    pending = connection.__dict__.get("_gridgov_audit_checkpoint")
    if pending is not None and any(item[1] is pending for item in connection.run_on_commit):
        return
    callback = _after_commit
    connection.__dict__["_gridgov_audit_checkpoint"] = callback
    transaction.on_commit(callback)


def _tail_lines(path: Path, size: int = 65536) -> list[str]:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        fh.seek(max(end - size, 0))
        data = fh.read()
    lines = data.decode("utf-8", "replace").splitlines()
    return [line for line in (lines[1:] if end > size else lines) if line.strip()]


def latest_checkpoint() -> dict[str, Any] | None:
    """The newest checkpoint in the archive storage: the highest last_seq among latest.json and the last
    lines of the two newest checkpoint logs (writers after concurrent commits may finish out of order)."""
    folder = checkpoint_dir()
    found: list[dict[str, Any]] = []
    candidates = [folder / "latest.json", *sorted(folder.glob("checkpoints-*.jsonl"))[-2:]] if folder.exists() else []
    for path in candidates:
        if not path.exists():
            continue
        for line in _tail_lines(path)[-200:]:
            try:
                found.append(json.loads(line))
            except ValueError:
                found.append({"v": 0, "last_seq": 0, "at": str(path)})  # fails its signature check
    return max(found, key=lambda cp: int(cp.get("last_seq", 0))) if found else None


# --- verifying ------------------------------------------------------------------------------------------
def verify(*, checkpoint: dict[str, Any] | None = None, use_latest: bool = True) -> Iterator[Break]:
    """Walk the chain in order (from the last archive's anchor) and yield every place where it does not hold;
    then every unsealed row; then whether the table still holds what the checkpoint vouches for."""
    _, ks = keys()
    last_seq, prev = anchor()
    cp = checkpoint if checkpoint is not None else (latest_checkpoint() if use_latest else None)
    from_seq = max(int(cp["first_seq"]), last_seq + 1) if cp else 0
    to_seq = int(cp["last_seq"]) if cp else -1
    seen: dict[str, Any] = {"count": 0, "hash": None, "id": 0}

    def rows() -> Iterator[dict[str, Any]]:
        qs = AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values(*_ROW)
        for row in qs.iterator(chunk_size=5000):
            if from_seq <= int(row["seq"] or 0) <= to_seq:
                seen["count"] += 1
                if row["seq"] == to_seq:
                    seen["hash"], seen["id"] = row["row_hash"], row["id"]
            yield row

    yield from chain_breaks(rows(), first_seq=last_seq + 1, prev=prev, keys=ks)
    for event_id in AuditEvent.objects.filter(seq__isnull=True).order_by("id").values_list("id", flat=True):
        yield Break(0, event_id, "row not sealed when written (its content cannot be vouched for)")
    if cp is None:
        return
    yield from offline.checkpoint_breaks(cp, ks)
    expected = to_seq - from_seq + 1
    if to_seq >= from_seq and seen["count"] != expected:
        yield Break(to_seq, 0, f"{expected - seen['count']} row(s) the checkpoint of {cp.get('at')} vouches for are "
                               f"missing (seq {from_seq}–{to_seq}; truncated or deleted)")
    if to_seq >= from_seq and seen["hash"] is not None and seen["hash"] != cp.get("last_hash"):
        yield Break(to_seq, int(seen["id"]), "the row at the checkpoint does not carry the checkpoint's hash "
                                             "(the log was rewritten)")


def export_rows(path: Path) -> int:
    """Every row of the table as JSON lines (the offline verifier's input, the archive files' format)."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in AuditEvent.objects.order_by("seq", "id").values(*_ROW).iterator(chunk_size=5000):
            row["at"] = row["at"].isoformat(timespec="microseconds")
            fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
            n += 1
    return n
