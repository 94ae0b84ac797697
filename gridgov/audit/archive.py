"""Audit retention: rows older than the retention (GRIDGOV_AUDIT_RETENTION_DAYS, never under 184
days, 网络安全法 Art. 21) leave the table for an archive file, with their hash chain.

The daily job (`audit.archive`) takes the oldest run of sealed rows, in chain order, that are all
older than the cutoff (it stops at the first younger row: nothing younger is ever touched), checks
that run's chain from the previous anchor, writes it to a gzip'd JSON-lines file under
GRIDGOV_AUDIT_ARCHIVE_DIR (`audit-archive/` in the object store when GRIDGOV_S3_BUCKET is set),
records the file's SHA-256 and the anchor in an `AuditArchive` row, and
deletes the run — all in one transaction under the sealer's lock. On PostgreSQL the guard trigger
refuses every DELETE unless the transaction set `gridgov.audit_archive` and the row lies within a
recorded archive and is older than 184 days by the database's clock: an ordinary DELETE is still
refused. `manage.py audit_verify` walks the table from the last anchor and checks every archive
file against its checksum and chain.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection, transaction

from .chain import _ROW, GENESIS, Break, _lock, anchor, chain_breaks, keys
from .models import AuditArchive, AuditEvent
from .services import audit_record

log = logging.getLogger(__name__)
RETENTION_FLOOR_DAYS = 184
SESSION_FLAG = "gridgov.audit_archive"


class RetentionTooShort(ValueError):
    pass


def archive_dir() -> Path:
    return Path(settings.GRIDGOV_AUDIT_ARCHIVE_DIR)


def _object_store() -> bool:
    """With object storage (GRIDGOV_S3_BUCKET) the archives go to its `audit-archive/` prefix
    (settings.STORAGES["audit_archive"]); otherwise to GRIDGOV_AUDIT_ARCHIVE_DIR on local disk."""
    return "audit_archive" in settings.STORAGES


def _read(name: str) -> bytes | None:
    if _object_store():
        try:
            with storages["audit_archive"].open(name, "rb") as fh:
                return bytes(fh.read())
        except FileNotFoundError:
            return None
    path = archive_dir() / name
    return path.read_bytes() if path.exists() else None


def _line(row: dict[str, Any]) -> bytes:
    data = dict(row)
    data["at"] = row["at"].isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"


def _parse(line: bytes) -> dict[str, Any]:
    row = json.loads(line)
    row["at"] = dt.datetime.fromisoformat(row["at"])
    return dict(row)


def _chain_breaks(rows: list[dict[str, Any]], first_seq: int, prev: str) -> Iterator[Break]:
    return chain_breaks(rows, first_seq=first_seq, prev=prev, keys=keys()[1])


def _write(name: str, rows: list[dict[str, Any]]) -> str:
    """Write the file (durably) and return its SHA-256."""
    if _object_store():
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
            for row in rows:
                gz.write(_line(row))
        data = buffer.getvalue()
        store = storages["audit_archive"]
        if store.exists(name):  # a run whose commit failed after the upload: the same rows, written again
            store.delete(name)
        saved = store.save(name, ContentFile(data))  # one PUT: durable when it returns
        if saved != name:
            raise RuntimeError(f"audit archive {name} was stored as {saved}")
        return hashlib.sha256(data).hexdigest()
    path = archive_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for row in rows:
            gz.write(_line(row))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def archive_old(*, now: dt.datetime, days: int | None = None, batch: int = 50_000) -> AuditArchive | None:
    """Archive the oldest run of sealed rows older than `days` (the setting by default); at most
    `batch` rows per call. Returns the archive made, or None when there is nothing to do."""
    days = int(settings.GRIDGOV_AUDIT_RETENTION_DAYS if days is None else days)
    if days < RETENTION_FLOOR_DAYS:
        raise RetentionTooShort(f"audit retention must be at least {RETENTION_FLOOR_DAYS} days, not {days}")
    cutoff = now - dt.timedelta(days=days)
    if not _may_delete():
        # The two-role set-up: the app role may not delete audit rows; the owner runs `manage.py audit_archive`.
        log.info("audit archive skipped: this database role may not delete audit rows")
        return None
    with transaction.atomic():
        if not _lock():
            return None  # the sealer (or another archiver) is at work; the next run picks it up
        last_seq, prev = anchor()
        candidates = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")
                          .values(*_ROW)[:batch])
        rows: list[dict[str, Any]] = []
        for row in candidates:
            if row["at"] >= cutoff:
                break  # the run stops at the first row inside the retention
            rows.append(row)
        if not rows:
            return None
        breaks = list(_chain_breaks(rows, last_seq + 1, prev))
        if breaks:
            # Archiving a broken run would launder the break: refuse, and leave it to audit_verify.
            with transaction.atomic():
                audit_record(action="audit.archive", actor=None, now=now, outcome=AuditEvent.Outcome.FAILURE,
                             detail={"why": "chain broken", "seq": breaks[0].seq, "event_id": breaks[0].event_id})
            return None
        first, last = rows[0]["seq"], rows[-1]["seq"]
        name = f"audit-{first:012d}-{last:012d}.jsonl.gz"
        digest = _write(name, rows)
        archive = AuditArchive.objects.create(
            created_at=now, cutoff=cutoff, first_seq=first, last_seq=last, first_prev_hash=prev,
            anchor_hash=rows[-1]["row_hash"], row_count=len(rows), oldest_at=min(r["at"] for r in rows),
            newest_at=max(r["at"] for r in rows), file=name, sha256=digest)
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {SESSION_FLAG} = 'on'")
            else:  # SQLite's guard trigger lets a DELETE through only while this gate row exists
                cursor.execute("INSERT INTO audit_archive_gate (id) VALUES (1)")
            cursor.execute(f"DELETE FROM {table} WHERE seq >= %s AND seq <= %s", [first, last])  # noqa: S608
            deleted = cursor.rowcount
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {SESSION_FLAG} = 'off'")
            else:
                cursor.execute("DELETE FROM audit_archive_gate")
        if deleted != len(rows):
            raise RuntimeError(f"archived {len(rows)} audit rows but deleted {deleted}")
        audit_record(action="audit.archive", actor=None, now=now, obj=archive,
                     detail={"first_seq": first, "last_seq": last, "rows": len(rows), "file": name,
                             "sha256": digest, "cutoff": cutoff.isoformat(), "retention_days": days})
    return archive


def _may_delete() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(current_user, %s, 'DELETE')", [AuditEvent._meta.db_table])
        return bool(cursor.fetchone()[0])


def archive_all(*, now: dt.datetime, batch: int = 50_000, max_batches: int = 100) -> int:
    """The daily job: archive in batches until nothing is old enough. Returns rows archived."""
    total = 0
    for _ in range(max_batches):
        made = archive_old(now=now, batch=batch)
        if made is None:
            break
        total += made.row_count
    return total


def verify_archives() -> Iterator[Break]:
    """Every archive file is present, matches its recorded checksum, and its rows form the chain
    from the previous anchor to the recorded one."""
    prev_seq, prev_hash = 0, GENESIS
    for archive in AuditArchive.objects.order_by("first_seq"):
        if archive.first_seq != prev_seq + 1 or archive.first_prev_hash != prev_hash:
            yield Break(archive.first_seq, 0, f"archive {archive.file} does not follow the previous one")
        data = _read(archive.file)
        if data is None:
            yield Break(archive.first_seq, 0, f"archive file {archive.file} is missing")
        elif hashlib.sha256(data).hexdigest() != archive.sha256:
            yield Break(archive.first_seq, 0, f"archive file {archive.file} does not match its checksum")
        else:
            with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as fh:
                rows = [_parse(line) for line in fh if line.strip()]
            yield from _chain_breaks(rows, archive.first_seq, archive.first_prev_hash)
            if not rows or rows[-1]["seq"] != archive.last_seq or rows[-1]["row_hash"] != archive.anchor_hash:
                yield Break(archive.last_seq, 0, f"archive file {archive.file} does not end at its anchor")
        prev_seq, prev_hash = archive.last_seq, archive.anchor_hash
