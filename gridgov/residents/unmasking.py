"""Unmasking (查看完整信息): a full ID number or phone shown for a stated reason, audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, NotFound, PermissionDenied, ValidationFailed

from . import protected
from .models import Household, Resident

UNMASK_REASON_MIN = 4


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
        raise ValidationFailed(f"请写明查看完整信息的原因（至少 {UNMASK_REASON_MIN} 个字）。", field="reason",
                               reason=CommonError.REQUIRED)
    if len(reason) > 200:
        raise ValidationFailed("原因不能超过 200 个字。", field="reason", reason=CommonError.TOO_LONG)
    return reason


@transaction.atomic
def resident_unmask(*, actor: User | None, now: dt.datetime, resident_id: int, reason: str) -> Revealed:
    """Show a resident's full ID number and phone to a user holding resident.unmask, for a stated reason.
    Every call is audited; a refused attempt is audited too (in its own transaction)."""
    resident = Resident.dangerously_unscoped.select_related("household__unit").filter(pk=resident_id).first()
    if resident is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    path = resident.household.unit.path
    if not scope.covers(path):
        raise NotFound()
    if not scope.can(P.RESIDENT_UNMASK, path):
        raise PermissionDenied("您没有查看完整身份证号和电话的权限。", reason=CommonError.FORBIDDEN)
    reason = _reason(reason)
    revealed = Revealed(id_number=protected.reveal_id(resident.id_cipher),
                        phone=protected.reveal_phone(resident.phone_cipher))
    audit_record(action="resident.unmask", actor=actor, now=now, obj=resident, unit_path=path,
                 role=scope.role_at(path), detail={"reason": reason, "fields": ["id_number", "phone"]})
    return revealed


@transaction.atomic
def household_unmask_phone(*, actor: User | None, now: dt.datetime, household_id: int, reason: str) -> str:
    household = Household.dangerously_unscoped.select_related("unit").filter(pk=household_id).first()
    if household is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not scope.covers(household.unit.path):
        raise NotFound()
    if not scope.can(P.RESIDENT_UNMASK, household.unit.path):
        raise PermissionDenied("您没有查看完整电话的权限。", reason=CommonError.FORBIDDEN)
    reason = _reason(reason)
    audit_record(action="household.unmask", actor=actor, now=now, obj=household, unit_path=household.unit.path,
                 role=scope.role_at(household.unit.path), detail={"reason": reason, "fields": ["phone"]})
    return protected.reveal_phone(household.phone_cipher)
