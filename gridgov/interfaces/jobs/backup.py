"""Backups and restores on PostgreSQL (docs/backup.md): pg_dump of the database plus an archive of the
uploaded files, with a manifest of per-table checksums and file hashes taken from the same snapshot
as the dump. A restore goes into an empty database and an empty media directory, is checked against
the manifest table by table and file by file, and is audited in the restored database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from gridgov.audit.services import audit_record
from gridgov.core.errors import ValidationFailed

DUMP = "database.dump"
MEDIA = "media.tar"
MANIFEST = "manifest.json"


def _pg_env() -> tuple[dict[str, str], list[str]]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ValidationFailed("备份与恢复命令只支持 PostgreSQL 数据库。")
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-p", str(db.get("PORT") or 5432),
            "-U", str(db.get("USER") or "postgres")]
    return env, args


def _pg_bin(name: str) -> str:
    folder = os.environ.get("GRIDGOV_PG_BIN", "")
    found = shutil.which(name) if not folder else str(Path(folder) / name)
    return found or name


# Each row's md5 is split into two 64-bit halves and each half summed over the table (exact numeric sums): the
# checksum does not depend on row order and streams through the table in constant memory. The first manifests
# concatenated every row's md5 into one text value, 32 bytes a row, which meets PostgreSQL's 1 GB value limit near
# 33.5M rows (case events reach that in about two years at size L); they are still verified their own way.
ROW_SUM_SQL = ("SELECT count(*), coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text, "
               "coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text "
               "FROM (SELECT md5(t::text) AS h FROM {table} t) s")
LEGACY_MD5_SQL = ("SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                  "FROM (SELECT md5(t::text) AS h FROM {table} t) s")


def table_checksum(cursor: Any, table: str, *, legacy: bool = False) -> dict[str, Any]:
    """Row count and the row-hash sums of one table ({"rows", "sum"}); legacy: the first manifests' {"rows", "md5"}."""
    q = connection.ops.quote_name(table)
    if legacy:
        cursor.execute(LEGACY_MD5_SQL.format(table=q))
        count, digest = cursor.fetchone()
        return {"rows": int(count), "md5": digest}
    cursor.execute(ROW_SUM_SQL.format(table=q))
    count, high, low = cursor.fetchone()
    return {"rows": int(count), "sum": f"{high}:{low}"}


def table_checksums(cursor: Any, *, legacy_tables: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """table_checksum for every table in the schema (legacy_tables: those a first-format manifest describes)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    tables = [r[0] for r in cursor.fetchall()]
    return {table: table_checksum(cursor, table, legacy=table in legacy_tables) for table in tables}


def file_hashes(root: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    if not root.exists():
        return hashes
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        hashes[path.relative_to(root).as_posix()] = h.hexdigest()
    return hashes


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class BackupResult:
    directory: Path
    tables: int
    rows: int
    files: int


def backup_create(*, actor: Any, now: Any, directory: Path, media_root: Path | None = None) -> BackupResult:
    """Dump the database (one snapshot for the dump and the checksums) and archive the media directory."""
    env, args = _pg_env()
    media_root = Path(media_root or settings.MEDIA_ROOT)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise ValidationFailed("备份目录必须为空。", field="directory")
    name = str(settings.DATABASES["default"]["NAME"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        subprocess.run([_pg_bin("pg_dump"), *args, "-d", name,  # noqa: S603 (fixed binaries, own settings)
                        "-Fc", "--no-owner", "--snapshot", snapshot,
                        "-f", str(directory / DUMP)], env=env, check=True, capture_output=True)
        tables = table_checksums(cursor)
    with tarfile.open(directory / MEDIA, "w") as tar:
        if media_root.exists():
            tar.add(media_root, arcname=".")
    files = file_hashes(media_root)
    manifest = {
        "created_at": now.isoformat(), "database": name, "tables": tables, "files": files,
        "dump_sha256": _sha256(directory / DUMP), "media_sha256": _sha256(directory / MEDIA),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
    rows = sum(t["rows"] for t in tables.values())
    with transaction.atomic():
        audit_record(action="ops.backup", actor=actor, now=now, object_type="backup",
                     object_id=directory.name[:64],
                     detail={"directory": str(directory), "tables": len(tables), "rows": rows, "files": len(files),
                             "dump_sha256": manifest["dump_sha256"]})
    return BackupResult(directory=directory, tables=len(tables), rows=rows, files=len(files))


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int
    mismatches: list[str]


def backup_restore(*, actor_username: str, now: Any, directory: Path, media_root: Path) -> RestoreResult:
    """Restore a backup into the (empty) database of the current settings and an empty media directory,
    compare with the manifest, and audit the restore there (outcome failure when anything differs).
    The actor is looked up by name in the restored data (the database is empty before)."""
    env, args = _pg_env()
    manifest = json.loads((directory / MANIFEST).read_text())
    mismatches: list[str] = []
    if _sha256(directory / DUMP) != manifest["dump_sha256"] or _sha256(directory / MEDIA) != manifest["media_sha256"]:
        raise ValidationFailed("备份文件与清单不符：备份已损坏或被改动。", field="directory")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
        if cursor.fetchone()[0]:
            raise ValidationFailed("只能恢复到空数据库：请先新建一个数据库。", field="database")
    if media_root.exists() and any(media_root.iterdir()):
        raise ValidationFailed("只能恢复到空的附件目录。", field="media_root")
    name = str(settings.DATABASES["default"]["NAME"])
    connection.close()
    subprocess.run([_pg_bin("pg_restore"), *args, "-d", name,  # noqa: S603
                    "--no-owner", "--exit-on-error",
                    str(directory / DUMP)], env=env, check=True, capture_output=True)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / MEDIA) as tar:
        tar.extractall(media_root, filter="data")
    legacy = frozenset(t for t, v in manifest["tables"].items() if "md5" in v)
    with connection.cursor() as cursor:
        tables = table_checksums(cursor, legacy_tables=legacy)
    for table, expected in manifest["tables"].items():
        if tables.get(table) != expected:
            mismatches.append(f"table {table}: {tables.get(table)} != {expected}")
    mismatches += [f"table {t}: not in the backup" for t in set(tables) - set(manifest["tables"])]
    files = file_hashes(media_root)
    if files != manifest["files"]:
        differing = sorted(k for k in set(files) | set(manifest["files"]) if files.get(k) != manifest["files"].get(k))
        mismatches += [f"file {k}" for k in differing]
    from gridgov.access.models import User

    actor = User.objects.filter(username=actor_username).first() if actor_username else None
    with transaction.atomic():
        audit_record(action="ops.restore", actor=actor, username=actor_username if actor is None else "", now=now,
                     object_type="backup", object_id=directory.name[:64],
                     outcome="success" if not mismatches else "failure",
                     detail={"directory": str(directory), "backup_created_at": manifest["created_at"],
                             "source_database": manifest["database"],
                             "tables": len(tables), "files": len(files), "mismatches": mismatches[:20]})
    return RestoreResult(tables=len(tables), rows=sum(t["rows"] for t in tables.values()), files=len(files),
                         mismatches=mismatches)

