"""Resident ID numbers (居民身份证号码, GB 11643-1999).

18 characters: a 6-digit region code, the birth date YYYYMMDD, a 3-digit sequence whose
parity gives the gender (odd: male), and an ISO 7064 MOD 11-2 check character (0-9 or X).
The legacy 15-digit form (YYMMDD, no check character, all born in the 1900s) is upgraded.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass

from gridgov.core.errors import CommonError, ValidationFailed
from gridgov.residents.errors import ResidentError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level codes of GB/T 2260 (71 台湾, 81 香港, 82 澳门 appear on permits, 83 台湾居民居住证).
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
     "71", "81", "82", "83"}
)
_RE18 = re.compile(r"^[0-9]{17}[0-9X]$")
_RE15 = re.compile(r"^[0-9]{15}$")
# Minors under this age are sensitive personal information (个人信息保护法 Art. 28).
SENSITIVE_MINOR_AGE = 14


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"
    upgraded_from_15: bool = False


def check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("check_char needs the first 17 characters")
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK[total % 11]


def normalize(raw: object) -> str:
    """Text as typed or pasted: full-width digits, spaces, lower-case x, Excel's floats."""
    if raw is None:
        return ""
    if isinstance(raw, str) and _RE18.fullmatch(raw):
        return raw  # already clean (most of an import): skip the normalizing below
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        # Excel stored the number as a number: 15 digits survive a float, 18 do not (the last
        # ones come back as zeros), so those are refused like scientific notation.
        if float(raw) >= 1e16:
            return f"{float(raw):E}"
        raw = f"{raw:.0f}" if float(raw).is_integer() else str(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip().upper().replace(" ", "").replace("-", "")
    if re.fullmatch(r"[0-9.]+E\+?[0-9]+", text):
        # Scientific notation: the digits are gone; say so instead of guessing.
        return text
    return text.removesuffix(".0") if re.fullmatch(r"[0-9]{15,18}\.0", text) else text


def _birth(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValidationFailed("身份证号中的出生日期无效。", field="id_number",
                               reason=ResidentError.ID_NUMBER_BIRTH_DATE) from exc


def parse(raw: object, *, today: dt.date) -> IdInfo:
    """Validate and return the 18-character number with what it says; ValidationFailed otherwise."""
    text = normalize(raw)
    if not text:
        raise ValidationFailed("请填写身份证号。", field="id_number", reason=CommonError.REQUIRED)
    if "E" in text and not text.endswith("X"):
        raise ValidationFailed("身份证号被 Excel 存成了科学计数法，数字已丢失：请把该列设为文本后重新填写。",
                               field="id_number", reason=ResidentError.ID_NUMBER_SCIENTIFIC)
    upgraded = False
    if _RE15.match(text):
        body = text[:6] + "19" + text[6:]
        text = body + check_char(body)
        upgraded = True
    elif len(text) != 18:
        raise ValidationFailed(f"身份证号应为 18 位（现为 {len(text)} 位）。", field="id_number",
                               reason=ResidentError.ID_NUMBER_LENGTH)
    if not _RE18.match(text):
        raise ValidationFailed("身份证号只能由数字组成，最后一位可以是 X。", field="id_number",
                               reason=CommonError.MALFORMED)
    if text[:2] not in PROVINCE_CODES or text[2:6] == "0000":
        raise ValidationFailed("身份证号的前 6 位不是有效的地区代码。", field="id_number",
                               reason=ResidentError.ID_NUMBER_REGION)
    birth = _birth(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    if birth > today or birth.year < 1890:
        raise ValidationFailed("身份证号中的出生日期不合理。", field="id_number",
                               reason=ResidentError.ID_NUMBER_BIRTH_DATE)
    if not upgraded and check_char(text[:17]) != text[17]:
        raise ValidationFailed("身份证号校验位不正确，请核对是否输错。", field="id_number",
                               reason=ResidentError.ID_NUMBER_CHECKSUM)
    gender = "M" if int(text[16]) % 2 == 1 else "F"
    return IdInfo(number=text, birth_date=birth, gender=gender, upgraded_from_15=upgraded)


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_sensitive_minor(birth: dt.date | None, today: dt.date) -> bool:
    return birth is not None and age_on(birth, today) < SENSITIVE_MINOR_AGE


def mask(number: str) -> str:
    """1401**********123X: the region's first four and the last four characters."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def make(region: str, birth: dt.date, sequence: int) -> str:
    """A valid number (the world generator and tests): odd sequence = male."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + check_char(body)
