from django.db import migrations


def seed(apps, schema_editor):
    from gridgov.cases.catalogue import CATEGORY_TREE
    from gridgov.cases.models import default_deadlines

    Category = apps.get_model("cases", "Category")
    by_code = {}
    for order, (code, name, parent, level, dept_kind, on_site, escalate) in enumerate(CATEGORY_TREE):
        obj, _ = Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name, "parent": by_code.get(parent), "lowest_level": level, "department_kind": dept_kind,
                "on_site": on_site, "escalate_when_overdue": escalate, "deadlines": default_deadlines(),
                "sort_order": order,
            },
        )
        by_code[code] = obj


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
