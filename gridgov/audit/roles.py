"""The two-role set-up on PostgreSQL: the owner role owns the schema and runs migrations (and the daily
audit archive, the only DELETE of audit rows); the app role, which the web servers and workers connect
as, may read and write the application's tables but only SELECT and INSERT the audit log and its
archive records. Not being the owner, it cannot ALTER TABLE … DISABLE TRIGGER, drop the guard, or set
session_replication_role: the guard trigger holds against it. `manage.py audit_db_roles APP_ROLE`
prints this SQL for the owner to run (docs/security.md)."""

from __future__ import annotations

AUDIT_TABLES = ("audit_auditevent", "audit_auditarchive")
HEAD_TABLE = "audit_auditchainhead"


def app_role_sql(app_role: str, owner_role: str | None = None, schema: str = "public") -> list[str]:
    """GRANT/REVOKE statements giving `app_role` what the running app needs and no more on the audit log.
    Run them as the owner after each migration that adds tables (or rely on the default privileges)."""
    q = f'"{app_role}"'
    owner = f' FOR ROLE "{owner_role}"' if owner_role else ""
    audit = ", ".join(AUDIT_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {q}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {q}",
        f"ALTER DEFAULT PRIVILEGES{owner} IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q}",
        f"ALTER DEFAULT PRIVILEGES{owner} IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {q}",
        # The audit log and its archive records: read and append only.
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {audit} FROM {q}",
        f"REVOKE DELETE, TRUNCATE, TRIGGER, REFERENCES ON {HEAD_TABLE} FROM {q}",
    ]
