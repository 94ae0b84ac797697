"""The city office role (市网格办), at a prefecture unit over its counties."""

from django.db import migrations


def add(apps, schema_editor):
    from gridgov.access.roles import ROLE_DEFS

    Role = apps.get_model("access", "Role")
    r = next(d for d in ROLE_DEFS if d.code == "city_office")
    Role.objects.get_or_create(code=r.code, defaults={
        "name": r.name, "permissions": sorted(r.permissions), "admin_duty": r.admin_duty,
        "field_worker": r.field_worker, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("access", "0009_access_stamp")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
