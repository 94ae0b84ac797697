"""Who is assessed (grid workers and grid heads) and which grid each one belongs to, read from the
active grants (gridgov.access)."""

from __future__ import annotations

from gridgov.access.models import Grant, User
from gridgov.units.models import Unit

ASSESSED_ROLES = ("grid_worker_full", "grid_worker_part", "grid_head")


def assessed_grants(path: str) -> list[Grant]:
    """Active grants of assessed roles at or below the unit with this path, one per person (the
    first grant by id decides their grid)."""
    rows = (Grant.dangerously_unscoped.filter(role__code__in=ASSESSED_ROLES, revoked_at__isnull=True,
                                              unit__is_active=True,
                                  unit__path__startswith=path, user__is_active=True)
            .select_related("user", "unit", "role").order_by("user_id", "id"))
    seen: set[int] = set()
    out = []
    for g in rows:
        if g.user_id not in seen:
            seen.add(g.user_id)
            out.append(g)
    return out


def assessed_count(path: str) -> int:
    """How many people `assessed_grants(path)` lists (one per person), counted in the database."""
    return (Grant.dangerously_unscoped.filter(role__code__in=ASSESSED_ROLES, revoked_at__isnull=True,
                                              unit__is_active=True,
                                  unit__path__startswith=path, user__is_active=True)
            .order_by().values("user_id").distinct().count())


def worker_grid(user_id: int) -> Unit | None:
    grant = (Grant.dangerously_unscoped.filter(user_id=user_id, role__code__in=ASSESSED_ROLES, revoked_at__isnull=True,
                                   unit__is_active=True).select_related("unit").order_by("id").first())
    return grant.unit if grant else None


def field_workers_at(unit_id: int) -> list[int]:
    """Grid workers holding a grant at exactly this unit (for deductions on a unit's overdue case)."""
    return sorted(set(Grant.dangerously_unscoped.filter(unit_id=unit_id, role__code__in=ASSESSED_ROLES[:2],
                                            revoked_at__isnull=True, user__is_active=True)
                      .values_list("user_id", flat=True)))


def user_get(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()
