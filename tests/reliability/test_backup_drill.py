"""Backup and restore drill (issue 7, docs/backup.md): back up a populated database and its uploaded
files, restore into a new database and a new directory, and compare every table (row count and an
md5 over the sorted row hashes) and every file (sha256). Backups and restores are audited.

    make backup-drill      (the same test, on PostgreSQL)
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gridgov.audit.models import AuditEvent
from gridgov.cases.attachments import attachment_add
from gridgov.cases.intake import case_report
from gridgov.cases.transitions import case_act
from gridgov.interfaces.jobs.backup import file_hashes
from tests.builtins import ensure_builtins
from tests.public.conftest import jpeg_with_gps
from tests.world import T0

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="pg_dump and pg_restore: PostgreSQL only"),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump not installed"),
    pytest.mark.django_db(transaction=True),
]

AUDIT = AuditEvent._meta.db_table


def checksums(cur: Any, audit_filter: str = "") -> dict[str, tuple[int, str]]:
    """Computed here, independently of the command's own manifest."""
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    out = {}
    for (table,) in cur.fetchall():
        where = f"WHERE {audit_filter}" if table == AUDIT and audit_filter else ""
        cur.execute(f'SELECT count(*), md5(coalesce(string_agg(md5(t::text), \'\' ORDER BY md5(t::text)), \'\')) '  # noqa: S608
                    f'FROM "{table}" t {where}')
        n, digest = cur.fetchone()
        out[table] = (n, digest)
    return out


def db_url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def populate(world: Any, media: Path) -> None:
    w = world
    for i in range(12):
        case = case_report(actor=w.wang_fang, now=T0, title=f"路灯不亮{i}", description="村口路灯坏了三天。",
                           category_code="sanitation", channel="field", unit_id=w.grid_a1.pk,
                           reporter_name="王大爷", reporter_phone="13812345678").case
        attachment_add(actor=w.wang_fang, now=T0, case_id=case.pk, stream=io.BytesIO(jpeg_with_gps(color="blue")),
                       name=f"photo{i}.jpg")
        if i % 3 == 0:
            case_act(actor=w.zhao_lei, now=T0, case_id=case.pk, action="accept")
    assert len(file_hashes(media)) >= 12


@pytest.fixture
def restored_db() -> Any:
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restore(directory: Path, target_db: str, media: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_XDIST_WORKER"}}
    env.update(GRIDGOV_TESTING="1", DATABASE_URL=db_url(target_db), MEDIA_ROOT=str(media))
    return subprocess.run([sys.executable, "manage.py", "backup_restore", "--dir", str(directory),
                           "--media-root", str(media), "--as", "zhoumin"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_backup_restores_into_a_new_database_and_directory_identically_and_is_audited(
        world, settings, tmp_path, restored_db):
    ensure_builtins()
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    populate(world, media)
    with connection.cursor() as cur:
        before = checksums(cur)
    source_files = file_hashes(media)

    out = io.StringIO()
    call_command("backup_create", dir=str(tmp_path / "backup"), **{"as": "zhoumin"}, stdout=out)
    assert "备份完成" in out.getvalue()
    backup = AuditEvent.objects.get(action="ops.backup")
    assert backup.actor_id == world.zhou_min.pk and backup.outcome == "success"

    r = restore(tmp_path / "backup", restored_db, tmp_path / "media-restored")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "核对一致" in r.stdout

    with psycopg.connect(db_url(restored_db)) as conn, conn.cursor() as cur:
        after = checksums(cur, audit_filter="action <> 'ops.restore'")
        cur.execute(f"SELECT outcome, actor_username, detail->>'tables' FROM {AUDIT} "  # noqa: S608
                    "WHERE action = 'ops.restore'")
        audited = cur.fetchall()
        # The audit chain's head moved on with the ops.restore row: it must point at the restored log's last row.
        cur.execute(f"SELECT h.seq = e.seq AND h.last_hash = e.row_hash FROM audit_auditchainhead h, {AUDIT} e "  # noqa: S608
                    f"WHERE e.seq = (SELECT max(seq) FROM {AUDIT})")
        assert cur.fetchone() == (True,)
    tables, head = len(before), "audit_auditchainhead"
    after.pop(head), before.pop(head)
    assert after == before  # every other table: the same rows, byte for byte
    assert sum(n for n, _ in after.values()) > 100 and before["cases_case"][0] == 12
    restored_files = file_hashes(tmp_path / "media-restored")
    # The restore's own audit row was sealed and checkpointed into the restored archive storage.
    checkpoints = {k for k in restored_files if k.startswith("audit-archive/checkpoints/")}
    assert "audit-archive/checkpoints/latest.json" in checkpoints
    assert {k: v for k, v in restored_files.items() if k not in checkpoints} == source_files
    assert audited == [("success", "zhoumin", str(tables))]


def test_a_tampered_backup_is_refused_and_nothing_is_restored(world, settings, tmp_path, restored_db):
    ensure_builtins()
    settings.MEDIA_ROOT = tmp_path / "media"
    populate(world, tmp_path / "media")
    call_command("backup_create", dir=str(tmp_path / "backup"), stdout=io.StringIO())
    dump = tmp_path / "backup" / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    r = restore(tmp_path / "backup", restored_db, tmp_path / "media-restored")
    assert r.returncode != 0
    assert "备份文件与清单不符" in r.stderr
    with psycopg.connect(db_url(restored_db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cur.fetchone()[0] == 0
    assert not (tmp_path / "media-restored").exists()
    with pytest.raises(CommandError, match="备份目录必须为空"):
        call_command("backup_create", dir=str(tmp_path / "backup"), stdout=io.StringIO())
