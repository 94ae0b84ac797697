# The reference stamp (cases/reference.py): one row, replaced by triggers in the same transaction as any
# change to cases_category or cases_calendaroverride, so that every app process sees such a change on its
# next read of the stamp. Triggers, not signals: queryset updates, bulk loads (COPY) and psql change the
# tables without Django's signals.

from django.db import migrations, models

TABLES = ("cases_category", "cases_calendaroverride")

# A random 62-bit value, never a counter: a rolled-back change (a test's transaction) returns the old
# value, and a counter would then give the same value to the next, different change.
PG_TOUCH = """
CREATE OR REPLACE FUNCTION cases_reference_touch() RETURNS trigger AS $$
BEGIN
  INSERT INTO cases_referencestamp (id, value) VALUES (1, floor(random() * 4611686018427387903)::bigint)
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGER = """
DROP TRIGGER IF EXISTS {table}_reference ON {table};
CREATE TRIGGER {table}_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION cases_reference_touch();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS {table}_reference_{op} AFTER {op} ON {table} BEGIN
  INSERT INTO cases_referencestamp (id, value) VALUES (1, random() & 4611686018427387903)
    ON CONFLICT (id) DO UPDATE SET value = excluded.value;
END;
"""
SQLITE_OPS = ("insert", "update", "delete")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_TOUCH)
        for table in TABLES:
            schema_editor.execute(PG_TRIGGER.format(table=table))
        schema_editor.execute("INSERT INTO cases_referencestamp (id, value) "
                              "VALUES (1, floor(random() * 4611686018427387903)::bigint)")
    elif vendor == "sqlite":
        for table in TABLES:
            for op in SQLITE_OPS:
                schema_editor.execute(SQLITE_TRIGGER.format(table=table, op=op))
        schema_editor.execute("INSERT INTO cases_referencestamp (id, value) VALUES (1, random() & 4611686018427387903)")
    else:  # pragma: no cover - GridGov runs on PostgreSQL and SQLite; elsewhere no stamp row: no caching
        pass


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_reference ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS cases_reference_touch()")
    elif vendor == "sqlite":
        for table in TABLES:
            for op in SQLITE_OPS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_reference_{op}")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_measure_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReferenceStamp',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.BigIntegerField()),
            ],
            options={
                'verbose_name': '基础数据戳',
                'verbose_name_plural': '基础数据戳',
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
