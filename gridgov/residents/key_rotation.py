"""Key rotation for the personal data of the ledger (ID numbers and phones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from gridgov.audit.services import audit_record

from . import protected
from .models import Household, Resident


@dataclass(frozen=True)
class RotationResult:
    residents: int
    households: int


def rotate_field_keys(*, now: dt.datetime, everything: bool = False, batch: int = 2000) -> RotationResult:
    """Re-encrypt every ID number and phone sealed with an older key, and recompute their blind
    indexes with the current index key. `everything` also redoes rows already on the current field
    key (after the index key changed). Batches commit one by one, so a run can be resumed."""
    from gridgov.core import fieldcrypto

    counts = {"residents": 0, "households": 0}

    def stale(cipher: str) -> bool:
        return bool(cipher) and (everything or fieldcrypto.needs_rotation(cipher))

    last = 0
    while True:
        with transaction.atomic():
            rows = list(Resident.dangerously_unscoped.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
            if not rows:
                break
            last = rows[-1].pk
            changed = []
            for r in rows:
                if stale(r.id_cipher) or stale(r.phone_cipher):
                    sid = protected.seal_id(protected.reveal_id(r.id_cipher))
                    sph = protected.seal_phone(protected.reveal_phone(r.phone_cipher))
                    r.id_cipher, r.id_index = sid.cipher, sid.index
                    r.phone_cipher, r.phone_index = sph.cipher, sph.index
                    changed.append(r)
            Resident.dangerously_unscoped.bulk_update(changed, ["id_cipher", "id_index", "phone_cipher", "phone_index"])
            counts["residents"] += len(changed)
    last = 0
    while True:
        with transaction.atomic():
            households = list(
                Household.dangerously_unscoped.select_for_update().filter(pk__gt=last).order_by("pk")[:batch]
            )
            if not households:
                break
            last = households[-1].pk
            changed_h = []
            for h in households:
                if stale(h.phone_cipher):
                    sph = protected.seal_phone(protected.reveal_phone(h.phone_cipher))
                    h.phone_cipher, h.phone_index = sph.cipher, sph.index
                    changed_h.append(h)
            Household.dangerously_unscoped.bulk_update(changed_h, ["phone_cipher", "phone_index"])
            counts["households"] += len(changed_h)
    with transaction.atomic():
        audit_record(
            action="fieldcrypto.rotate",
            actor=None,
            now=now,
            role="system",
            detail={**counts, "key_id": fieldcrypto.keys().current_id, "everything": everything},
        )
    return RotationResult(**counts)
