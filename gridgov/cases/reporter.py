"""The reporter's name and phone: personal data, sealed like the ledger's protected fields.

Stored as AES-GCM ciphertext (gridgov.core.fieldcrypto, bound to its purpose) and a masked form
for display (王*, 138****5678). Nothing searches by them, so there is no blind index. Only
`reveal_*` returns plaintext: the audited unmask service (`services.case_reporter_unmask`) for a
person with the right and a reason, and the system when it sends the reporter an SMS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridgov.core import fieldcrypto
from gridgov.core.errors import ValidationFailed
from gridgov.residents import phones
from gridgov.residents.protected import mask_name

if TYPE_CHECKING:
    from .models import Case

NAME_PURPOSE = "case.reporter_name"
PHONE_PURPOSE = "case.reporter_phone"


def clean_phone(raw: str) -> str:
    """A reporter's phone in canonical form ('' for none); a clear Chinese message otherwise."""
    try:
        return phones.normalize(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="reporter_phone") from exc


def mask_phone(phone: str) -> str:
    return phones.mask(phone) if phone else ""


def sealed_fields(*, name: str, phone: str) -> dict[str, str]:
    """Model field values for a reporter's name and (already cleaned) phone."""
    return {
        "reporter_name_cipher": fieldcrypto.encrypt(name, purpose=NAME_PURPOSE) if name else "",
        "reporter_name_masked": mask_name(name) if name else "",
        "reporter_phone_cipher": fieldcrypto.encrypt(phone, purpose=PHONE_PURPOSE) if phone else "",
        "reporter_phone_masked": mask_phone(phone),
    }


def seal(case: Case, *, name: str, phone: str) -> None:
    for key, value in sealed_fields(name=name, phone=phone).items():
        setattr(case, key, value)


def reveal_name(case: Case) -> str:
    return fieldcrypto.decrypt(case.reporter_name_cipher, purpose=NAME_PURPOSE) if case.reporter_name_cipher else ""


def reveal_phone(case: Case) -> str:
    return (fieldcrypto.decrypt(case.reporter_phone_cipher, purpose=PHONE_PURPOSE)
            if case.reporter_phone_cipher else "")
