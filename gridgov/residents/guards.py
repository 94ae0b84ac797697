"""What every write path of the household ledger checks and writes: the actor's role at a unit, the
row locked for update, the household still active, the version the form was read at, the history row
(HouseholdEvent) and the household's version bump.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F

from gridgov.access.models import User
from gridgov.access.scope import scope_for
from gridgov.core.clock import local
from gridgov.core.errors import CommonError, Conflict, NotFound, ValidationFailed

from .errors import ResidentError
from .models import Household, HouseholdEvent, HouseholdStatus, Resident

Action = HouseholdEvent.Action


def acting_role(actor: User | None, perm: str, path: str) -> str:
    """Check `actor` may `perm` at `path` (NotFound when out of sight); return the role for audit."""
    if actor is None:
        return "system"
    scope = scope_for(actor)
    scope.require(perm, path)
    return scope.role_at(path)


def household_for_update(household_id: int) -> Household:
    household = (
        Household.dangerously_unscoped.select_for_update().select_related("unit").filter(pk=household_id).first()
    )
    if household is None:
        raise NotFound()
    return household


def resident_for_update(resident_id: int) -> Resident:
    resident = (
        Resident.dangerously_unscoped.select_for_update()
        .select_related("household__unit")
        .filter(pk=resident_id)
        .first()
    )
    if resident is None:
        raise NotFound()
    return resident


def require_active(household: Household) -> None:
    if household.status != HouseholdStatus.ACTIVE:
        raise ValidationFailed(
            f"该户已{household.get_status_display()}，不能再修改。", reason=ResidentError.HOUSEHOLD_CLOSED
        )


def check_version(obj: Household | Resident, expected: int | None, what: str) -> None:
    if expected is not None and obj.version != expected:
        raise Conflict(
            f"该{what}已被他人修改，请刷新后重试。",
            details={"current_version": obj.version},
            reason=CommonError.STALE_VERSION,
        )


def record_event(
    household: Household,
    action: str,
    *,
    actor: User | None,
    now: dt.datetime,
    resident: Resident | None = None,
    other: Household | None = None,
    changes: dict[str, Any] | None = None,
    sensitive: bool = False,
) -> None:
    HouseholdEvent.dangerously_unscoped.create(
        household=household,
        resident=resident,
        other_household=other,
        action=action,
        at=now,
        actor=actor,
        changes=changes or {},
        sensitive=sensitive,
    )


def bump(household: Household, now: dt.datetime) -> None:
    Household.dangerously_unscoped.filter(pk=household.pk).update(version=F("version") + 1, updated_at=now)
    household.version += 1
    household.updated_at = now


def local_today(now: dt.datetime) -> dt.date:
    return local(now).date()
