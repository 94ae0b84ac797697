"""Write paths of the household ledger. Each takes keyword-only `actor` and `now`, runs in one
transaction and writes its history row (HouseholdEvent) and audit row with the change.

`actor=None` is the system itself (the world generator, jobs). Plaintext ID numbers and phones
never reach a history row, an audit row or a log line: only masked forms do.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.clock import local
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.units import locate
from gridgov.units.models import Unit

from . import idnumber, phones, protected
from .models import (
    AssignmentKind,
    Education,
    Gender,
    Health,
    Household,
    HouseholdAssignment,
    HouseholdEvent,
    HouseholdStatus,
    PoliticalStatus,
    Relation,
    Residency,
    Resident,
    ResidentStatus,
    Sensitivity,
    Tag,
    TagAssignment,
    TagTarget,
)

Action = HouseholdEvent.Action
_NAME_RE = re.compile(r"^[\u3400-\u9fff\u00b7·A-Za-z\s]{1,40}$")
UNMASK_REASON_MIN = 4


# --- guards -----------------------------------------------------------------------------------
def _role(actor: Any, perm: str, path: str) -> str:
    """Check `actor` may `perm` at `path` (NotFound when out of sight); return the role for audit."""
    if actor is None:
        return "system"
    scope = scope_for(actor)
    scope.require(perm, path)
    return scope.role_at(path)


def _household_for_update(household_id: int) -> Household:
    household = Household.unscoped.select_for_update().select_related("unit").filter(pk=household_id).first()
    if household is None:
        raise NotFound()
    return household


def _resident_for_update(resident_id: int) -> Resident:
    resident = (
        Resident.unscoped.select_for_update().select_related("household__unit").filter(pk=resident_id).first()
    )
    if resident is None:
        raise NotFound()
    return resident


def _active(household: Household) -> None:
    if household.status != HouseholdStatus.ACTIVE:
        raise ValidationFailed(f"该户已{household.get_status_display()}，不能再修改。")


def _check_version(obj: Household | Resident, expected: int | None, what: str) -> None:
    if expected is not None and obj.version != expected:
        raise Conflict(f"该{what}已被他人修改，请刷新后重试。", details={"current_version": obj.version})


def _event(household: Household, action: str, *, actor: Any, now: dt.datetime, resident: Resident | None = None,
           other: Household | None = None, changes: dict[str, Any] | None = None, sensitive: bool = False) -> None:
    HouseholdEvent.unscoped.create(household=household, resident=resident, other_household=other, action=action,
                                   at=now, actor=actor, changes=changes or {}, sensitive=sensitive)


def _bump(household: Household, now: dt.datetime) -> None:
    Household.unscoped.filter(pk=household.pk).update(version=F("version") + 1, updated_at=now)
    household.version += 1
    household.updated_at = now


# --- cleaning input -----------------------------------------------------------------------------
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
        raise ValidationFailed(f"请填写{label}。", field=field)
    code = _choice_lookup(choices).get(text)
    if code is not None:
        return code
    allowed = "、".join(str(n) for _, n in choices.choices)
    raise ValidationFailed(f"{label}「{text}」无效，可选：{allowed}。", field=field)


def clean_location(lat: Any, lng: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    if lat in (None, "") or lng in (None, ""):
        raise ValidationFailed("经度和纬度要同时填写。", field="location")
    try:
        flat, flng = float(lat), float(lng)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("经纬度应为数字。", field="location") from exc
    if not (-90 <= flat <= 90 and -180 <= flng <= 180):
        raise ValidationFailed("位置坐标超出范围。", field="location")
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
        raise ValidationFailed("姓名只能包含汉字、字母和间隔号（·）。", field="name")
    info = idnumber.parse(data.get("id_number"), today=today)
    birth = written_date(data.get("birth_date"), field="birth_date", label="出生日期")
    if birth is not None and birth != info.birth_date:
        raise ValidationFailed(
            f"出生日期 {birth:%Y-%m-%d} 与身份证号中的 {info.birth_date:%Y-%m-%d} 不一致。", field="birth_date")
    gender_raw = data.get("gender")
    if gender_raw not in (None, ""):
        gender = clean_choice(gender_raw, Gender, field="gender", label="性别")
        if gender != info.gender:
            raise ValidationFailed(
                f"性别「{Gender(gender).label}」与身份证号（{Gender(info.gender).label}）不一致。", field="gender")
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
        raise ValidationFailed("外出务工人员请填写外出地点。", field="away_place")
    if fields["away_since"] is not None and fields["away_since"] > today:
        raise ValidationFailed("外出时间不能晚于今天。", field="away_since")
    return CleanResident(name=name, id_info=info, phone=clean_phone(data.get("phone")), fields=fields)


def duplicate_message(existing: Resident, actor_scope: Scope | None) -> str:
    """Name the household that already holds this ID number, masked, and only if the actor may see it."""
    household = existing.household
    if actor_scope is None or actor_scope.covers(household.unit.path):
        return (f"该身份证号已登记在「{household.unit.name}」{household.address}{household.house_number}"
                f"（户号 {household.pk}，{protected.mask_name(existing.name)}）。")
    return "该身份证号已在其他辖区的台账中登记。"


def _refuse_duplicate(id_index: str, *, actor: Any, exclude_id: int | None = None) -> None:
    existing = (
        Resident.unscoped.select_related("household__unit")
        .filter(id_index=id_index, status=ResidentStatus.ACTIVE).exclude(pk=exclude_id or 0).first()
    )
    if existing is not None:
        raise ValidationFailed(duplicate_message(existing, scope_for(actor) if actor else None), field="id_number")


def _refuse_second_head(household: Household, relation: str, exclude_id: int | None = None) -> None:
    if relation == Relation.HEAD and Resident.unscoped.filter(
        household=household, relation=Relation.HEAD, status=ResidentStatus.ACTIVE
    ).exclude(pk=exclude_id or 0).exists():
        raise ValidationFailed("该户已有户主，一户只能有一位户主。", field="relation")


# --- households -----------------------------------------------------------------------------------
def _deepest_unit(actor: Any, unit_id: int | None, lat: float | None, lng: float | None) -> Unit:
    """The unit a household belongs to: found by point-in-grid when a location is given."""
    if lat is not None and lng is not None:
        located = locate.unit_id_at(lat, lng)
        if located is None:
            raise ValidationFailed("该位置不在任何网格范围内，请核对坐标或直接选择网格。", field="location")
        unit_id = located
    if unit_id is None:
        raise ValidationFailed("请选择所属网格。", field="unit")
    unit = Unit.unscoped.filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise ValidationFailed("所选网格不存在。", field="unit")
    if actor is not None:
        scope = scope_for(actor)
        if not scope.can(P.HOUSEHOLD_EDIT, unit.path):
            raise ValidationFailed(f"「{unit.name}」不在您可以登记的范围内。", field="unit")
    if Unit.unscoped.filter(parent=unit, is_active=True).exists():
        raise ValidationFailed(f"「{unit.name}」下还有下级网格，户要登记在最末一级网格。", field="unit")
    return unit


@transaction.atomic
def household_create(
    *, actor: Any, now: dt.datetime, unit_id: int | None = None, address: str, house_number: str = "",
    lat: Any = None, lng: Any = None, phone: str = "", notes: str = "",
) -> Household:
    flat, flng = clean_location(lat, lng)
    unit = _deepest_unit(actor, unit_id, flat, flng)
    role = _role(actor, P.HOUSEHOLD_EDIT, unit.path)
    sealed = protected.seal_phone(clean_phone(phone))
    household = Household.unscoped.create(
        unit=unit, address=cleaning.text(address, field="address", label="地址", max_length=200, required=True),
        house_number=cleaning.text(house_number, field="house_number", label="门牌号", max_length=40),
        lat=flat, lng=flng, phone_cipher=sealed.cipher, phone_index=sealed.index, phone_masked=sealed.masked,
        notes=cleaning.text(notes, field="notes", label="备注", max_length=2000), created_at=now, updated_at=now,
    )
    _event(household, Action.CREATED, actor=actor, now=now, changes={"grid": unit.name})
    audit_record(action="household.create", actor=actor, now=now, obj=household, unit_path=unit.path, role=role)
    return household


_HOUSEHOLD_FIELDS = {"address", "house_number", "phone", "notes", "lat", "lng"}


@transaction.atomic
def household_update(*, actor: Any, now: dt.datetime, household_id: int, expected_version: int | None = None,
                     **changes: Any) -> Household:
    unknown = set(changes) - _HOUSEHOLD_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    _check_version(household, expected_version, "户")
    _active(household)
    diff: dict[str, Any] = {}
    if "address" in changes:
        changes["address"] = cleaning.text(changes["address"], field="address", label="地址", max_length=200,
                                        required=True)
    if "house_number" in changes:
        changes["house_number"] = cleaning.text(changes["house_number"], field="house_number", label="门牌号",
                                             max_length=40)
    if "notes" in changes:
        changes["notes"] = cleaning.text(changes["notes"], field="notes", label="备注", max_length=2000)
    for key in ("address", "house_number", "notes"):
        if key in changes and getattr(household, key) != changes[key]:
            diff[key] = [getattr(household, key), changes[key]]
            setattr(household, key, changes[key])
    if "phone" in changes:
        phone = clean_phone(changes["phone"])
        if (protected.phone_index(phone) if phone else "") != household.phone_index:
            sealed = protected.seal_phone(phone)
            diff["phone"] = [household.phone_masked, sealed.masked]
            household.phone_cipher, household.phone_index, household.phone_masked = (
                sealed.cipher, sealed.index, sealed.masked)
    moved_to: Unit | None = None
    if "lat" in changes or "lng" in changes:
        flat, flng = clean_location(changes.get("lat", household.lat), changes.get("lng", household.lng))
        if (flat, flng) != (household.lat, household.lng):
            diff["location"] = [[household.lat, household.lng], [flat, flng]]
            household.lat, household.lng = flat, flng
            if flat is not None and flng is not None:
                target = _deepest_unit(actor, None, flat, flng)
                if target.pk != household.unit_id:
                    moved_to = target
    if not diff:
        return household
    if moved_to is not None:
        diff["unit"] = [household.unit.name, moved_to.name]
        household.unit = moved_to
    household.version += 1
    household.updated_at = now
    household.save()
    _event(household, Action.MOVED if moved_to else Action.UPDATED, actor=actor, now=now, changes=diff)
    audit_record(action="household.update", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=role, detail={"fields": sorted(diff)})
    return household


@transaction.atomic
def household_move(*, actor: Any, now: dt.datetime, household_id: int, unit_id: int) -> Household:
    """Move a household to another grid (re-zoning, or it was filed in the wrong one)."""
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    _active(household)
    target = _deepest_unit(actor, unit_id, None, None)
    if target.pk == household.unit_id:
        return household
    old = household.unit
    household.unit = target
    household.version += 1
    household.updated_at = now
    household.save(update_fields=["unit", "version", "updated_at"])
    _event(household, Action.MOVED, actor=actor, now=now, changes={"unit": [old.name, target.name]})
    audit_record(action="household.move", actor=actor, now=now, obj=household, unit_path=target.path, role=role,
                 detail={"from": old.path, "to": target.path})
    return household


@transaction.atomic
def household_set_status(
    *, actor: Any, now: dt.datetime, household_id: int, status: str, reason: str = ""
) -> Household:
    """A household moves out or is dissolved; its active members leave the ledger with it."""
    if status not in (HouseholdStatus.MOVED_OUT, HouseholdStatus.DISSOLVED):
        raise ValidationFailed("只能把户设为「已迁出」或「已销户」。", field="status")
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    _active(household)
    reason = cleaning.text(reason, field="reason", label="原因", max_length=200, required=True)
    members = Resident.unscoped.filter(household=household, status=ResidentStatus.ACTIVE)
    count = members.update(status=ResidentStatus.MOVED_OUT, updated_at=now, version=F("version") + 1)
    household.status = status
    household.version += 1
    household.updated_at = now
    household.save(update_fields=["status", "version", "updated_at"])
    _event(household, Action.STATUS, actor=actor, now=now,
           changes={"status": HouseholdStatus(status).label, "reason": reason, "members": count})
    audit_record(action="household.status", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=role, detail={"status": status})
    return household


@transaction.atomic
def household_merge(*, actor: Any, now: dt.datetime, household_id: int, into_id: int) -> Household:
    """合户: every active member of one household joins another; the first is closed as merged.
    Its head becomes a member (relation 其他) of the receiving household."""
    if household_id == into_id:
        raise ValidationFailed("不能把一户并入它自己。")
    first, second = sorted([household_id, into_id])
    locked = {h.pk: h for h in [_household_for_update(first), _household_for_update(second)]}
    source, target = locked[household_id], locked[into_id]
    role = _role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    _role(actor, P.HOUSEHOLD_EDIT, target.unit.path)
    _active(source)
    _active(target)
    members = list(Resident.unscoped.filter(household=source, status=ResidentStatus.ACTIVE))
    for m in members:
        m.household = target
        if m.relation == Relation.HEAD:
            m.relation = Relation.OTHER
        m.version += 1
        m.updated_at = now
    Resident.unscoped.bulk_update(members, ["household", "relation", "version", "updated_at"])
    source.status = HouseholdStatus.MERGED
    source.merged_into = target
    source.version += 1
    source.updated_at = now
    source.save(update_fields=["status", "merged_into", "version", "updated_at"])
    _bump(target, now)
    names = [protected.mask_name(m.name) for m in members]
    _event(source, Action.MERGED_INTO, actor=actor, now=now, other=target, changes={"members": names})
    _event(target, Action.MERGED_FROM, actor=actor, now=now, other=source, changes={"members": names})
    audit_record(action="household.merge", actor=actor, now=now, obj=target, unit_path=target.unit.path, role=role,
                 detail={"from": source.pk, "into": target.pk, "members": len(members)})
    return target


@transaction.atomic
def household_split(
    *, actor: Any, now: dt.datetime, household_id: int, resident_ids: Iterable[int], new_head_id: int,
    address: str | None = None, house_number: str = "",
) -> Household:
    """分户: some members leave to form a new household in the same grid, with one of them as head."""
    source = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    _active(source)
    ids = set(resident_ids) | {new_head_id}
    members = list(Resident.unscoped.select_for_update().filter(household=source, status=ResidentStatus.ACTIVE))
    leaving = [m for m in members if m.pk in ids]
    if len(leaving) != len(ids):
        raise ValidationFailed("只能从本户的在册成员中分出。", field="residents")
    if len(leaving) == len(members):
        raise ValidationFailed("不能把全部成员都分出去；请改用「调整网格」或修改户信息。", field="residents")
    new = Household.unscoped.create(
        unit=source.unit,
        address=cleaning.text(address if address is not None else source.address, field="address", label="地址",
                           max_length=200, required=True),
        house_number=cleaning.text(house_number, field="house_number", label="门牌号", max_length=40),
        created_at=now, updated_at=now,
    )
    head_left = False
    for m in leaving:
        head_left = head_left or m.relation == Relation.HEAD
        m.household = new
        m.relation = Relation.HEAD if m.pk == new_head_id else Relation.OTHER
        m.version += 1
        m.updated_at = now
    # The new head must take the head row before the constraint sees two heads in one household.
    Resident.unscoped.bulk_update(leaving, ["household", "relation", "version", "updated_at"])
    _bump(source, now)
    names = [protected.mask_name(m.name) for m in leaving]
    _event(source, Action.SPLIT, actor=actor, now=now, other=new, changes={"members": names,
                                                                            "head_left": head_left})
    _event(new, Action.SPLIT_FROM, actor=actor, now=now, other=source, changes={"members": names})
    audit_record(action="household.split", actor=actor, now=now, obj=new, unit_path=source.unit.path, role=role,
                 detail={"from": source.pk, "members": len(leaving)})
    return new


# --- residents ----------------------------------------------------------------------------------
def _today(now: dt.datetime) -> dt.date:
    return local(now).date()


@transaction.atomic
def resident_add(*, actor: Any, now: dt.datetime, household_id: int, **data: Any) -> Resident:
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    _active(household)
    clean = clean_resident(data, today=_today(now))
    sealed_id = protected.seal_id(clean.id_info.number)
    _refuse_duplicate(sealed_id.index, actor=actor)
    _refuse_second_head(household, clean.fields["relation"])
    sealed_phone = protected.seal_phone(clean.phone)
    try:
        with transaction.atomic():
            resident = Resident.unscoped.create(
                household=household, name=clean.name, gender=clean.id_info.gender,
                birth_date=clean.id_info.birth_date, id_cipher=sealed_id.cipher, id_index=sealed_id.index,
                id_masked=sealed_id.masked, phone_cipher=sealed_phone.cipher, phone_index=sealed_phone.index,
                phone_masked=sealed_phone.masked, created_at=now, updated_at=now, **clean.fields,
            )
    except IntegrityError as exc:
        # Two people registering the same number at the same moment: the unique index decides.
        raise ValidationFailed("该身份证号已在台账中登记。", field="id_number") from exc
    _bump(household, now)
    _event(household, Action.MEMBER_ADDED, actor=actor, now=now, resident=resident,
           changes={"name": resident.name, "relation": resident.get_relation_display(),
                    "id_number": sealed_id.masked},
           sensitive=idnumber.is_sensitive_minor(resident.birth_date, _today(now)))
    audit_record(action="resident.create", actor=actor, now=now, obj=resident, unit_path=household.unit.path,
                 role=role, detail={"upgraded_15": clean.id_info.upgraded_from_15})
    return resident


@transaction.atomic
def resident_update(*, actor: Any, now: dt.datetime, resident_id: int, expected_version: int | None = None,
                    **data: Any) -> Resident:
    """Edit a resident. Fields not given keep their value; the ID number is re-checked when given."""
    resident = _resident_for_update(resident_id)
    household = resident.household
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    _check_version(resident, expected_version, "人员信息")
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册，不能修改。")
    if ({"health", "disability"} & set(data) and actor is not None
            and not scope_for(actor).can(P.SENSITIVE_TAGS, household.unit.path)):
        # Health and disability are sensitive: whoever may not see them may not overwrite them either.
        raise PermissionDenied("修改健康状况和残疾信息需要查看敏感信息的权限，请联系网格长或网格办。")
    current = {f: getattr(resident, f) for f in (
        "name", "relation", "ethnicity", "political_status", "residency", "away_place", "away_since", "education",
        "occupation", "health", "disability", "notes")}
    current["id_number"] = protected.reveal_id(resident.id_cipher)
    current["phone"] = protected.reveal_phone(resident.phone_cipher)
    merged = {**current, **{k: v for k, v in data.items() if k in current or k in ("birth_date", "gender")}}
    unknown = set(data) - set(merged)
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    clean = clean_resident(merged, today=_today(now))
    diff: dict[str, Any] = {}
    if clean.id_info.number != current["id_number"]:
        sealed = protected.seal_id(clean.id_info.number)
        _refuse_duplicate(sealed.index, actor=actor, exclude_id=resident.pk)
        diff["id_number"] = [resident.id_masked, sealed.masked]
        resident.id_cipher, resident.id_index, resident.id_masked = sealed.cipher, sealed.index, sealed.masked
        resident.birth_date, resident.gender = clean.id_info.birth_date, clean.id_info.gender
    if clean.phone != current["phone"]:
        sealed = protected.seal_phone(clean.phone)
        diff["phone"] = [resident.phone_masked, sealed.masked]
        resident.phone_cipher, resident.phone_index, resident.phone_masked = sealed.cipher, sealed.index, sealed.masked
    if clean.name != resident.name:
        diff["name"] = [resident.name, clean.name]
        resident.name = clean.name
    for key, value in clean.fields.items():
        if getattr(resident, key) != value:
            diff[key] = [str(getattr(resident, key) or ""), str(value or "")]
            setattr(resident, key, value)
    if not diff:
        return resident
    if "relation" in diff:
        _refuse_second_head(household, resident.relation, exclude_id=resident.pk)
    resident.version += 1
    resident.updated_at = now
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        raise ValidationFailed("该身份证号已在台账中登记。", field="id_number") from exc
    _bump(household, now)
    sensitive = idnumber.is_sensitive_minor(resident.birth_date, _today(now)) or bool(
        {"health", "disability"} & set(diff))
    _event(household, Action.MEMBER_UPDATED, actor=actor, now=now, resident=resident,
           changes={"fields": sorted(diff), "name": resident.name}, sensitive=sensitive)
    audit_record(action="resident.update", actor=actor, now=now, obj=resident, unit_path=household.unit.path,
                 role=role, detail={"fields": sorted(diff)})
    return resident


@transaction.atomic
def resident_move(*, actor: Any, now: dt.datetime, resident_id: int, to_household_id: int, relation: str) -> Resident:
    """A resident leaves one household for another (marriage, moving in with children…)."""
    resident = _resident_for_update(resident_id)
    source = resident.household
    target = _household_for_update(to_household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    _role(actor, P.HOUSEHOLD_EDIT, target.unit.path)
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册。")
    if target.pk == source.pk:
        raise ValidationFailed("该人员已在这一户。", field="household")
    _active(target)
    relation = clean_choice(relation, Relation, field="relation", label="在新户中的关系")
    _refuse_second_head(target, relation)
    resident.household = target
    resident.relation = relation
    resident.version += 1
    resident.updated_at = now
    resident.save(update_fields=["household", "relation", "version", "updated_at"])
    _bump(source, now)
    _bump(target, now)
    masked = protected.mask_name(resident.name)
    _event(source, Action.MEMBER_OUT, actor=actor, now=now, resident=resident, other=target,
           changes={"name": masked})
    _event(target, Action.MEMBER_IN, actor=actor, now=now, resident=resident, other=source,
           changes={"name": masked, "relation": resident.get_relation_display()})
    audit_record(action="resident.move", actor=actor, now=now, obj=resident, unit_path=target.unit.path, role=role,
                 detail={"from": source.pk, "to": target.pk})
    return resident


@transaction.atomic
def resident_set_status(*, actor: Any, now: dt.datetime, resident_id: int, status: str, reason: str = "") -> Resident:
    if status not in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED):
        raise ValidationFailed("只能把人员设为「已迁出」或「已故」。", field="status")
    resident = _resident_for_update(resident_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, resident.household.unit.path)
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册。")
    resident.status = status
    resident.version += 1
    resident.updated_at = now
    resident.save(update_fields=["status", "version", "updated_at"])
    TagAssignment.unscoped.filter(resident=resident, end_date__isnull=True).update(end_date=_today(now))
    _bump(resident.household, now)
    _event(resident.household, Action.MEMBER_OUT, actor=actor, now=now, resident=resident,
           changes={"name": protected.mask_name(resident.name), "status": ResidentStatus(status).label,
                    "reason": cleaning.text(reason, field="reason", label="原因", max_length=200)})
    audit_record(action="resident.status", actor=actor, now=now, obj=resident,
                 unit_path=resident.household.unit.path, role=role, detail={"status": status})
    return resident


# --- unmasking --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Revealed:
    id_number: str
    phone: str


def unmask_reason(reason: str) -> str:
    """The reason written for seeing full ID numbers or phones (unmasking, a full export)."""
    return _reason(reason)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < UNMASK_REASON_MIN:
        raise ValidationFailed(f"请写明查看完整信息的原因（至少 {UNMASK_REASON_MIN} 个字）。", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因不能超过 200 个字。", field="reason")
    return reason


@transaction.atomic
def resident_unmask(*, actor: Any, now: dt.datetime, resident_id: int, reason: str) -> Revealed:
    """Show a resident's full ID number and phone to a user holding resident.unmask, for a stated reason.
    Every call is audited; a refused attempt is audited too (in its own transaction)."""
    resident = Resident.unscoped.select_related("household__unit").filter(pk=resident_id).first()
    if resident is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    path = resident.household.unit.path
    if not scope.covers(path):
        raise NotFound()
    if not scope.can(P.RESIDENT_UNMASK, path):
        raise PermissionDenied("您没有查看完整身份证号和电话的权限。")
    reason = _reason(reason)
    revealed = Revealed(id_number=protected.reveal_id(resident.id_cipher),
                        phone=protected.reveal_phone(resident.phone_cipher))
    audit_record(action="resident.unmask", actor=actor, now=now, obj=resident, unit_path=path,
                 role=scope.role_at(path), detail={"reason": reason, "fields": ["id_number", "phone"]})
    return revealed


@transaction.atomic
def household_unmask_phone(*, actor: Any, now: dt.datetime, household_id: int, reason: str) -> str:
    household = Household.unscoped.select_related("unit").filter(pk=household_id).first()
    if household is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not scope.covers(household.unit.path):
        raise NotFound()
    if not scope.can(P.RESIDENT_UNMASK, household.unit.path):
        raise PermissionDenied("您没有查看完整电话的权限。")
    reason = _reason(reason)
    audit_record(action="household.unmask", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=scope.role_at(household.unit.path), detail={"reason": reason, "fields": ["phone"]})
    return protected.reveal_phone(household.phone_cipher)


# --- tags -------------------------------------------------------------------------------------------
@transaction.atomic
def tag_assign(*, actor: Any, now: dt.datetime, tag_code: str, household_id: int | None = None,
               resident_id: int | None = None, start_date: dt.date | None = None, note: str = "") -> TagAssignment:
    tag = Tag.objects.filter(code=tag_code, is_active=True).first()
    if tag is None:
        raise ValidationFailed("请选择有效的标签。", field="tag")
    if (household_id is None) == (resident_id is None):
        raise ValidationFailed("标签要加在一户或一个人上。")
    resident = None
    if resident_id is not None:
        resident = _resident_for_update(resident_id)
        household = resident.household
        if tag.applies_to != TagTarget.RESIDENT:
            raise ValidationFailed(f"「{tag.name}」是户的标签，不能加在人员上。", field="tag")
    else:
        household = _household_for_update(household_id)  # type: ignore[arg-type]
        if tag.applies_to != TagTarget.HOUSEHOLD:
            raise ValidationFailed(f"「{tag.name}」是人员的标签，请加在具体成员上。", field="tag")
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if tag.is_sensitive and actor is not None:
        _role(actor, P.SENSITIVE_TAGS, household.unit.path)
    start = start_date or _today(now)
    if start > _today(now):
        raise ValidationFailed("开始日期不能晚于今天。", field="start_date")
    open_q = TagAssignment.unscoped.filter(tag=tag, end_date__isnull=True)
    if (open_q.filter(resident=resident) if resident else open_q.filter(household=household)).exists():
        raise ValidationFailed(f"已经有「{tag.name}」标签。", field="tag")
    assignment = TagAssignment.unscoped.create(
        tag=tag, household=None if resident else household, resident=resident, start_date=start,
        note=cleaning.text(note, field="note", label="说明", max_length=200), set_by=actor, set_at=now,
    )
    _bump(household, now)
    _event(household, Action.TAGGED, actor=actor, now=now, resident=resident,
           changes={"tag": tag.name, "code": tag.code, "start": start.isoformat()}, sensitive=tag.is_sensitive)
    audit_record(action="tag.assign", actor=actor, now=now, obj=assignment, unit_path=household.unit.path, role=role,
                 detail={"tag": tag.code})
    return assignment


@transaction.atomic
def tag_end(*, actor: Any, now: dt.datetime, assignment_id: int, end_date: dt.date | None = None) -> TagAssignment:
    assignment = (
        TagAssignment.unscoped.select_for_update(of=("self",))
        .select_related("tag", "household__unit", "resident__household__unit")
        .filter(pk=assignment_id).order_by().first()
    )
    if assignment is None:
        raise NotFound()
    household = assignment.household or assignment.resident.household  # type: ignore[union-attr]
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if assignment.tag.is_sensitive and actor is not None:
        scope = scope_for(actor)
        if not scope.can(P.SENSITIVE_TAGS, household.unit.path):
            raise NotFound()  # the actor cannot see this tag at all
    if assignment.end_date is not None:
        raise ValidationFailed("该标签已经结束。")
    end = end_date or _today(now)
    if end < assignment.start_date:
        raise ValidationFailed("结束日期不能早于开始日期。", field="end_date")
    assignment.end_date = end
    assignment.ended_by = actor
    assignment.save(update_fields=["end_date", "ended_by"])
    _bump(household, now)
    _event(household, Action.UNTAGGED, actor=actor, now=now, resident=assignment.resident,
           changes={"tag": assignment.tag.name, "code": assignment.tag.code, "end": end.isoformat()},
           sensitive=assignment.tag.is_sensitive)
    audit_record(action="tag.end", actor=actor, now=now, obj=assignment, unit_path=household.unit.path, role=role,
                 detail={"tag": assignment.tag.code})
    return assignment


# --- the key-group catalogue (重点人群目录) ---------------------------------------------------------------
_TAG_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
CADENCE_MAX_DAYS = 366


def _catalogue_role(actor: Any) -> tuple[str, str]:
    """Who may edit the catalogue: the holders of category.manage (the county office), as for the case
    categories. Returns (role, unit path) for the audit row."""
    if actor is None:
        return "system", ""
    scope = scope_for(actor)
    paths = scope.paths_for(P.CATEGORY_MANAGE)
    if not paths:
        raise PermissionDenied("只有县网格办可以维护重点人群目录。")
    return scope.role_at(paths[0]), paths[0]


def _clean_tag_fields(data: dict[str, Any], *, tag: Tag | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data:
        name = cleaning.text(data["name"], field="name", label="标签名称", max_length=40, required=True)
        if Tag.objects.filter(name=name).exclude(pk=tag.pk if tag else 0).exists():
            raise ValidationFailed(f"已有名为「{name}」的标签。", field="name")
        clean["name"] = name
    if "applies_to" in data:
        clean["applies_to"] = clean_choice(data["applies_to"], TagTarget, field="applies_to", label="适用对象")
    if "sensitivity" in data:
        clean["sensitivity"] = clean_choice(data["sensitivity"], Sensitivity, field="sensitivity", label="敏感级别")
    if "visit_cadence_days" in data:
        raw = data["visit_cadence_days"]
        if raw in (None, ""):
            clean["visit_cadence_days"] = None
        else:
            try:
                days = int(str(raw).strip())
            except ValueError as exc:
                raise ValidationFailed("走访周期应为天数（整数）。", field="visit_cadence_days") from exc
            if not 1 <= days <= CADENCE_MAX_DAYS:
                raise ValidationFailed(f"走访周期应在 1 到 {CADENCE_MAX_DAYS} 天之间，不需要定期走访请留空。",
                                       field="visit_cadence_days")
            clean["visit_cadence_days"] = days
    if "sort_order" in data:
        try:
            order = int(str(data["sort_order"] if data["sort_order"] not in (None, "") else 0).strip())
        except ValueError as exc:
            raise ValidationFailed("排序应为整数。", field="sort_order") from exc
        if not 0 <= order <= 9999:
            raise ValidationFailed("排序应在 0 到 9999 之间。", field="sort_order")
        clean["sort_order"] = order
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    return clean


@transaction.atomic
def tag_create(*, actor: Any, now: dt.datetime, name: str, applies_to: str, sensitivity: str = Sensitivity.NORMAL,
               visit_cadence_days: Any = None, sort_order: Any = None, code: str = "") -> Tag:
    """Add a key group to the catalogue. The code (used in links and by other modules) is made up
    when not given."""
    role, path = _catalogue_role(actor)
    clean = _clean_tag_fields({"name": name, "applies_to": applies_to, "sensitivity": sensitivity,
                               "visit_cadence_days": visit_cadence_days, "sort_order": sort_order}, tag=None)
    code = (code or "").strip()
    if code:
        if not _TAG_CODE_RE.match(code):
            raise ValidationFailed("标签代码只能用小写字母、数字和下划线，以字母开头，2 到 40 位。", field="code")
        if Tag.objects.filter(code=code).exists():
            raise ValidationFailed(f"标签代码「{code}」已被使用。", field="code")
    else:
        code = "tag_" + secrets.token_hex(4)
    if sort_order in (None, ""):
        last = Tag.objects.order_by("-sort_order").values_list("sort_order", flat=True).first() or 0
        clean["sort_order"] = last + 10
    tag = Tag.objects.create(code=code, **clean)
    audit_record(action="tag.catalogue_create", actor=actor, now=now, obj=tag, unit_path=path, role=role,
                 detail={"code": tag.code, "sensitivity": tag.sensitivity, "cadence": tag.visit_cadence_days})
    return tag


@transaction.atomic
def tag_update(*, actor: Any, now: dt.datetime, tag_id: int, **changes: Any) -> Tag:
    """Edit a key group: name, sensitivity, visit cadence, order; `is_active=False` retires it (no new
    tags of it; current ones stay until ended). Making a tag sensitive also hides its past history rows."""
    role, path = _catalogue_role(actor)
    allowed = {"name", "applies_to", "sensitivity", "visit_cadence_days", "sort_order", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
    if tag is None:
        raise NotFound()
    clean = _clean_tag_fields(changes, tag=tag)
    diff = {k: [getattr(tag, k), v] for k, v in clean.items() if getattr(tag, k) != v}
    if not diff:
        return tag
    if "applies_to" in diff and TagAssignment.unscoped.filter(tag=tag).exists():
        raise ValidationFailed(f"「{tag.name}」已经用在户或人员上，不能再改适用对象；请新建一个标签。",
                               field="applies_to")
    old_name = tag.name
    for key, (_, value) in diff.items():
        setattr(tag, key, value)
    tag.save()
    if diff.get("sensitivity", [None, None])[1] == Sensitivity.SENSITIVE:
        # Past history rows of this tag were written as not sensitive: hide them from now on too.
        HouseholdEvent.unscoped.filter(action__in=[Action.TAGGED, Action.UNTAGGED], sensitive=False).filter(
            Q(changes__code=tag.code) | Q(changes__tag=old_name) | Q(changes__tag=tag.name)).update(sensitive=True)
    action = "tag.catalogue_retire" if diff.get("is_active") == [True, False] else "tag.catalogue_update"
    audit_record(action=action, actor=actor, now=now, obj=tag, unit_path=path, role=role,
                 detail={"code": tag.code, "changes": {k: [str(a), str(b)] for k, (a, b) in diff.items()}})
    return tag


# --- who looks after a household ----------------------------------------------------------------------
@transaction.atomic
def household_assign_worker(*, actor: Any, now: dt.datetime, household_id: int, user: Any) -> HouseholdAssignment:
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if not scope_for(user).can(P.HOUSEHOLD_VIEW, household.unit.path):
        raise ValidationFailed(f"{user} 不负责该户所在的网格，不能联系该户。", field="user")
    current = HouseholdAssignment.unscoped.filter(household=household, kind=AssignmentKind.GRID_WORKER,
                                                  ended_at__isnull=True).first()
    if current is not None:
        if current.user_id == user.pk:
            return current
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    assignment = HouseholdAssignment.unscoped.create(household=household, kind=AssignmentKind.GRID_WORKER, user=user,
                                                     started_at=now, set_by=actor)
    _event(household, Action.ASSIGNED, actor=actor, now=now, changes={"grid_worker": str(user)})
    audit_record(action="household.assign", actor=actor, now=now, obj=assignment, unit_path=household.unit.path,
                 role=role, detail={"user": user.pk})
    return assignment


@transaction.atomic
def household_link_party_member(*, actor: Any, now: dt.datetime, household_id: int,
                                 party_member_id: int) -> HouseholdAssignment:
    """党员联系户: a party member of the ledger is linked to a household they look after."""
    household = _household_for_update(household_id)
    role = _role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    member = Resident.unscoped.select_related("household__unit").filter(pk=party_member_id).first()
    if member is None or (actor is not None and not scope_for(actor).covers(member.household.unit.path)):
        raise NotFound()
    if member.political_status not in (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY):
        raise ValidationFailed(f"{member.name} 不是党员，不能作为联系党员。", field="party_member")
    if HouseholdAssignment.unscoped.filter(household=household, party_member=member, ended_at__isnull=True).exists():
        raise ValidationFailed("该党员已联系该户。", field="party_member")
    link = HouseholdAssignment.unscoped.create(household=household, kind=AssignmentKind.PARTY_MEMBER,
                                               party_member=member, started_at=now, set_by=actor)
    _event(household, Action.ASSIGNED, actor=actor, now=now, changes={"party_member": member.name})
    audit_record(action="household.party_link", actor=actor, now=now, obj=link, unit_path=household.unit.path,
                 role=role, detail={"party_member": member.pk})
    return link


@transaction.atomic
def assignment_end(*, actor: Any, now: dt.datetime, assignment_id: int) -> HouseholdAssignment:
    """A grid worker or party member stops looking after a household (history and audit)."""
    link = (HouseholdAssignment.unscoped.select_for_update(of=("self",))
            .select_related("household__unit", "party_member", "user").filter(pk=assignment_id).first())
    if link is None:
        raise NotFound()
    role = _role(actor, P.HOUSEHOLD_EDIT, link.household.unit.path)
    if link.ended_at is None:
        link.ended_at = now
        link.save(update_fields=["ended_at"])
        who = link.party_member.name if link.party_member else str(link.user)
        _event(link.household, Action.ASSIGNED, actor=actor, now=now,
               changes={"ended": AssignmentKind(link.kind).label, "who": who})
        audit_record(action="household.assignment_end", actor=actor, now=now, obj=link,
                     unit_path=link.household.unit.path, role=role, detail={"kind": link.kind})
    return link


@dataclass(frozen=True)
class ContactsResult:
    changed: int
    unchanged: int
    load: int  # households the grid worker or party member looks after now


@transaction.atomic
def contacts_assign(*, actor: Any, now: dt.datetime, household_ids: Iterable[int], worker: Any = None,
                    party_member_id: int | None = None) -> ContactsResult:
    """联系户分配: one grid worker, or one party member, takes on several households at once. All or
    nothing: a household the actor may not edit, or a worker not covering it, refuses the whole batch."""
    ids = sorted(set(household_ids))
    if not ids:
        raise ValidationFailed("请勾选要分配的户。", field="households")
    if (worker is None) == (party_member_id is None):
        raise ValidationFailed("请选择一位网格员或一位党员。")
    changed = unchanged = 0
    for household_id in ids:
        if worker is not None:
            current = HouseholdAssignment.unscoped.filter(household_id=household_id, kind=AssignmentKind.GRID_WORKER,
                                                          ended_at__isnull=True, user=worker).exists()
            if not current:
                household_assign_worker(actor=actor, now=now, household_id=household_id, user=worker)
        else:
            current = HouseholdAssignment.unscoped.filter(household_id=household_id, party_member_id=party_member_id,
                                                          ended_at__isnull=True).exists()
            if not current:
                household_link_party_member(actor=actor, now=now, household_id=household_id,
                                            party_member_id=party_member_id)  # type: ignore[arg-type]
        if current:
            # Checked again with the service's own guards, so an unchanged row is still one the actor may edit.
            _role(actor, P.HOUSEHOLD_EDIT, _household_for_update(household_id).unit.path)
            unchanged += 1
        else:
            changed += 1
    open_links = HouseholdAssignment.unscoped.filter(ended_at__isnull=True)
    load = (open_links.filter(kind=AssignmentKind.GRID_WORKER, user=worker) if worker is not None
            else open_links.filter(party_member_id=party_member_id)).count()
    return ContactsResult(changed=changed, unchanged=unchanged, load=load)


# --- key rotation ----------------------------------------------------------------------------------------
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
            rows = list(Resident.unscoped.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
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
            Resident.unscoped.bulk_update(changed, ["id_cipher", "id_index", "phone_cipher", "phone_index"])
            counts["residents"] += len(changed)
    last = 0
    while True:
        with transaction.atomic():
            households = list(Household.unscoped.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
            if not households:
                break
            last = households[-1].pk
            changed_h = []
            for h in households:
                if stale(h.phone_cipher):
                    sph = protected.seal_phone(protected.reveal_phone(h.phone_cipher))
                    h.phone_cipher, h.phone_index = sph.cipher, sph.index
                    changed_h.append(h)
            Household.unscoped.bulk_update(changed_h, ["phone_cipher", "phone_index"])
            counts["households"] += len(changed_h)
    with transaction.atomic():
        audit_record(action="fieldcrypto.rotate", actor=None, now=now, role="system",
                     detail={**counts, "key_id": fieldcrypto.keys().current_id, "everything": everything})
    return RotationResult(**counts)
