"""The notice permissions (notice.view, notice.reach, notice.send, notice.approve) join the built-in roles.

Only added, never removed: a security admin's own edits to a built-in role stay as they are."""

from django.db import migrations

NEW = {"notice.view", "notice.reach", "notice.send", "notice.approve"}


def add(apps, schema_editor):
    from gridgov.access.roles import ROLE_DEFS

    Role = apps.get_model("access", "Role")
    for r in ROLE_DEFS:
        role = Role.objects.filter(code=r.code).first()
        if role is None:
            continue
        wanted = set(role.permissions) | (set(r.permissions) & NEW)
        if wanted != set(role.permissions):
            role.permissions = sorted(wanted)
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_notices"), ("access", "0009_access_stamp")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
