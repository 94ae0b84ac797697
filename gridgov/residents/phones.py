"""Chinese phone numbers: mobiles (11 digits starting 13-19) and landlines (area code + 7-8 digits)."""

from __future__ import annotations

import re
import unicodedata

from gridgov.core.errors import CommonError, ValidationFailed

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LOCAL = re.compile(r"^[1-9][0-9]{6,7}$")


def normalize(raw: object) -> str:
    """Canonical text: a mobile as 11 digits, a landline as 0352-8123456; '' for empty."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        raw = f"{raw:.0f}" if raw.is_integer() else str(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        return ""
    digits = re.sub(r"[\s\-()（）]", "", text)
    if re.fullmatch(r"[0-9]{11}\.0", digits):
        digits = digits[:-2]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not digits.isdecimal():
        raise ValidationFailed("联系电话只能包含数字（座机可写成 0352-8123456）。", field="phone",
                               reason=CommonError.MALFORMED)
    if _MOBILE.match(digits):
        return digits
    if digits.startswith("0") and len(digits) > 3 and digits[1] != "0":
        # Area codes: 2 digits after the 0 for the big cities (010, 02x), 3 elsewhere.
        cut = 3 if digits[1] in "12" else 4
        if _LOCAL.match(digits[cut:]):
            return f"{digits[:cut]}-{digits[cut:]}"
    if digits.startswith("1"):
        raise ValidationFailed("手机号应为 11 位，以 13～19 开头。", field="phone", reason=CommonError.MALFORMED)
    raise ValidationFailed("联系电话不是有效的手机号或座机号（座机请带区号，如 0352-8123456）。", field="phone",
                           reason=CommonError.MALFORMED)


def mask(phone: str) -> str:
    """138****5678 for mobiles, 0352-****3456 for landlines."""
    if not phone:
        return ""
    if "-" in phone:
        area, local = phone.split("-", 1)
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_typed(raw: str) -> str:
    """Mask what someone typed as a phone, valid or not (for echoing a search)."""
    digits = re.sub(r"\D", "", raw or "")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)
