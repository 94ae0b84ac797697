"""Who holds a case now: the users told of each change (in-app notifications, the sweep's batches)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from gridgov.access.models import Grant
from gridgov.access.roles import P
from gridgov.units.models import Unit

from .models import Case
from .states import Status

# The active grants at one unit with their roles' permissions. Raw SQL: run by every intake and every
# case action, and the ORM's compilation of the join cost more CPU than the query itself.
_GRANTS_AT_UNIT = (
    "SELECT g.user_id, r.permissions FROM access_grant g JOIN access_role r ON r.id = g.role_id "
    "WHERE g.unit_id = %s AND g.revoked_at IS NULL ORDER BY g.id"
)


def _users_at_unit(unit: Unit, perms: Iterable[str]) -> list[int]:
    wanted = set(perms)
    with connection.cursor() as cur:
        cur.execute(_GRANTS_AT_UNIT, [unit.pk])
        rows = cur.fetchall()
    out = []
    for user_id, permissions in rows:
        if isinstance(permissions, str):  # SQLite hands JSON back as text
            permissions = json.loads(permissions)
        if wanted & set(permissions):
            out.append(user_id)
    return out


def _department_users(department_id: int) -> list[int]:
    return list(Grant.dangerously_unscoped.filter(department_id=department_id, revoked_at__isnull=True)
                .values_list("user_id", flat=True))


def holder_user_ids(case: Case) -> list[int]:
    """Who must act now: the department's handlers, or the holding unit's case staff."""
    if case.holder_department_id:
        return _department_users(case.holder_department_id)
    assert case.holder_unit is not None
    if case.status in (Status.RETURNED, Status.FEEDBACK):
        return _users_at_unit(case.holder_unit, [P.CASE_DISPATCH, P.CASE_REVIEW])
    return _users_at_unit(case.holder_unit, [P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH])


def holder_user_ids_many(cases: Iterable[Case]) -> dict[int, list[int]]:
    """`holder_user_ids` of many cases in one query (the deadline sweep's batches)."""
    cases = list(cases)
    department_ids = {c.holder_department_id for c in cases if c.holder_department_id}
    unit_ids = {c.holder_unit_id for c in cases if not c.holder_department_id and c.holder_unit_id}
    if not department_ids and not unit_ids:
        return {c.pk: [] for c in cases}
    grants = list(Grant.dangerously_unscoped.filter(Q(department_id__in=department_ids) | Q(unit_id__in=unit_ids),
                                        revoked_at__isnull=True).select_related("role"))
    by_department: dict[int, list[int]] = {}
    by_unit: dict[int, list[Grant]] = {}
    for g in grants:
        if g.department_id in department_ids:
            by_department.setdefault(g.department_id, []).append(g.user_id)
        if g.unit_id in unit_ids:
            by_unit.setdefault(g.unit_id, []).append(g)
    out: dict[int, list[int]] = {}
    for c in cases:
        if c.holder_department_id:
            out[c.pk] = by_department.get(c.holder_department_id, [])
            continue
        wanted = ({P.CASE_DISPATCH, P.CASE_REVIEW} if c.status in (Status.RETURNED, Status.FEEDBACK)
                  else {P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH})
        out[c.pk] = [g.user_id for g in by_unit.get(c.holder_unit_id or 0, []) if wanted & set(g.role.permissions)]
    return out


def case_link(case: Case) -> str:
    return f"/cases/{case.pk}/"

