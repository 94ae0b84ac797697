"""Reporters' names and phones become ciphertext + masked form; existing rows are sealed in place."""

import contextlib

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from gridgov.cases.reporter import mask_phone
    from gridgov.core import fieldcrypto
    from gridgov.residents import phones
    from gridgov.residents.protected import mask_name

    Case = apps.get_model("cases", "Case")
    rows = Case._default_manager.exclude(reporter_name="", reporter_phone="").only("pk", "reporter_name", "reporter_phone")
    batch = []
    for case in rows.iterator(chunk_size=2000):
        name, phone = case.reporter_name, case.reporter_phone
        with contextlib.suppress(Exception):  # an old free-text phone is kept as typed, sealed all the same
            phone = phones.normalize(phone)
        case.reporter_name_cipher = fieldcrypto.encrypt(name, purpose="case.reporter_name") if name else ""
        case.reporter_name_masked = mask_name(name) if name else ""
        case.reporter_phone_cipher = fieldcrypto.encrypt(phone, purpose="case.reporter_phone") if phone else ""
        case.reporter_phone_masked = mask_phone(phone) if len(phone) >= 8 else "*" * len(phone)
        batch.append(case)
        if len(batch) >= 2000:
            Case._default_manager.bulk_update(batch, ["reporter_name_cipher", "reporter_name_masked",
                                             "reporter_phone_cipher", "reporter_phone_masked"])
            batch = []
    if batch:
        Case._default_manager.bulk_update(batch, ["reporter_name_cipher", "reporter_name_masked", "reporter_phone_cipher",
                                         "reporter_phone_masked"])


def unseal_existing(apps, schema_editor):
    from gridgov.core import fieldcrypto

    Case = apps.get_model("cases", "Case")
    rows = Case._default_manager.exclude(reporter_name_cipher="", reporter_phone_cipher="")
    for case in rows.iterator(chunk_size=2000):
        case.reporter_name = (fieldcrypto.decrypt(case.reporter_name_cipher, purpose="case.reporter_name")
                              if case.reporter_name_cipher else "")
        case.reporter_phone = (fieldcrypto.decrypt(case.reporter_phone_cipher, purpose="case.reporter_phone")
                               if case.reporter_phone_cipher else "")
        case.save(update_fields=["reporter_name", "reporter_phone"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_household")]

    operations = [
        migrations.AddField("case", "reporter_name_cipher", models.TextField(blank=True, default="", editable=False),
                            preserve_default=False),
        migrations.AddField("case", "reporter_name_masked",
                            models.CharField("反映人", max_length=40, blank=True, default="", editable=False),
                            preserve_default=False),
        migrations.AddField("case", "reporter_phone_cipher", models.TextField(blank=True, default="", editable=False),
                            preserve_default=False),
        migrations.AddField("case", "reporter_phone_masked",
                            models.CharField("联系电话", max_length=20, blank=True, default="", editable=False),
                            preserve_default=False),
        migrations.RunPython(seal_existing, unseal_existing, elidable=False),
        migrations.RemoveField("case", "reporter_name"),
        migrations.RemoveField("case", "reporter_phone"),
    ]
