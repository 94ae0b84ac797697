"""Audit retention: rows older than the retention (never under 184 days) are archived to a file with
their hash chain, the file's checksum recorded, then deleted; verify continues from the recorded
anchor and still finds a tampered row; nothing younger than the cutoff is touched; on PostgreSQL an
ordinary DELETE is still refused."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from gridgov.audit import archive
from gridgov.audit.chain import verify
from gridgov.audit.models import AuditArchive, AuditEvent
from gridgov.audit.services import audit_record
from tests.audit.tamper import behind_the_back, unsealed_row

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.GRIDGOV_AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    settings.GRIDGOV_AUDIT_RETENTION_DAYS = 184


def write(days_ago: float, n: int = 1, action: str = "test.event") -> list[AuditEvent]:
    at = NOW - dt.timedelta(days=days_ago)
    return [audit_record(action=action, actor=None, now=at, detail={"n": i, "days": days_ago}) for i in range(n)]


def raw(sql: str, params: list) -> None:
    """A change behind the application's back (tests/audit/tamper.py)."""
    behind_the_back(sql, params)


def test_rows_past_the_retention_go_to_a_file_with_their_chain_and_verify_still_holds():
    old = write(300, 5) + write(190, 3)
    young = write(100, 4) + write(1, 2)
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()  # sealed when written
    made = archive.archive_old(now=NOW)
    assert made is not None and (made.first_seq, made.last_seq, made.row_count) == (1, 8, 8)
    assert not AuditEvent.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert AuditEvent.objects.filter(pk__in=[r.pk for r in young]).count() == 6
    # The file holds the rows and their chain; its checksum is recorded.
    path = django_settings.GRIDGOV_AUDIT_ARCHIVE_DIR / made.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == made.sha256
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, 9)) and lines[-1]["row_hash"] == made.anchor_hash
    assert {line["id"] for line in lines} == {r.pk for r in old}
    # The table's chain continues from the anchor; the archive itself verifies.
    assert list(verify()) == [] and list(archive.verify_archives()) == []
    event = AuditEvent.objects.get(action="audit.archive")
    assert event.detail["rows"] == 8 and event.detail["sha256"] == made.sha256 and event.outcome == "success"
    call_command("audit_verify")  # the table from the anchor, and the files
    assert archive.archive_old(now=NOW) is None  # nothing else is old enough
    write(0, 2)
    assert list(verify()) == []


def test_nothing_younger_than_the_floor_is_ever_touched():
    for days in (0, 100, 183):
        with pytest.raises(archive.RetentionTooShort):
            archive.archive_old(now=NOW, days=days)
    edge_old = write(185)
    edge_young = write(183)
    later_old = write(400)  # sealed after a young row: the run stops at the young one
    made = archive.archive_old(now=NOW)
    assert made is not None and made.row_count == 1
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert edge_old[0].pk not in remaining and {edge_young[0].pk, later_old[0].pk} <= remaining
    # A longer retention keeps more: with 365 days nothing of what is left goes.
    assert archive.archive_old(now=NOW, days=365) is None
    # Unsealed rows (written behind audit_record's back) are never archived, however old, and are reported.
    unsealed = unsealed_row(NOW - dt.timedelta(days=500))
    assert archive.archive_old(now=NOW, days=184) is None
    assert AuditEvent.objects.filter(pk=unsealed.pk).exists()
    assert [(b.event_id, "not sealed" in b.reason) for b in verify()] == [(unsealed.pk, True)]


def test_the_setting_is_the_retention_and_start_up_refuses_less(settings):
    settings.GRIDGOV_AUDIT_RETENTION_DAYS = 365
    write(300, 2)
    assert archive.archive_old(now=NOW) is None
    settings.GRIDGOV_AUDIT_RETENTION_DAYS = 250
    assert archive.archive_old(now=NOW).row_count == 2  # type: ignore[union-attr]


def test_verify_still_finds_a_tampered_row_after_an_archive():
    write(300, 3)
    kept = write(10, 3)
    archive.archive_old(now=NOW)
    raw("UPDATE {table} SET action = %s WHERE id = %s", ["test.forged", kept[1].pk])
    breaks = list(verify())
    assert [b.event_id for b in breaks] == [kept[1].pk] and "changed" in breaks[0].reason
    with pytest.raises(CommandError):
        call_command("audit_verify")


def test_verify_finds_the_first_row_after_the_anchor_removed():
    write(300, 3)
    kept = write(10, 3)
    archive.archive_old(now=NOW)
    raw("DELETE FROM {table} WHERE id = %s", [kept[0].pk])
    breaks = list(verify())
    assert breaks and breaks[0].event_id == kept[1].pk and "missing" in breaks[0].reason


def test_verify_finds_a_changed_or_missing_archive_file():
    write(300, 3)
    made = archive.archive_old(now=NOW)
    assert made is not None
    path = django_settings.GRIDGOV_AUDIT_ARCHIVE_DIR / made.file
    original = path.read_bytes()
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    lines[1]["action"] = "test.forged"
    path.write_bytes(gzip.compress(b"".join(json.dumps(x).encode() + b"\n" for x in lines)))
    assert any("checksum" in b.reason for b in archive.verify_archives())
    with pytest.raises(CommandError):
        call_command("audit_verify")
    path.unlink()
    assert any("missing" in b.reason for b in archive.verify_archives())
    path.write_bytes(original)
    assert list(archive.verify_archives()) == []


def test_a_broken_run_is_not_archived():
    rows = write(300, 3)
    raw("UPDATE {table} SET detail = %s WHERE id = %s", ['{"n": 99}', rows[1].pk])
    assert archive.archive_old(now=NOW) is None
    assert AuditEvent.objects.filter(pk__in=[r.pk for r in rows]).count() == 3 and not AuditArchive.objects.exists()
    failure = AuditEvent.objects.get(action="audit.archive")
    assert failure.outcome == "failure" and failure.detail["why"] == "chain broken"


def test_when_every_sealed_row_is_archived_sealing_continues_from_the_anchor():
    write(300, 4)
    made = archive.archive_old(now=NOW)
    # Only the archive's own audit row is left, sealed as it was written, continuing from the anchor.
    assert made is not None and list(AuditEvent.objects.values_list("action", flat=True)) == ["audit.archive"]
    assert AuditEvent.objects.get(action="audit.archive").seq == made.last_seq + 1
    assert list(verify()) == []


def test_the_archive_job_is_on_the_beat_schedule_and_runs(settings):
    from config.jobs import JOB_BY_NAME
    from gridgov.audit.tasks import audit_archive

    entry = settings.CELERY_BEAT_SCHEDULE["audit-archive"]
    job = JOB_BY_NAME["audit-archive"]
    assert entry["args"] == ("audit-archive",) and job.period <= 86400
    assert job.func == "gridgov.interfaces.jobs.periodic:audit_archive"
    write(300, 3)
    assert audit_archive.apply().get() == 3


def test_archives_are_append_only_in_the_orm():
    write(300, 2)
    made = archive.archive_old(now=NOW)
    assert made is not None
    with pytest.raises(RuntimeError):
        made.save()
    with pytest.raises(RuntimeError):
        made.delete()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_an_ordinary_delete_and_lets_only_the_archive_job_through():
    table = AuditEvent._meta.db_table
    old = write(300, 2)
    young = write(10, 1)

    def refused(sql: str, params: list, flag: bool = False) -> None:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            if flag:
                cursor.execute(f"SET LOCAL {archive.SESSION_FLAG} = 'on'")
            cursor.execute(sql, params)

    # An ordinary DELETE of an old row: refused.
    refused(f"DELETE FROM {table} WHERE id = %s", [old[0].pk])  # noqa: S608
    # The flag alone is not enough: the row must lie in a recorded archive.
    refused(f"DELETE FROM {table} WHERE id = %s", [old[0].pk], flag=True)  # noqa: S608
    # Even a recorded archive (forged here) does not let a row younger than 184 days go.
    AuditArchive.objects.create(created_at=NOW, cutoff=NOW, first_seq=1000, last_seq=1000, first_prev_hash="0" * 64,
                                anchor_hash="0" * 64, row_count=1, oldest_at=NOW, newest_at=NOW, file="x", sha256="")
    young_seq = AuditEvent.objects.get(pk=young[0].pk).seq
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"UPDATE {table} SET seq = 1000 WHERE id = %s", [young[0].pk])  # noqa: S608
        # The test runs in one transaction: SET LOCAL would outlive this block.
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    refused(f"DELETE FROM {table} WHERE id = %s", [young[0].pk], flag=True)  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"UPDATE {table} SET seq = %s WHERE id = %s", [young_seq, young[0].pk])  # noqa: S608
        cursor.execute("DELETE FROM audit_auditarchive")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    # The archive job itself goes through, and its archive rows cannot be changed or removed.
    made = archive.archive_old(now=NOW)
    assert made is not None and made.row_count == 2
    assert not AuditEvent.objects.filter(pk__in=[r.pk for r in old]).exists()
    refused("UPDATE audit_auditarchive SET sha256 = 'x' WHERE id = %s", [made.pk])
    refused("DELETE FROM audit_auditarchive WHERE id = %s", [made.pk])
    assert list(verify()) == [] and list(archive.verify_archives()) == []
