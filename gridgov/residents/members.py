"""Residents (人员) of a household: add, update, move to another household, set status (moved out,
deceased). Plaintext ID numbers and phones never reach a history row, an audit row or a log line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.errors import CommonError, PermissionDenied, ValidationFailed

from . import idnumber, protected
from .cleaners import clean_choice, clean_resident, refuse_duplicate, refuse_second_head
from .errors import ResidentError
from .guards import (
    Action,
    acting_role,
    bump,
    check_version,
    household_for_update,
    local_today,
    record_event,
    require_active,
    resident_for_update,
)
from .models import Relation, Resident, ResidentStatus, TagAssignment


@transaction.atomic
def resident_add(*, actor: User | None, now: dt.datetime, household_id: int, **data: Any) -> Resident:
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    require_active(household)
    clean = clean_resident(data, today=local_today(now))
    sealed_id = protected.seal_id(clean.id_info.number)
    refuse_duplicate(sealed_id.index, actor=actor)
    refuse_second_head(household, clean.fields["relation"])
    sealed_phone = protected.seal_phone(clean.phone)
    try:
        with transaction.atomic():
            resident = Resident.dangerously_unscoped.create(
                household=household, name=clean.name, gender=clean.id_info.gender,
                birth_date=clean.id_info.birth_date, id_cipher=sealed_id.cipher, id_index=sealed_id.index,
                id_masked=sealed_id.masked, phone_cipher=sealed_phone.cipher, phone_index=sealed_phone.index,
                phone_masked=sealed_phone.masked, created_at=now, updated_at=now, **clean.fields,
            )
    except IntegrityError as exc:
        # Two people registering the same number at the same moment: the unique index decides.
        raise ValidationFailed("该身份证号已在台账中登记。", field="id_number",
                               reason=ResidentError.ID_NUMBER_TAKEN) from exc
    bump(household, now)
    record_event(household, Action.MEMBER_ADDED, actor=actor, now=now, resident=resident,
           changes={"name": resident.name, "relation": resident.get_relation_display(),
                    "id_number": sealed_id.masked},
           sensitive=idnumber.is_sensitive_minor(resident.birth_date, local_today(now)))
    audit_record(action="resident.create", actor=actor, now=now, obj=resident, unit_path=household.unit.path,
                 role=role, detail={"upgraded_15": clean.id_info.upgraded_from_15})
    return resident


@transaction.atomic
def resident_update(*, actor: User | None, now: dt.datetime, resident_id: int, expected_version: int | None = None,
                    **data: Any) -> Resident:
    """Edit a resident. Fields not given keep their value; the ID number is re-checked when given."""
    resident = resident_for_update(resident_id)
    household = resident.household
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    check_version(resident, expected_version, "人员信息")
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册，不能修改。", reason=ResidentError.RESIDENT_NOT_REGISTERED)
    if ({"health", "disability"} & set(data) and actor is not None
            and not scope_for(actor).can(P.SENSITIVE_TAGS, household.unit.path)):
        # Health and disability are sensitive: whoever may not see them may not overwrite them either.
        raise PermissionDenied("修改健康状况和残疾信息需要查看敏感信息的权限，请联系网格长或网格办。",
                               reason=CommonError.FORBIDDEN)
    current = {f: getattr(resident, f) for f in (
        "name", "relation", "ethnicity", "political_status", "residency", "away_place", "away_since", "education",
        "occupation", "health", "disability", "notes")}
    current["id_number"] = protected.reveal_id(resident.id_cipher)
    current["phone"] = protected.reveal_phone(resident.phone_cipher)
    merged = {**current, **{k: v for k, v in data.items() if k in current or k in ("birth_date", "gender")}}
    unknown = set(data) - set(merged)
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}", reason=CommonError.UNKNOWN_FIELDS)
    clean = clean_resident(merged, today=local_today(now))
    diff: dict[str, Any] = {}
    if clean.id_info.number != current["id_number"]:
        sealed = protected.seal_id(clean.id_info.number)
        refuse_duplicate(sealed.index, actor=actor, exclude_id=resident.pk)
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
        refuse_second_head(household, resident.relation, exclude_id=resident.pk)
    resident.version += 1
    resident.updated_at = now
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        raise ValidationFailed("该身份证号已在台账中登记。", field="id_number",
                               reason=ResidentError.ID_NUMBER_TAKEN) from exc
    bump(household, now)
    sensitive = idnumber.is_sensitive_minor(resident.birth_date, local_today(now)) or bool(
        {"health", "disability"} & set(diff))
    record_event(household, Action.MEMBER_UPDATED, actor=actor, now=now, resident=resident,
           changes={"fields": sorted(diff), "name": resident.name}, sensitive=sensitive)
    audit_record(action="resident.update", actor=actor, now=now, obj=resident, unit_path=household.unit.path,
                 role=role, detail={"fields": sorted(diff)})
    return resident


@transaction.atomic
def resident_move(*, actor: User | None, now: dt.datetime, resident_id: int, to_household_id: int,
                  relation: str) -> Resident:
    """A resident leaves one household for another (marriage, moving in with children…)."""
    resident = resident_for_update(resident_id)
    source = resident.household
    target = household_for_update(to_household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    acting_role(actor, P.HOUSEHOLD_EDIT, target.unit.path)
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册。", reason=ResidentError.RESIDENT_NOT_REGISTERED)
    if target.pk == source.pk:
        raise ValidationFailed("该人员已在这一户。", field="household", reason=ResidentError.ALREADY_IN_HOUSEHOLD)
    require_active(target)
    relation = clean_choice(relation, Relation, field="relation", label="在新户中的关系")
    refuse_second_head(target, relation)
    resident.household = target
    resident.relation = relation
    resident.version += 1
    resident.updated_at = now
    resident.save(update_fields=["household", "relation", "version", "updated_at"])
    bump(source, now)
    bump(target, now)
    masked = protected.mask_name(resident.name)
    record_event(source, Action.MEMBER_OUT, actor=actor, now=now, resident=resident, other=target,
           changes={"name": masked})
    record_event(target, Action.MEMBER_IN, actor=actor, now=now, resident=resident, other=source,
           changes={"name": masked, "relation": resident.get_relation_display()})
    audit_record(action="resident.move", actor=actor, now=now, obj=resident, unit_path=target.unit.path, role=role,
                 detail={"from": source.pk, "to": target.pk})
    return resident


@transaction.atomic
def resident_set_status(*, actor: User | None, now: dt.datetime, resident_id: int, status: str,
                        reason: str = "") -> Resident:
    if status not in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED):
        raise ValidationFailed("只能把人员设为「已迁出」或「已故」。", field="status", reason=CommonError.NOT_A_CHOICE)
    resident = resident_for_update(resident_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, resident.household.unit.path)
    if resident.status != ResidentStatus.ACTIVE:
        raise ValidationFailed("该人员已不在册。", reason=ResidentError.RESIDENT_NOT_REGISTERED)
    resident.status = status
    resident.version += 1
    resident.updated_at = now
    resident.save(update_fields=["status", "version", "updated_at"])
    TagAssignment.dangerously_unscoped.filter(resident=resident,
                                              end_date__isnull=True).update(end_date=local_today(now))
    bump(resident.household, now)
    record_event(resident.household, Action.MEMBER_OUT, actor=actor, now=now, resident=resident,
           changes={"name": protected.mask_name(resident.name), "status": ResidentStatus(status).label,
                    "reason": cleaning.text(reason, field="reason", label="原因", max_length=200)})
    audit_record(action="resident.status", actor=actor, now=now, obj=resident,
                 unit_path=resident.household.unit.path, role=role, detail={"status": status})
    return resident
