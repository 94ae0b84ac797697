from django.db import migrations


def seed(apps, schema_editor):
    from gridgov.cases.catalogue import seed_categories
    from gridgov.cases.models import default_deadlines

    seed_categories(apps.get_model("cases", "Category"), default_deadlines())


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
