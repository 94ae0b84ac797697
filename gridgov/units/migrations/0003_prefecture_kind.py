"""The prefecture (市/州) base kind and its built-in unit kind, above the county."""

from django.db import migrations, models


def add(apps, schema_editor):
    UnitKind = apps.get_model("units", "UnitKind")
    UnitKind.objects.get_or_create(code="prefecture", defaults={"name": "市（州）", "base": "prefecture",
                                                                 "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("units", "0002_builtin_kinds_themes")]
    operations = [
        migrations.AlterField(
            model_name="unitkind", name="base",
            field=models.CharField(choices=[("prefecture", "市（州）"), ("county", "县（区）"), ("township", "乡镇"),
                                            ("subdistrict", "街道"), ("area", "片区"), ("village", "行政村"),
                                            ("community", "社区"), ("grid", "网格"), ("micro_grid", "微网格")],
                                   max_length=20, verbose_name="基本类型"),
        ),
        migrations.RunPython(add, migrations.RunPython.noop),
    ]
