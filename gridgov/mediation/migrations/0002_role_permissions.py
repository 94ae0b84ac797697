"""Give the built-in roles their mediation permissions (mediation.view / register / handle / unmask).

A new database gets them from access 0003 (which reads the catalogue); this adds them to the roles
of an existing deployment without touching any other permission a security admin may have changed."""

from django.db import migrations

MEDIATION_PERMS = ("mediation.view", "mediation.register", "mediation.handle", "mediation.unmask")


def load(apps, schema_editor):
    from gridgov.access.roles import ROLE_BY_CODE

    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(builtin=True):
        wanted = {p for p in MEDIATION_PERMS if p in ROLE_BY_CODE.get(role.code, ROLE_BY_CODE["mediator"]).permissions}
        if role.code not in ROLE_BY_CODE or wanted <= set(role.permissions):
            continue
        role.permissions = sorted(set(role.permissions) | wanted)
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial"), ("access", "0003_builtin_roles")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
