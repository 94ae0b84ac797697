from django.db import migrations


def load(apps, schema_editor):
    from gridgov.access.roles import ROLE_DEFS

    Role = apps.get_model("access", "Role")
    for r in ROLE_DEFS:
        Role.objects.update_or_create(
            code=r.code,
            defaults={"name": r.name, "permissions": sorted(r.permissions), "admin_duty": r.admin_duty,
                      "field_worker": r.field_worker, "builtin": True},
        )


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
