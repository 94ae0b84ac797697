"""The audit log is hash-chained: a changed, removed or inserted sealed row is found by audit_verify."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from gridgov.audit.chain import seal, verify
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from tests.world import T0

pytestmark = pytest.mark.django_db


def write(n: int) -> list[AuditEvent]:
    return [audit_record(action="test.event", actor=None, now=T0, detail={"n": i}) for i in range(n)]


def raw(sql: str, params: list) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The guard trigger stops even the application's own role; an attacker with the
            # database owner's rights can switch it off, which is what the chain is for.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql.format(table=table), params)


def test_sealing_links_every_row_and_is_idempotent():
    write(5)
    assert seal() == 5
    assert seal() == 0
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]
    assert list(verify()) == []
    write(2)
    assert seal() == 2
    assert list(verify()) == []
    call_command("audit_verify")


def test_a_changed_sealed_row_is_found():
    rows = write(4)
    seal()
    raw("UPDATE {table} SET action = %s WHERE id = %s", ["test.forged", rows[2].pk])
    breaks = list(verify())
    assert [b.event_id for b in breaks] == [rows[2].pk]
    assert "changed" in breaks[0].reason
    with pytest.raises(CommandError):
        call_command("audit_verify")


def test_a_removed_sealed_row_is_found():
    rows = write(4)
    seal()
    raw("DELETE FROM {table} WHERE id = %s", [rows[1].pk])
    breaks = list(verify())
    assert breaks and breaks[0].event_id == rows[2].pk
    assert "missing" in breaks[0].reason


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_updates_and_deletes_of_audit_rows():
    rows = write(2)
    seal()
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):  # noqa: S608
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [rows[0].pk])
    # An unsealed row may not be altered either, except by sealing it.
    fresh = write(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET detail = '{{}}' WHERE id = %s", [fresh.pk])  # noqa: S608
    assert seal() == 1
