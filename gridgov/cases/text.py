"""Cleaning of the free text a person types into a case form (titles, notes, reasons)."""

from __future__ import annotations

from typing import Any

from gridgov.core.errors import ValidationFailed


def text_field(value: Any, *, field_name: str, label: str, required: bool, max_len: int) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}。", field=field_name)
    if len(text) > max_len:
        raise ValidationFailed(f"{label}不能超过 {max_len} 个字。", field=field_name)
    return text
