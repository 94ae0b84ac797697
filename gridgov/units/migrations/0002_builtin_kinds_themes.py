from django.db import migrations


def load(apps, schema_editor):
    from gridgov.units.catalogue import BUILTIN_KINDS, BUILTIN_THEMES

    UnitKind = apps.get_model("units", "UnitKind")
    Theme = apps.get_model("units", "Theme")
    for code, name, base in BUILTIN_KINDS:
        UnitKind.objects.update_or_create(code=code, defaults={"name": name, "base": base, "builtin": True})
    for code, name in BUILTIN_THEMES:
        Theme.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("units", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
