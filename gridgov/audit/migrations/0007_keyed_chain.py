"""The keyed chain: each row names the key its HMAC seal was made with (key_id), a chain head row for
sealing at write time, the guard triggers on SQLite too, and the rows not yet sealed sealed with the key."""

from django.db import migrations, models

# The guard of 0005 with key_id among the seal's columns (filled once, with seq, prev_hash and row_hash),
# and the chain head following each sealed row (a cache for audit_record's next seal).
PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_auditevent_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF coalesce(current_setting('gridgov.audit_archive', true), '') = 'on'
       AND OLD.seq IS NOT NULL
       AND OLD.at < now() - interval '184 days'
       AND EXISTS (SELECT 1 FROM audit_auditarchive a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
  END IF;
  IF OLD.seq IS NOT NULL
     OR (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'row_hash' - 'key_id')
        <> (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'row_hash' - 'key_id') THEN
    RAISE EXCEPTION 'the audit log is append-only';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_chain_head_follow() RETURNS trigger AS $$
BEGIN
  UPDATE audit_auditchainhead SET last_hash = NEW.row_hash WHERE id = 1 AND seq = NEW.seq;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_chain_head_follow ON audit_auditevent;
CREATE TRIGGER audit_chain_head_follow AFTER INSERT OR UPDATE OF seq ON audit_auditevent
  FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_chain_head_follow();
"""
PG_UNGUARD = """
DROP TRIGGER IF EXISTS audit_chain_head_follow ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_chain_head_follow();
"""

_CONTENT = ("at", "action", "actor_id", "actor_username", "role", "unit_path", "object_type", "object_id",
            "outcome", "ip", "request_id", "detail", "id")
# SQLite had no guard at all: the same rules as PostgreSQL's, as triggers. The archive job's DELETE goes
# through only while its gate row exists (it inserts and removes it in its transaction).
SQLITE_GUARD = [
    "CREATE TABLE IF NOT EXISTS audit_archive_gate (id integer PRIMARY KEY)",
    "CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent "
    "WHEN OLD.seq IS NOT NULL OR " + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT) + " "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
    "WHEN NOT (EXISTS (SELECT 1 FROM audit_archive_gate) AND OLD.seq IS NOT NULL "
    "AND julianday(OLD.at) < julianday('now') - 184 "
    "AND EXISTS (SELECT 1 FROM audit_auditarchive a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq)) "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_auditarchive_no_update BEFORE UPDATE ON audit_auditarchive "
    "BEGIN SELECT RAISE(ABORT, 'audit archives are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_auditarchive_no_delete BEFORE DELETE ON audit_auditarchive "
    "BEGIN SELECT RAISE(ABORT, 'audit archives are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_chain_head_follow_insert AFTER INSERT ON audit_auditevent "
    "WHEN NEW.seq IS NOT NULL "
    "BEGIN UPDATE audit_auditchainhead SET last_hash = NEW.row_hash WHERE id = 1 AND seq = NEW.seq; END",
    "CREATE TRIGGER IF NOT EXISTS audit_chain_head_follow_update AFTER UPDATE OF seq ON audit_auditevent "
    "WHEN OLD.seq IS NULL AND NEW.seq IS NOT NULL "
    "BEGIN UPDATE audit_auditchainhead SET last_hash = NEW.row_hash WHERE id = 1 AND seq = NEW.seq; END",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update", "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS audit_auditarchive_no_update", "DROP TRIGGER IF EXISTS audit_auditarchive_no_delete",
    "DROP TRIGGER IF EXISTS audit_chain_head_follow_insert", "DROP TRIGGER IF EXISTS audit_chain_head_follow_update",
    "DROP TABLE IF EXISTS audit_archive_gate",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_GUARD)
    elif vendor == "sqlite":
        for sql in SQLITE_GUARD:
            schema_editor.execute(sql)
    # Rows written before the keyed chain, not yet sealed by the old job: sealed now with the key
    # (needs GRIDGOV_AUDIT_KEY when there are any), and the chain head made.
    from gridgov.audit import chain

    while chain.seal():
        pass
    chain._ensure_head()


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UNGUARD)
    elif vendor == "sqlite":
        for sql in SQLITE_UNGUARD:
            schema_editor.execute(sql)



class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_actor_index_in_actor_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(default=0)),
                ('last_hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': '审计链头',
                'verbose_name_plural': '审计链头',
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='key_id',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.RunPython(forwards, backwards),
    ]

