"""The (actor, at) index the hourly view alert needs (residents.watch.viewed_in_last_hour sums one
actor's last hour on every ledger read). On PostgreSQL it is built CONCURRENTLY: the audit log of a
running county is large and every request writes to it, so the build must not block inserts."""

from django.db import migrations, models

INDEX = models.Index(fields=["actor", "at"], name="audit_actor_at_idx")


def forwards(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_actor_at_idx ON audit_auditevent (actor_id, at)")
    else:
        schema_editor.add_index(model, INDEX)


def backwards(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS audit_actor_at_idx")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("audit", "0003_append_only_guard")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="auditevent", index=INDEX)],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
