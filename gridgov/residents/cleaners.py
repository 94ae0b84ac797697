"""Cleaning what cadres type about a resident (a form, an API call, an Excel row): choices given by
code or Chinese label, a location, a phone, dates as people write them, and the one-ID-number-per-
person and one-head-per-household rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from gridgov.access.models import User
from gridgov.access.scope import Scope, scope_for
from gridgov.core import cleaning
from gridgov.core.errors import CommonError, ValidationFailed

from . import idnumber, phones, protected
from .errors import ResidentError
from .models import Education, Gender, Health, Household, PoliticalStatus, Relation, Residency, Resident, ResidentStatus

_NAME_RE = re.compile(r"^[\u3400-\u9fff\u00b7·A-Za-z\s]{1,40}$")


@functools.cache
def _choice_lookup(choices: Any) -> dict[str, str]:
    """Text → code for a choices class: the code, its label, or one part of a label like 儿媳/女婿
    (the first choice that matches wins, as in the order of the class)."""
    lookup: dict[str, str] = {}
    for code, name in choices.choices:
        for text in (str(code), str(name), *str(name).split("/")):
            lookup.setdefault(text, str(code))
    return lookup


def clean_choice(value: Any, choices: Any, *, field: str, label: str, default: str | None = None) -> str:
    """Accept the code or its Chinese label (what cadres type in Excel)."""
    text = "" if value is None else str(value).strip()
    if not text:
        if default is not None:
            return default
        raise ValidationFailed(f"请填写{label}。", field=field, reason=CommonError.REQUIRED)
    code = _choice_lookup(choices).get(text)
    if code is not None:
        return code
    allowed = "、".join(str(n) for _, n in choices.choices)
    raise ValidationFailed(f"{label}「{text}」无效，可选：{allowed}。", field=field, reason=CommonError.NOT_A_CHOICE)


def clean_location(lat: Any, lng: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    if lat in (None, "") or lng in (None, ""):
        raise ValidationFailed("经度和纬度要同时填写。", field="location", reason=ResidentError.LOCATION_INCOMPLETE)
    try:
        flat, flng = float(lat), float(lng)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("经纬度应为数字。", field="location", reason=CommonError.MALFORMED) from exc
    if not (-90 <= flat <= 90 and -180 <= flng <= 180):
        raise ValidationFailed("位置坐标超出范围。", field="location", reason=CommonError.OUT_OF_RANGE)
    return flat, flng


def clean_phone(value: Any) -> str:
    return phones.normalize(value)


@dataclass(frozen=True)
class CleanResident:
    name: str
    id_info: idnumber.IdInfo
    phone: str
    fields: dict[str, Any]


def written_date(value: Any, *, field: str, label: str) -> dt.date | None:
    """A date as cadres write it (2024-05-01, 2024/5/1, 2024年5月1日), or None when empty."""
    return cleaning.optional_date(value, field=field, label=label, message=f"{label}格式应为 2024-05-01。", loose=True)


def clean_resident(data: dict[str, Any], *, today: dt.date, partial: bool = False) -> CleanResident:
    """Validate a resident's fields (as typed in a form, an API call or an Excel row)."""
    name = cleaning.text(data.get("name"), field="name", label="姓名", max_length=40, required=True)
    if not _NAME_RE.match(name):
        raise ValidationFailed("姓名只能包含汉字、字母和间隔号（·）。", field="name", reason=CommonError.MALFORMED)
    info = idnumber.parse(data.get("id_number"), today=today)
    birth = written_date(data.get("birth_date"), field="birth_date", label="出生日期")
    if birth is not None and birth != info.birth_date:
        raise ValidationFailed(
            f"出生日期 {birth:%Y-%m-%d} 与身份证号中的 {info.birth_date:%Y-%m-%d} 不一致。",
            field="birth_date", reason=ResidentError.BIRTH_DATE_MISMATCH)
    gender_raw = data.get("gender")
    if gender_raw not in (None, ""):
        gender = clean_choice(gender_raw, Gender, field="gender", label="性别")
        if gender != info.gender:
            raise ValidationFailed(
                f"性别「{Gender(gender).label}」与身份证号（{Gender(info.gender).label}）不一致。",
                field="gender", reason=ResidentError.GENDER_MISMATCH)
    fields: dict[str, Any] = {
        "relation": clean_choice(data.get("relation"), Relation, field="relation", label="与户主关系"),
        "ethnicity": cleaning.text(data.get("ethnicity") or "汉族", field="ethnicity", label="民族", max_length=20),
        "political_status": clean_choice(data.get("political_status"), PoliticalStatus, field="political_status",
                                         label="政治面貌", default=PoliticalStatus.MASSES),
        "residency": clean_choice(data.get("residency"), Residency, field="residency", label="人口类型",
                                  default=Residency.REGISTERED),
        "away_place": cleaning.text(data.get("away_place"), field="away_place", label="外出地点", max_length=100),
        "away_since": written_date(data.get("away_since"), field="away_since", label="外出时间"),
        "education": clean_choice(data.get("education"), Education, field="education", label="文化程度", default=""),
        "occupation": cleaning.text(data.get("occupation"), field="occupation", label="职业", max_length=60),
        "health": clean_choice(data.get("health"), Health, field="health", label="健康状况", default=Health.HEALTHY),
        "disability": cleaning.text(data.get("disability"), field="disability", label="残疾类别/等级", max_length=60),
        "notes": cleaning.text(data.get("notes"), field="notes", label="备注", max_length=2000),
    }
    if fields["residency"] == Residency.AWAY and not fields["away_place"]:
        raise ValidationFailed("外出务工人员请填写外出地点。", field="away_place",
                               reason=ResidentError.AWAY_PLACE_MISSING)
    if fields["away_since"] is not None and fields["away_since"] > today:
        raise ValidationFailed("外出时间不能晚于今天。", field="away_since", reason=CommonError.OUT_OF_RANGE)
    return CleanResident(name=name, id_info=info, phone=clean_phone(data.get("phone")), fields=fields)


def duplicate_message(existing: Resident, actor_scope: Scope | None) -> str:
    """Name the household that already holds this ID number, masked, and only if the actor may see it."""
    household = existing.household
    if actor_scope is None or actor_scope.covers(household.unit.path):
        return (f"该身份证号已登记在「{household.unit.name}」{household.address}{household.house_number}"
                f"（户号 {household.pk}，{protected.mask_name(existing.name)}）。")
    return "该身份证号已在其他辖区的台账中登记。"


def refuse_duplicate(id_index: str, *, actor: User | None, exclude_id: int | None = None) -> None:
    existing = (
        Resident.dangerously_unscoped.select_related("household__unit")
        .filter(id_index=id_index, status=ResidentStatus.ACTIVE).exclude(pk=exclude_id or 0).first()
    )
    if existing is not None:
        raise ValidationFailed(duplicate_message(existing, scope_for(actor) if actor else None), field="id_number",
                               reason=ResidentError.ID_NUMBER_TAKEN)


def refuse_second_head(household: Household, relation: str, exclude_id: int | None = None) -> None:
    if relation == Relation.HEAD and Resident.dangerously_unscoped.filter(
        household=household, relation=Relation.HEAD, status=ResidentStatus.ACTIVE
    ).exclude(pk=exclude_id or 0).exists():
        raise ValidationFailed("该户已有户主，一户只能有一位户主。", field="relation", reason=ResidentError.SECOND_HEAD)
