"""Households (户): register, update, move, set status, merge and split. Each service takes keyword-only
`actor` and `now`, runs in one transaction and writes its history row and audit row.

`actor=None` is the system itself (the world generator, jobs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.errors import CommonError, ValidationFailed
from gridgov.units import locate
from gridgov.units.models import Unit

from . import protected
from .cleaners import clean_location, clean_phone
from .errors import ResidentError
from .guards import Action, acting_role, bump, check_version, household_for_update, record_event, require_active
from .models import Household, HouseholdStatus, Relation, Resident, ResidentStatus


def _deepest_unit(actor: User | None, unit_id: int | None, lat: float | None, lng: float | None) -> Unit:
    """The unit a household belongs to: found by point-in-grid when a location is given."""
    if lat is not None and lng is not None:
        located = locate.unit_id_at(lat, lng)
        if located is None:
            raise ValidationFailed("该位置不在任何网格范围内，请核对坐标或直接选择网格。", field="location",
                                   reason=ResidentError.OUTSIDE_EVERY_GRID)
        unit_id = located
    if unit_id is None:
        raise ValidationFailed("请选择所属网格。", field="unit", reason=CommonError.REQUIRED)
    unit = Unit.dangerously_unscoped.filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise ValidationFailed("所选网格不存在。", field="unit", reason=ResidentError.GRID_NOT_FOUND)
    if actor is not None:
        scope = scope_for(actor)
        if not scope.can(P.HOUSEHOLD_EDIT, unit.path):
            raise ValidationFailed(f"「{unit.name}」不在您可以登记的范围内。", field="unit",
                                   reason=ResidentError.GRID_OUTSIDE_SCOPE)
    if Unit.dangerously_unscoped.filter(parent=unit, is_active=True).exists():
        raise ValidationFailed(f"「{unit.name}」下还有下级网格，户要登记在最末一级网格。", field="unit",
                               reason=ResidentError.GRID_NOT_LOWEST)
    return unit


@transaction.atomic
def household_create(
    *, actor: User | None, now: dt.datetime, unit_id: int | None = None, address: str, house_number: str = "",
    lat: Any = None, lng: Any = None, phone: str = "", notes: str = "",
) -> Household:
    flat, flng = clean_location(lat, lng)
    unit = _deepest_unit(actor, unit_id, flat, flng)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, unit.path)
    sealed = protected.seal_phone(clean_phone(phone))
    household = Household.dangerously_unscoped.create(
        unit=unit, address=cleaning.text(address, field="address", label="地址", max_length=200, required=True),
        house_number=cleaning.text(house_number, field="house_number", label="门牌号", max_length=40),
        lat=flat, lng=flng, phone_cipher=sealed.cipher, phone_index=sealed.index, phone_masked=sealed.masked,
        notes=cleaning.text(notes, field="notes", label="备注", max_length=2000), created_at=now, updated_at=now,
    )
    record_event(household, Action.CREATED, actor=actor, now=now, changes={"grid": unit.name})
    audit_record(action="household.create", actor=actor, now=now, obj=household, unit_path=unit.path, role=role)
    return household


_HOUSEHOLD_FIELDS = {"address", "house_number", "phone", "notes", "lat", "lng"}


@transaction.atomic
def household_update(*, actor: User | None, now: dt.datetime, household_id: int, expected_version: int | None = None,
                     **changes: Any) -> Household:
    unknown = set(changes) - _HOUSEHOLD_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}", reason=CommonError.UNKNOWN_FIELDS)
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    check_version(household, expected_version, "户")
    require_active(household)
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
    record_event(household, Action.MOVED if moved_to else Action.UPDATED, actor=actor, now=now, changes=diff)
    audit_record(action="household.update", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=role, detail={"fields": sorted(diff)})
    return household


@transaction.atomic
def household_move(*, actor: User | None, now: dt.datetime, household_id: int, unit_id: int) -> Household:
    """Move a household to another grid (re-zoning, or it was filed in the wrong one)."""
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    require_active(household)
    target = _deepest_unit(actor, unit_id, None, None)
    if target.pk == household.unit_id:
        return household
    old = household.unit
    household.unit = target
    household.version += 1
    household.updated_at = now
    household.save(update_fields=["unit", "version", "updated_at"])
    record_event(household, Action.MOVED, actor=actor, now=now, changes={"unit": [old.name, target.name]})
    audit_record(action="household.move", actor=actor, now=now, obj=household, unit_path=target.path, role=role,
                 detail={"from": old.path, "to": target.path})
    return household


@transaction.atomic
def household_set_status(
    *, actor: User | None, now: dt.datetime, household_id: int, status: str, reason: str = ""
) -> Household:
    """A household moves out or is dissolved; its active members leave the ledger with it."""
    if status not in (HouseholdStatus.MOVED_OUT, HouseholdStatus.DISSOLVED):
        raise ValidationFailed("只能把户设为「已迁出」或「已销户」。", field="status", reason=CommonError.NOT_A_CHOICE)
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    require_active(household)
    reason = cleaning.text(reason, field="reason", label="原因", max_length=200, required=True)
    members = Resident.dangerously_unscoped.filter(household=household, status=ResidentStatus.ACTIVE)
    count = members.update(status=ResidentStatus.MOVED_OUT, updated_at=now, version=F("version") + 1)
    household.status = status
    household.version += 1
    household.updated_at = now
    household.save(update_fields=["status", "version", "updated_at"])
    record_event(household, Action.STATUS, actor=actor, now=now,
           changes={"status": HouseholdStatus(status).label, "reason": reason, "members": count})
    audit_record(action="household.status", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=role, detail={"status": status})
    return household


@transaction.atomic
def household_merge(*, actor: User | None, now: dt.datetime, household_id: int, into_id: int) -> Household:
    """合户: every active member of one household joins another; the first is closed as merged.
    Its head becomes a member (relation 其他) of the receiving household."""
    if household_id == into_id:
        raise ValidationFailed("不能把一户并入它自己。", reason=ResidentError.MERGE_INTO_ITSELF)
    first, second = sorted([household_id, into_id])
    locked = {h.pk: h for h in [household_for_update(first), household_for_update(second)]}
    source, target = locked[household_id], locked[into_id]
    role = acting_role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    acting_role(actor, P.HOUSEHOLD_EDIT, target.unit.path)
    require_active(source)
    require_active(target)
    members = list(Resident.dangerously_unscoped.filter(household=source, status=ResidentStatus.ACTIVE))
    for m in members:
        m.household = target
        if m.relation == Relation.HEAD:
            m.relation = Relation.OTHER
        m.version += 1
        m.updated_at = now
    Resident.dangerously_unscoped.bulk_update(members, ["household", "relation", "version", "updated_at"])
    source.status = HouseholdStatus.MERGED
    source.merged_into = target
    source.version += 1
    source.updated_at = now
    source.save(update_fields=["status", "merged_into", "version", "updated_at"])
    bump(target, now)
    names = [protected.mask_name(m.name) for m in members]
    record_event(source, Action.MERGED_INTO, actor=actor, now=now, other=target, changes={"members": names})
    record_event(target, Action.MERGED_FROM, actor=actor, now=now, other=source, changes={"members": names})
    audit_record(action="household.merge", actor=actor, now=now, obj=target, unit_path=target.unit.path, role=role,
                 detail={"from": source.pk, "into": target.pk, "members": len(members)})
    return target


@transaction.atomic
def household_split(
    *, actor: User | None, now: dt.datetime, household_id: int, resident_ids: Iterable[int], new_head_id: int,
    address: str | None = None, house_number: str = "",
) -> Household:
    """分户: some members leave to form a new household in the same grid, with one of them as head."""
    source = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, source.unit.path)
    require_active(source)
    ids = set(resident_ids) | {new_head_id}
    members = list(Resident.dangerously_unscoped.select_for_update().filter(household=source,
                                                                            status=ResidentStatus.ACTIVE))
    leaving = [m for m in members if m.pk in ids]
    if len(leaving) != len(ids):
        raise ValidationFailed("只能从本户的在册成员中分出。", field="residents",
                               reason=ResidentError.SPLIT_NOT_MEMBERS)
    if len(leaving) == len(members):
        raise ValidationFailed("不能把全部成员都分出去；请改用「调整网格」或修改户信息。", field="residents",
                               reason=ResidentError.SPLIT_EVERYONE)
    new = Household.dangerously_unscoped.create(
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
    Resident.dangerously_unscoped.bulk_update(leaving, ["household", "relation", "version", "updated_at"])
    bump(source, now)
    names = [protected.mask_name(m.name) for m in leaving]
    record_event(source, Action.SPLIT, actor=actor, now=now, other=new, changes={"members": names,
                                                                            "head_left": head_left})
    record_event(new, Action.SPLIT_FROM, actor=actor, now=now, other=source, changes={"members": names})
    audit_record(action="household.split", actor=actor, now=now, obj=new, unit_path=source.unit.path, role=role,
                 detail={"from": source.pk, "members": len(leaving)})
    return new
