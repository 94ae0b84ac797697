"""The audit log cannot be rewritten quietly: rows are sealed into a keyed chain (HMAC with a key outside the
database) as they are written, a signed checkpoint of the head goes to the archive storage and the log, and
each tampering the outside test tried — edit, delete-last, delete-middle, re-chain without the key,
trigger disabled (PostgreSQL, as the owner), unsealed edit — is found by `audit_verify` and by the
offline check (audit/offline.py on an export, with only the key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from gridgov.audit import chain, offline
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_build, audit_record, audit_record_many
from tests.audit.tamper import behind_the_back, unsealed_row
from tests.world import T0

pytestmark = pytest.mark.django_db
OFFLINE = Path(offline.__file__).resolve()


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.GRIDGOV_AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    chain.reset_keys()
    yield
    chain.reset_keys()


def write(n: int, action: str = "test.event") -> list[AuditEvent]:
    return [audit_record(action=action, actor=None, now=T0 + dt.timedelta(seconds=i), detail={"n": i, "名": "王伟"})
            for i in range(n)]


def checkpoint() -> dict:  # type: ignore[type-arg]
    cp = chain.write_checkpoint(now=T0 + dt.timedelta(hours=1))
    assert cp is not None
    return cp


def verify_command_fails() -> str:
    with pytest.raises(CommandError) as exc:
        call_command("audit_verify")
    return str(exc.value)


def offline_check(tmp_path: Path, settings) -> tuple[int, list[offline.Break]]:  # type: ignore[no-untyped-def]
    """What the offline check sees: the table exported, the latest checkpoint from the storage, the key."""
    export = tmp_path / "export.jsonl"
    call_command("audit_export", str(export))
    rows = offline.read_rows(str(export))
    cp = json.loads((chain.checkpoint_dir() / "latest.json").read_text())
    breaks = offline.verify_offline(rows, cp, offline.parse_keys(settings.GRIDGOV_AUDIT_KEY)[1])
    return len(rows), breaks


def test_rows_are_sealed_as_written_with_the_key_and_verify_holds(tmp_path, settings):
    rows = write(5)
    audit_record_many([audit_build(action="test.batch", actor=None, now=T0, detail={"i": i}) for i in range(3)])
    sealed = list(AuditEvent.objects.order_by("seq").values_list("seq", "key_id"))
    assert sealed == [(i, "test") for i in range(1, 9)]
    assert AuditEvent.objects.get(pk=rows[0].pk).prev_hash == offline.GENESIS
    assert list(chain.verify()) == []
    cp = checkpoint()
    assert (cp["first_seq"], cp["last_seq"], cp["count"], cp["key_id"]) == (1, 8, 8, "test")
    call_command("audit_verify")
    assert offline_check(tmp_path, settings) == (8, [])
    # The standalone verifier needs only the standard library, the files and the key.
    export = tmp_path / "export.jsonl"
    done = subprocess.run([sys.executable, "-I", str(OFFLINE), str(export), "--checkpoint",
                           str(chain.checkpoint_dir() / "latest.json")], capture_output=True, text=True,
                          env={"GRIDGOV_AUDIT_KEY": settings.GRIDGOV_AUDIT_KEY, "PATH": os.environ["PATH"]},
                          check=False)
    assert done.returncode == 0 and "intact" in done.stdout, done.stderr


def test_the_seal_is_the_hmac_with_the_key_not_a_plain_hash(settings):
    row = AuditEvent.objects.filter(pk=write(1)[0].pk).values(*chain._ROW).get()
    key = settings.GRIDGOV_AUDIT_KEY.split(":", 1)[1].encode()
    import hmac

    expected = hmac.new(key, offline.GENESIS.encode() + offline.canonical(row, keyed=True), hashlib.sha256)
    assert row["row_hash"] == expected.hexdigest()
    assert row["row_hash"] != hashlib.sha256(offline.GENESIS.encode() + offline.canonical(row, keyed=True)).hexdigest()


def test_values_come_back_from_the_database_as_they_were_sealed():
    """The seal is made before the INSERT: every field must hash the same as the database gives it back."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    audit_record(action="test.odd", actor=None, now=dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=shanghai),
                 object_type="cases.case", object_id=42, detail={"x": [1, 2.5, None, "中文"], "t": (1, 2)},  # type: ignore[arg-type]
                 unit_path="0001.0002.")
    assert list(chain.verify()) == []


def test_sealing_takes_one_extra_statement(django_assert_num_queries):
    write(1)  # the head row exists
    with transaction.atomic(), django_assert_num_queries(2):  # the head's UPDATE … RETURNING, and the INSERT
        audit_record(action="test.event", actor=None, now=T0)


def test_edit_is_found(tmp_path, settings):
    rows = write(5)
    checkpoint()
    behind_the_back("UPDATE {table} SET action = %s WHERE id = %s", ["test.forged", rows[2].pk])
    breaks = list(chain.verify())
    assert [b.event_id for b in breaks] == [rows[2].pk] and "does not match its seal" in breaks[0].reason
    assert "broken" in verify_command_fails()
    _, found = offline_check(tmp_path, settings)
    assert [b.event_id for b in found] == [rows[2].pk]


def test_delete_last_is_found(tmp_path, settings):
    rows = write(5)
    checkpoint()
    behind_the_back("DELETE FROM {table} WHERE id IN (%s, %s)", [rows[3].pk, rows[4].pk])
    breaks = list(chain.verify())
    assert breaks and all("missing" in b.reason for b in breaks) and "truncated" in breaks[0].reason
    verify_command_fails()
    _, found = offline_check(tmp_path, settings)
    assert found and "truncated" in found[0].reason


def test_delete_middle_is_found(tmp_path, settings):
    rows = write(5)
    checkpoint()
    behind_the_back("DELETE FROM {table} WHERE id = %s", [rows[2].pk])
    breaks = list(chain.verify())
    assert breaks[0].event_id == rows[3].pk and "rows missing before seq 4" in breaks[0].reason
    assert any("truncated or deleted" in b.reason for b in breaks)
    verify_command_fails()
    _, found = offline_check(tmp_path, settings)
    assert any("rows missing before seq 4" in b.reason for b in found)


def _rechain(rows: list[AuditEvent], *, key_id: str, keyed_form: bool) -> None:
    """Recompute every seal from the first row without the key (plain SHA-256), as a forger must."""
    prev = offline.GENESIS
    for r in AuditEvent.objects.order_by("seq").values(*chain._ROW):
        digest = hashlib.sha256(prev.encode() + offline.canonical(r, keyed=keyed_form)).hexdigest()
        behind_the_back("UPDATE {table} SET prev_hash = %s, row_hash = %s, key_id = %s WHERE id = %s",
                        [prev, digest, key_id, r["id"]])
        prev = digest


def test_rechain_without_the_key_is_found(tmp_path, settings):
    rows = write(5)
    checkpoint()
    behind_the_back("UPDATE {table} SET action = %s WHERE id = %s", ["test.forged", rows[1].pk])
    _rechain(rows, key_id="test", keyed_form=True)  # key id kept, hashes guessed: every HMAC fails
    breaks = list(chain.verify())
    assert len([b for b in breaks if "does not match its seal" in b.reason]) == 5
    verify_command_fails()
    assert offline_check(tmp_path, settings)[1]


def test_rechain_as_old_unkeyed_rows_is_found_by_the_checkpoint(tmp_path, settings):
    rows = write(5)
    checkpoint()
    behind_the_back("UPDATE {table} SET action = %s WHERE id = %s", ["test.forged", rows[1].pk])
    _rechain(rows, key_id="", keyed_form=False)  # the whole log passed off as sealed before the key existed
    breaks = list(chain.verify())
    assert [b.reason for b in breaks] == ["the row at the checkpoint does not carry the checkpoint's hash "
                                          "(the log was rewritten)"]
    verify_command_fails()
    _, found = offline_check(tmp_path, settings)
    assert any("rewritten" in b.reason for b in found)


def test_unkeyed_rows_after_keyed_ones_are_found():
    rows = write(3)
    new = write(2)
    prev = AuditEvent.objects.get(pk=rows[-1].pk).row_hash
    for r in AuditEvent.objects.filter(pk__in=[e.pk for e in new]).order_by("seq").values(*chain._ROW):
        digest = hashlib.sha256(prev.encode() + offline.canonical(r, keyed=False)).hexdigest()
        behind_the_back("UPDATE {table} SET row_hash = %s, prev_hash = %s, key_id = '' WHERE id = %s",
                        [digest, prev, r["id"]])
        prev = digest
    assert any("unkeyed seal after keyed rows" in b.reason for b in chain.verify())


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_trigger_disabled_by_the_owner_and_a_row_rewritten_is_found(tmp_path, settings):
    rows = write(4)
    checkpoint()
    behind_the_back("UPDATE {table} SET detail = '{{}}' WHERE id = %s", [rows[1].pk], how="disable")
    breaks = list(chain.verify())
    assert [b.event_id for b in breaks] == [rows[1].pk]
    verify_command_fails()
    assert [b.event_id for b in offline_check(tmp_path, settings)[1]] == [rows[1].pk]


def test_guard_dropped_on_sqlite_or_bypassed_and_a_row_rewritten_is_found(tmp_path, settings):
    rows = write(4)
    checkpoint()
    behind_the_back("UPDATE {table} SET actor_username = %s WHERE id = %s", ["某人", rows[0].pk])
    assert [b.event_id for b in chain.verify()] == [rows[0].pk]
    verify_command_fails()
    assert [b.event_id for b in offline_check(tmp_path, settings)[1]] == [rows[0].pk]


def test_unsealed_edit_is_found(tmp_path, settings):
    write(3)
    checkpoint()
    forged = unsealed_row(T0, action="test.inserted")
    behind_the_back("UPDATE {table} SET action = %s WHERE id = %s", ["test.edited", forged.pk])
    breaks = list(chain.verify())
    assert [(b.event_id, b.reason) for b in breaks] == [
        (forged.pk, "row not sealed when written (its content cannot be vouched for)")]
    verify_command_fails()
    assert [b.event_id for b in offline_check(tmp_path, settings)[1]] == [forged.pk]
    # The old job sealed such rows and so vouched for them; now only an explicit upgrade step does.
    from gridgov.audit import tasks

    tasks.audit_seal.apply().get()
    assert AuditEvent.objects.get(pk=forged.pk).seq is None


def test_a_forged_or_changed_checkpoint_is_found(settings):
    write(3)
    cp = checkpoint()
    forged = {**cp, "last_seq": 2, "count": 2}
    assert any("signature" in b.reason for b in chain.verify(checkpoint=forged))
    other = offline.checkpoint_sign(first_seq=1, last_seq=3, last_hash=cp["last_hash"], at=cp["at"], key_id="x",
                                    keys={"x": b"y" * 40})
    assert any("unknown key" in b.reason for b in chain.verify(checkpoint=other))


def test_the_database_refuses_updates_and_deletes_of_audit_rows():
    """The append-only guard: PostgreSQL's trigger, and on SQLite too (triggers raising)."""
    rows = write(2)
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):  # noqa: S608
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [rows[0].pk])
    # An unsealed row may not be altered either, except by sealing it.
    fresh = unsealed_row(T0)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET action = 'x' WHERE id = %s", [fresh.pk])  # noqa: S608
    assert chain.seal() == 1  # the upgrade path (audit_verify --seal-pending) still may
    assert list(chain.verify()) == []
    from gridgov.audit.models import AuditArchive

    AuditArchive.objects.create(created_at=T0, cutoff=T0, first_seq=900, last_seq=900, first_prev_hash="0",
                                anchor_hash="0", row_count=1, oldest_at=T0, newest_at=T0, file="f", sha256="s")
    for sql in ("UPDATE audit_auditarchive SET sha256 = 'x'", "DELETE FROM audit_auditarchive"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_key_rotation_old_keys_verify_old_rows(settings):
    old = write(2)
    settings.GRIDGOV_AUDIT_KEY = "k2:" + "n" * 40 + "," + settings.GRIDGOV_AUDIT_KEY
    chain.reset_keys()
    new = write(2)
    assert [AuditEvent.objects.get(pk=r.pk).key_id for r in old + new] == ["test", "test", "k2", "k2"]
    cp = checkpoint()
    assert cp["key_id"] == "k2" and list(chain.verify()) == []
    settings.GRIDGOV_AUDIT_KEY = "k2:" + "n" * 40  # the old key dropped: its rows can no longer be vouched for
    chain.reset_keys()
    assert [b.reason for b in chain.verify()][:2] == ["sealed with an unknown key 'test'"] * 2


def test_no_key_no_sealing(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GRIDGOV_AUDIT_KEY = ""
    chain.reset_keys()
    with pytest.raises(ImproperlyConfigured):
        write(1)
    settings.GRIDGOV_AUDIT_KEY = "a:short"
    chain.reset_keys()
    with pytest.raises(ImproperlyConfigured):
        write(1)


def test_a_checkpoint_goes_to_the_storage_and_the_log_after_each_commit(django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        write(3)  # one checkpoint per transaction, however many rows
    assert len(callbacks) == 1
    latest = json.loads((chain.checkpoint_dir() / "latest.json").read_text())
    assert latest["last_seq"] == 3 and latest["count"] == 3
    logs = sorted(chain.checkpoint_dir().glob("checkpoints-*.jsonl"))
    assert len(logs) == 1 and json.loads(logs[0].read_text().splitlines()[-1]) == latest
    assert any("audit checkpoint" in r.getMessage() and latest["mac"] in r.getMessage() for r in caplog.records)
    assert chain.latest_checkpoint() == latest


def test_the_checkpoint_job_is_on_the_beat_schedule_and_writes_one(settings):
    from config.jobs import JOB_BY_NAME
    from gridgov.interfaces.jobs.tasks import run_scheduled_job

    # Beat sends every job through the one runner task (config/jobs.py); the embedded runner runs the same.
    entry = settings.CELERY_BEAT_SCHEDULE["audit-seal"]
    assert entry["task"] == "gridgov.jobs.run" and tuple(entry["args"]) == ("audit-seal",)
    assert (JOB_BY_NAME["audit-seal"].every or 0) <= 60
    write(2)
    assert run_scheduled_job.apply(args=("audit-seal",)).get() == {"sealed": 0, "checkpoints": 1}
    assert chain.latest_checkpoint()["last_seq"] == 2  # type: ignore[index]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_app_role_cannot_change_the_audit_log_or_switch_its_guard_off():
    """The documented two-role set-up (audit/roles.py), on the test database: the app role writes audit rows
    through audit_record but cannot UPDATE, DELETE or TRUNCATE them, nor disable the trigger."""
    import uuid

    from gridgov.audit.roles import app_role_sql

    role = f"gg_app_{uuid.uuid4().hex[:8]}"
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        for sql in app_role_sql(role):
            cursor.execute(sql)
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        try:
            row = write(1)[0]  # the app's own writes go through
            for sql in (f"UPDATE {table} SET action = 'x' WHERE id = {row.pk}",  # noqa: S608
                        f"DELETE FROM {table} WHERE id = {row.pk}",  # noqa: S608
                        f"TRUNCATE {table}",
                        f"ALTER TABLE {table} DISABLE TRIGGER audit_auditevent_guard",
                        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                        f"DROP TRIGGER audit_auditevent_guard ON {table}",
                        "SET session_replication_role = replica",
                        "DELETE FROM audit_auditarchive"):
                with pytest.raises(DatabaseError, match=r"permission denied|must be owner"), transaction.atomic():
                    cursor.execute(sql)
        finally:
            cursor.execute("RESET ROLE")
    assert list(chain.verify()) == []


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_seal_every_row_once_in_one_unbroken_chain():
    """Four connections writing audit rows at once: the head row serialises them; no seq is given twice or
    skipped, every link holds, and the checkpoint after the last commit vouches for all of them."""
    import threading

    from django.db import connections

    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(25):
                with transaction.atomic():
                    audit_record(action="test.concurrent", actor=None, now=T0, detail={"k": k, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 101))
    assert list(chain.verify()) == []
    assert chain.latest_checkpoint()["last_seq"] == 100  # type: ignore[index]
