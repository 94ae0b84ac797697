"""Changing the audit log behind the application's back, as an attacker with the database's rights would:
on PostgreSQL as the table's owner with the guard trigger switched off, on SQLite with the guard
triggers dropped (DDL is transactional there: the test's rollback puts them back)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from gridgov.audit.models import AuditEvent

SQLITE_GUARDS = ("audit_auditevent_no_update", "audit_auditevent_no_delete")


def behind_the_back(sql: str, params: list[Any], *, how: str = "replica") -> None:
    """Run `sql` ({table} = the audit table) past the guard. On PostgreSQL `how` is "replica" (a superuser's
    session_replication_role) or "disable" (the owner's ALTER TABLE … DISABLE TRIGGER)."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if how == "disable":
                # (the test's own inserts leave deferred foreign-key checks pending; ALTER TABLE wants none)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_auditevent_guard")
            else:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql.format(table=table), params)
            if how == "disable":
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_auditevent_guard")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            for name in SQLITE_GUARDS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(sql.format(table=table), params)


def unsealed_row(at: dt.datetime, action: str = "test.unsealed") -> AuditEvent:
    """A row written without audit_record (so without a seal): what a forger inserting rows would leave."""
    event = AuditEvent(at=at, action=action, detail={})
    AuditEvent.objects.bulk_create([event])
    return AuditEvent.objects.get(action=action, seq__isnull=True)
