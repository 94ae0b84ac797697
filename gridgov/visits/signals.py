"""A visit's photo file goes with its row: when a visit is deleted (a household purged after the
retention period takes its visits with it, by cascade), the file is deleted once the transaction commits,
so a rolled-back purge keeps both."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Visit


@receiver(post_delete, sender=Visit, dispatch_uid="visits.photo_file_goes_with_the_visit")
def _photo_file_goes_with_the_visit(sender: Any, instance: Visit, **kwargs: Any) -> None:
    if not instance.photo:
        return
    storage, name = instance.photo.storage, instance.photo.name
    transaction.on_commit(lambda: storage.delete(name))
