"""Reads about staff, grants and departments, always through the actor's scope."""

from __future__ import annotations

from gridgov.units.models import TOWNSHIP_BASE_KINDS, BaseKind, Unit

from .models import Department, Grant, Role, User
from .roles import can_grant_role
from .scope import Scope, get_in_scope

# Departments hang off the units that host a grid office.
DEPARTMENT_HOST_BASES = frozenset({*TOWNSHIP_BASE_KINDS, BaseKind.COUNTY})


def grantable_roles(*, scope: Scope, unit: Unit) -> list[Role]:
    """The roles this actor may hand out at this unit (never more than they hold there)."""
    held = scope.permissions_at(unit.path)
    return [r for r in Role.objects.order_by("id") if can_grant_role(held, r.permissions, admin_duty=r.admin_duty)]


def departments_of(*, scope: Scope, unit: Unit) -> list[Department]:
    return list(Department.objects.within(scope).filter(unit=unit, is_active=True).order_by("name"))


def department_get(*, scope: Scope, department_id: int) -> Department:
    return get_in_scope(Department.objects.select_related("unit"), scope, pk=department_id)  # type: ignore[no-any-return]


def grant_get(*, scope: Scope, grant_id: int) -> Grant:
    return get_in_scope(  # type: ignore[no-any-return]
        Grant.objects.select_related("unit", "user", "role").filter(revoked_at__isnull=True), scope, pk=grant_id
    )


def user_by_username(username: str) -> User | None:
    """An account to appoint. Accounts are not scoped: a person may move between townships."""
    return User.objects.filter(username=(username or "").strip(), is_active=True).first()


def hosts_departments(unit: Unit) -> bool:
    return unit.kind.base in DEPARTMENT_HOST_BASES
