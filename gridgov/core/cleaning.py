"""Input cleaning: turning what a person typed (a form field, a JSON value, an Excel cell) into a value
or a clear Chinese `ValidationFailed` naming the field.

Two families:
- the *strict* cleaners (`text`, `integer`, `optional_integer`, `date`, `optional_date`, `choice`) are
  for services: bad input is refused with a message built from the field's Chinese label;
- the *lenient* readers (`query_int`, `query_date`) are for interfaces reading query strings and
  hidden form fields: bad input reads as "not given" (None), never as an error.

The wording of a message is part of the behaviour (tests and people read it); where a caller has its
own wording for a badly formed date it passes `message=`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import CommonError, ValidationFailed

# A query-string id or version longer than this is not a number anyone typed (and would overflow a
# 64-bit column).
QUERY_INT_MAX_DIGITS = 18


def text(value: Any, *, field: str, label: str, max_length: int, required: bool = False,
         reject_nul: bool = False) -> str:
    """The stripped text; `请填写{label}。` when required and empty, `{label}不能超过 N 个字。` when too long.
    `reject_nul` refuses a NUL character (PostgreSQL cannot store one) with its own message."""
    cleaned = "" if value is None else str(value).strip()
    if reject_nul and "\x00" in cleaned:
        raise ValidationFailed(f"{label}中含有无法处理的字符。", field=field, reason=CommonError.MALFORMED)
    if required and not cleaned:
        raise ValidationFailed(f"请填写{label}。", field=field, reason=CommonError.REQUIRED)
    if len(cleaned) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字。", field=field, reason=CommonError.TOO_LONG)
    return cleaned


def integer(value: Any, *, field: str, message: str) -> int:
    """A whole number; `message` when the value is missing or is not one."""
    if isinstance(value, bool):
        raise ValidationFailed(message, field=field, reason=CommonError.MALFORMED)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(message, field=field, reason=CommonError.MALFORMED) from None


def optional_integer(value: Any, *, field: str, message: str) -> int | None:
    """None for a missing value (None or ""), else as `integer`."""
    if value is None or value == "":
        return None
    return integer(value, field=field, message=message)


def _bad_date(label: str) -> str:
    return f"{label}格式不正确，应为 2026-03-02 这样的日期。"


def optional_date(value: Any, *, field: str, label: str, message: str | None = None,
                  required: bool = False, loose: bool = False) -> dt.date | None:
    """A date from a date, a datetime (its date) or ISO text (2026-03-02); None when empty unless
    `required` (then `请填写{label}。`); `message` (default: a sample date) when badly formed.
    `loose` also reads what people type in Excel: 2024/5/1, 2024.5.1, 2024年5月1日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    cleaned = "" if value is None else str(value).strip()
    if not cleaned:
        if required:
            raise ValidationFailed(f"请填写{label}。", field=field, reason=CommonError.REQUIRED)
        return None
    if loose:
        cleaned = cleaned.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
        cleaned = "-".join(p.zfill(2) for p in cleaned.split("-"))
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        raise ValidationFailed(message or _bad_date(label), field=field, reason=CommonError.MALFORMED) from None


def date(value: Any, *, field: str, label: str, message: str | None = None) -> dt.date:
    """A required date (see `optional_date`)."""
    cleaned = optional_date(value, field=field, label=label, message=message, required=True)
    assert cleaned is not None
    return cleaned


def choice(value: Any, choices: Any, *, field: str, label: str) -> str:
    """One of a Django choices class's codes; `请选择{label}。` otherwise."""
    cleaned = "" if value is None else str(value).strip()
    if cleaned not in choices.values:
        raise ValidationFailed(f"请选择{label}。", field=field, reason=CommonError.NOT_A_CHOICE)
    return cleaned


def query_int(value: Any) -> int | None:
    """A non-negative whole number from a query string or hidden field, or None (missing, not digits,
    or absurdly long)."""
    cleaned = "" if value is None else str(value).strip()
    return int(cleaned) if cleaned.isdecimal() and len(cleaned) <= QUERY_INT_MAX_DIGITS else None


def query_date(value: Any) -> dt.date | None:
    """An ISO date (2026-03-02) from a query string or form field, or None when missing or malformed."""
    try:
        return dt.date.fromisoformat("" if value is None else str(value).strip())
    except ValueError:
        return None
