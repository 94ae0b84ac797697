"""Sealing and revealing the protected fields (ID number, phone) of the ledger.

A protected value is stored three ways: ciphertext (AES-GCM, key outside the database), a
keyed blind index for exact search, and its masked form for display. Only `reveal_*` returns
plaintext, and only the unmask services call it for a user.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridgov.core import fieldcrypto

from . import idnumber, phones

ID_PURPOSE = "resident.id_number"
PHONE_PURPOSE = "ledger.phone"


@dataclass(frozen=True)
class Sealed:
    cipher: str
    index: str
    masked: str


EMPTY = Sealed("", "", "")


def seal_id(number: str, *, index: str = "") -> Sealed:
    """`index`: the blind index when the caller already computed it (an import checks it first)."""
    return Sealed(
        cipher=fieldcrypto.encrypt(number, purpose=ID_PURPOSE),
        index=index or id_index(number),
        masked=idnumber.mask(number),
    )


def id_index(number: str) -> str:
    return fieldcrypto.blind_index(number, purpose=ID_PURPOSE)


def seal_phone(phone: str) -> Sealed:
    if not phone:
        return EMPTY
    return Sealed(
        cipher=fieldcrypto.encrypt(phone, purpose=PHONE_PURPOSE),
        index=phone_index(phone),
        masked=phones.mask(phone),
    )


def phone_index(phone: str) -> str:
    return fieldcrypto.blind_index(phone, purpose=PHONE_PURPOSE)


def reveal_id(cipher: str) -> str:
    return fieldcrypto.decrypt(cipher, purpose=ID_PURPOSE)


def reveal_phone(cipher: str) -> str:
    return fieldcrypto.decrypt(cipher, purpose=PHONE_PURPOSE) if cipher else ""


def mask_name(name: str) -> str:
    """王*, 欧阳** : a child's name for viewers without the right to see minors' data."""
    return name[:1] + "*" * max(len(name) - 1, 1)
