"""Sealing the personal data of a mediation: parties' names, phones, ID numbers, session notes and
the agreement's terms. Each value is bound to its purpose (core.fieldcrypto), so a ciphertext copied
into another column does not decrypt. Only `reveal_*` returns plaintext: the audited unmask service,
the detail page's sealed notes for the mediators, and the printed agreement (audited)."""

from __future__ import annotations

from gridgov.core import fieldcrypto
from gridgov.residents import idnumber, phones
from gridgov.residents.protected import mask_name

NAME_PURPOSE = "mediation.party_name"
PHONE_PURPOSE = "mediation.party_phone"
ID_PURPOSE = "mediation.party_id_number"
NOTES_PURPOSE = "mediation.session_notes"
TERMS_PURPOSE = "mediation.agreement_terms"


def seal(value: str, purpose: str) -> str:
    return fieldcrypto.encrypt(value, purpose=purpose) if value else ""


def reveal(cipher: str, purpose: str) -> str:
    return fieldcrypto.decrypt(cipher, purpose=purpose) if cipher else ""


def party_fields(*, name: str, phone: str, id_number: str) -> dict[str, str]:
    """Model field values for a party (phone and ID number already checked and normalised)."""
    return {
        "name_cipher": seal(name, NAME_PURPOSE),
        "name_masked": mask_name(name),
        "phone_cipher": seal(phone, PHONE_PURPOSE),
        "phone_masked": phones.mask(phone) if phone else "",
        "id_cipher": seal(id_number, ID_PURPOSE),
        "id_masked": idnumber.mask(id_number) if id_number else "",
    }
