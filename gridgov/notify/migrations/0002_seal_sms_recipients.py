"""Outbox rows keep phone numbers only as ciphertext: seal the `to` of rows written before."""

from django.db import migrations


def seal(apps, schema_editor):
    from gridgov.core import fieldcrypto

    Outbox = apps.get_model("notify", "Outbox")
    for row in Outbox._default_manager.filter(kind="sms").iterator(chunk_size=500):
        to = (row.payload or {}).get("to")
        if not to:
            continue
        payload = {k: v for k, v in row.payload.items() if k != "to"}
        payload["to_sealed"] = [fieldcrypto.encrypt(str(p), purpose="notify.sms_to") for p in to]
        row.payload = payload
        row.save(update_fields=["payload"])


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop, elidable=False)]
