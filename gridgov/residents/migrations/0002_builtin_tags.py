from django.db import migrations


def load(apps, schema_editor):
    from gridgov.residents.catalogue import BUILTIN_TAGS

    Tag = apps.get_model("residents", "Tag")
    for i, (code, name, applies_to, sensitivity, cadence) in enumerate(BUILTIN_TAGS):
        Tag.objects.update_or_create(
            code=code,
            defaults={"name": name, "applies_to": applies_to, "sensitivity": sensitivity,
                      "visit_cadence_days": cadence, "sort_order": (i + 1) * 10},
        )


def unload(apps, schema_editor):
    from gridgov.residents.catalogue import BUILTIN_TAGS

    apps.get_model("residents", "Tag").objects.filter(code__in=[t[0] for t in BUILTIN_TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("residents", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
