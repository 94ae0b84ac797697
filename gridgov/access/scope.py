"""THE scoping module: one place turns an actor into what they may see and do.

A grant of a role at a unit covers the unit's whole subtree (its materialised path
is a prefix of theirs). Everything that reads scoped data narrows its query with
`Model.objects.within(scope)`; an object out of scope is reported exactly like a
missing one (NotFound → 404).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from gridgov.core.errors import CommonError, NotFound, PermissionDenied

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
            raise PermissionDenied(reason=CommonError.FORBIDDEN)


ANONYMOUS = Scope(user_id=None)


# --- the scope cache ----------------------------------------------------------------
# Building a scope is a three-table query and a few objects per grant on every request. The scope
# depends only on the user's grants, their units' paths and active flags and their roles' permissions;
# every change to one of those gives the affected users a new access stamp (`access_changed`) in the
# same transaction as the change. The user row, stamp included, is read from the database on every
# request, so a scope kept under (user id, stamp) is the one the database holds at that stamp: a
# revoked grant, a moved unit or an edited role takes effect on the very next request, in every
# process, without telling any process. Kept per process (no network round trip), at most
# _CACHE_SIZE users, least recently used first out.
_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[int, int], Scope] = OrderedDict()
_cache_lock = threading.Lock()


def _cached(key: tuple[int, int]) -> Scope | None:
    with _cache_lock:
        scope = _cache.get(key)
        if scope is not None:
            _cache.move_to_end(key)
        return scope


def _keep(key: tuple[int, int], scope: Scope) -> None:
    with _cache_lock:
        _cache[key] = scope
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _drop(user_ids: Iterable[int] | None) -> None:
    """Forget this process's scopes of these users (all of them for None)."""
    with _cache_lock:
        if user_ids is None:
            _cache.clear()
            return
        ids = set(user_ids)
        for key in [k for k in _cache if k[0] in ids]:
            del _cache[key]


def _build(user_id: int) -> Scope:
    from .models import Grant  # late: scope is imported by models' neighbours

    rows = (
        Grant.dangerously_unscoped.filter(user_id=user_id, revoked_at__isnull=True, unit__is_active=True)
        .values_list("pk", "unit__path", "unit_id", "role__code", "role__name", "role__permissions",
                     "department_id")
        .order_by("id")
    )
    grants = tuple(
        GrantView(grant_id=pk, path=path, unit_id=unit_id, role_code=code, role_name=name,
                  permissions=frozenset(perms), department_id=department_id)
        for pk, path, unit_id, code, name, perms, department_id in rows
    )
    return Scope(user_id=user_id, grants=grants)


def scope_for(user: Any, *, now: dt.datetime | None = None) -> Scope:
    """The scope of a user from their active grants; cached on the user object and, under the user's
    access stamp, in this process."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached: Scope | None = getattr(user, "_gridgov_scope", None)
    if cached is not None:
        return cached
    stamp = getattr(user, "access_stamp", None)
    key = (user.pk, stamp) if isinstance(stamp, int) else None
    scope = _cached(key) if key is not None else None
    if scope is None:
        scope = _build(user.pk)
        if key is not None:
            _keep(key, scope)
    user._gridgov_scope = scope
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, "_gridgov_scope"):
        del user._gridgov_scope
    _drop([user.pk])


def access_changed(*, user_ids: Iterable[int] = (), unit_path: str = "", role_id: int | None = None) -> None:
    """Give a new access stamp to the users whose scope this change may alter: the users named, the
    holders of a grant at a unit under `unit_path`, the holders of the role. Call it inside the
    transaction of the change (models' save signals do, see access/signals.py): the stamp and the
    change commit together."""
    from django.db import transaction

    from .models import Grant, User, new_access_stamp

    ids = [i for i in user_ids if i is not None]
    if ids:
        User.objects.filter(pk__in=ids).update(access_stamp=new_access_stamp())
    holders = Q(pk__in=[])
    if unit_path:
        holders |= Q(unit__path__startswith=unit_path)
    if role_id is not None:
        holders |= Q(role_id=role_id)
    if unit_path or role_id is not None:
        User.objects.filter(pk__in=Grant.dangerously_unscoped.filter(holders).values("user_id")).update(
            access_stamp=new_access_stamp())
    # This process forgets the old scopes now and again after the commit, so that a user object
    # still carrying the old stamp (a service's actor, a test's fixture) does not find them.
    affected = None if (unit_path or role_id is not None) else ids
    _drop(affected)
    transaction.on_commit(lambda: _drop(affected))


def get_in_scope(queryset_or_model: Any, scope: Scope, **lookup: Any) -> Any:
    """One object the actor may see, or NotFound: out of scope looks exactly like missing."""
    qs = queryset_or_model
    if isinstance(qs, type) and issubclass(qs, models.Model):
        qs = qs.objects.all()  # type: ignore[attr-defined]
    try:
        return qs.within(scope).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc
