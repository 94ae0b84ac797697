"""THE scoping module: one place turns an actor into what they may see and do.

A grant of a role at a unit covers the unit's whole subtree (its materialised path
is a prefix of theirs). Everything that reads scoped data narrows its query with
`Model.objects.within(scope)`; an object out of scope is reported exactly like a
missing one (NotFound → 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from gridgov.core.errors import NotFound, PermissionDenied

from .roles import P

_M = TypeVar("_M", bound=models.Model)

# Permissions that make a grant's subtree visible at all. A department handler's
# grant does not: departments see only what is dispatched to them.
_VISIBILITY = frozenset(
    {P.UNIT_VIEW, P.HOUSEHOLD_VIEW, P.CASE_VIEW, P.AUDIT_VIEW, P.POLICY_MANAGE, P.USER_MANAGE}
)


@dataclass(frozen=True)
class GrantView:
    grant_id: int
    path: str
    unit_id: int
    role_code: str
    role_name: str
    permissions: frozenset[str]
    department_id: int | None


def _minimal(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths covered by another path in the set; the rest do not overlap."""
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    grants: tuple[GrantView, ...] = ()
    _paths_by_perm: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    # --- what the actor may see -------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self.grants

    @property
    def unit_paths(self) -> tuple[str, ...]:
        """Roots of the subtrees this actor can see."""
        return self._paths(None)

    @property
    def department_ids(self) -> frozenset[int]:
        return frozenset(
            g.department_id for g in self.grants if g.department_id and P.CASE_DEPARTMENT in g.permissions
        )

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*(g.permissions for g in self.grants)) if self.grants else frozenset()

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(g.role_code for g in self.grants)

    def _paths(self, perm: str | None) -> tuple[str, ...]:
        key = perm or "*"
        cached = self._paths_by_perm.get(key)
        if cached is None:
            if perm is None:
                cached = _minimal(g.path for g in self.grants if g.permissions & _VISIBILITY)
            else:
                cached = _minimal(g.path for g in self.grants if perm in g.permissions)
            self._paths_by_perm[key] = cached
        return cached

    def covers(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.unit_paths)

    def can(self, perm: str, path: str | None = None) -> bool:
        """Does the actor hold `perm` at the unit with this path (or anywhere, if None)?"""
        paths = self._paths(perm)
        if path is None:
            return bool(paths)
        return any(path.startswith(p) for p in paths)

    def paths_for(self, perm: str) -> tuple[str, ...]:
        return self._paths(perm)

    def permissions_at(self, path: str) -> frozenset[str]:
        """Every permission the actor holds over the unit with this path."""
        held: set[str] = set()
        for g in self.grants:
            if path.startswith(g.path):
                held |= g.permissions
        return frozenset(held)

    def role_at(self, path: str) -> str:
        """The name of the most specific role the actor holds over this path (for audit rows)."""
        best = max(
            (g for g in self.grants if path.startswith(g.path)), key=lambda g: len(g.path), default=None
        )
        return best.role_code if best else ""

    # --- turning the scope into a filter ----------------------------------------
    def path_q(self, path_field: str, perm: str | None = None) -> Q:
        paths = self._paths(perm)
        if not paths:
            return Q(pk__in=[])
        q = Q()
        for p in paths:
            q |= Q(**{f"{path_field}__startswith": p})
        return q

    def filter_for(self, model: type[models.Model]) -> Q:
        custom = getattr(model, "scope_q", None)
        if custom is not None:
            result: Q = custom(self)
            return result
        path_field = getattr(model, "scope_path_field", None)
        if path_field is None:
            raise TypeError(f"{model._meta.label} declares neither scope_path_field nor scope_q")
        return self.path_q(path_field)

    # --- guards -------------------------------------------------------------------
    def require(self, perm: str, path: str) -> None:
        """NotFound when the unit is out of sight, PermissionDenied when visible but not allowed."""
        if not self.covers(path) and not self.can(perm, path):
            raise NotFound()
        if not self.can(perm, path):
            raise PermissionDenied()


ANONYMOUS = Scope(user_id=None)


def scope_for(user: Any, *, now: dt.datetime | None = None) -> Scope:
    """The scope of a user from their active grants; cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached: Scope | None = getattr(user, "_gridgov_scope", None)
    if cached is not None:
        return cached
    from .models import Grant  # late: scope is imported by models' neighbours

    rows = (
        Grant.unscoped.filter(user_id=user.pk, revoked_at__isnull=True, unit__is_active=True)
        .select_related("role", "unit")
        .order_by("id")
    )
    grants = tuple(
        GrantView(
            grant_id=g.pk,
            path=g.unit.path,
            unit_id=g.unit_id,
            role_code=g.role.code,
            role_name=g.role.name,
            permissions=frozenset(g.role.permissions),
            department_id=g.department_id,
        )
        for g in rows
    )
    scope = Scope(user_id=user.pk, grants=grants)
    user._gridgov_scope = scope
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, "_gridgov_scope"):
        del user._gridgov_scope


def get_in_scope(queryset_or_model: Any, scope: Scope, **lookup: Any) -> Any:
    """One object the actor may see, or NotFound: out of scope looks exactly like missing."""
    qs = queryset_or_model
    if isinstance(qs, type) and issubclass(qs, models.Model):
        qs = qs.objects.all()  # type: ignore[attr-defined]
    try:
        return qs.within(scope).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc
