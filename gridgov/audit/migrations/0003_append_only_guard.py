"""On PostgreSQL the database itself refuses changes to the audit log: no DELETE, and no UPDATE
except filling a row's seal (seq, prev_hash, row_hash) once."""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION audit_auditevent_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'the audit log is append-only';
  END IF;
  IF OLD.seq IS NOT NULL
     OR (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'row_hash') <> (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'row_hash') THEN
    RAISE EXCEPTION 'the audit log is append-only';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditevent_guard ON audit_auditevent;
CREATE TRIGGER audit_auditevent_guard BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION audit_auditevent_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS audit_auditevent_guard ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_hash_chain")]
    operations = [migrations.RunPython(forwards, backwards)]
