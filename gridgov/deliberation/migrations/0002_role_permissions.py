"""Give the built-in roles of an existing deployment the deliberation permissions (a new database
gets them from access 0003, which reads the live role catalogue)."""

from django.db import migrations

PERMS = {"deliberation.view", "deliberation.propose", "deliberation.manage"}


def grant(apps, schema_editor):
    from gridgov.access.roles import ROLE_DEFS

    Role = apps.get_model("access", "Role")
    for r in ROLE_DEFS:
        wanted = set(r.permissions) & PERMS
        if not wanted:
            continue
        role = Role.objects.filter(code=r.code, builtin=True).first()
        if role is not None and not wanted <= set(role.permissions):
            role.permissions = sorted(set(role.permissions) | wanted)
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0001_initial"), ("access", "0003_builtin_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
