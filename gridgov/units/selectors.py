"""Reads of the hierarchy, always through the actor's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.lookups import StartsWith

from gridgov.access.models import Grant
from gridgov.access.scope import Scope, get_in_scope

from .models import BaseKind, LevelName, Theme, Unit, UnitEvent, UnitKind


def unit_get(*, scope: Scope, unit_id: int) -> Unit:
    return get_in_scope(Unit.objects.select_related("kind", "parent"), scope, pk=unit_id)  # type: ignore[no-any-return]


def unit_page_get(*, scope: Scope, unit_id: int) -> Unit:
    """`unit_get` with the name of its grid level read in the same statement (`level_name` uses it):
    the nearest level-name scheme set on the unit or an ancestor, a level name's root being the unit
    whose path starts the unit's."""
    names = (LevelName.objects.filter(StartsWith(OuterRef("path"), F("root__path")), level=OuterRef("grid_level"))
             .order_by("-root__depth").values("name")[:1])
    return get_in_scope(  # type: ignore[no-any-return]
        Unit.objects.select_related("kind", "parent").annotate(level_label=Subquery(names)), scope, pk=unit_id)


# Lists of units never show their boundary: a county's or township's GeoJSON polygon is tens of
# kilobytes to fetch and decode per row (it was most of a unit page's time at size M).
_LIST_DEFER = ("boundary",)


def county_of(unit: Unit) -> Unit:
    """The county above (or at) a unit; the root if the hierarchy has no county. Unscoped: a form's
    number and a county's settings belong to the county whoever is acting."""
    ids = unit.path_ids()
    county = Unit.dangerously_unscoped.filter(pk__in=ids, kind__base="county").order_by("-depth").first()
    return county or Unit.dangerously_unscoped.get(pk=ids[0])


def unit_roots(*, scope: Scope) -> list[Unit]:
    """The units at the top of the actor's scope."""
    ids = [int(p.strip("/").split("/")[-1]) for p in scope.unit_paths]
    return list(
        Unit.objects.within(scope).filter(pk__in=ids).select_related("kind").defer(*_LIST_DEFER)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
    )


def unit_children(*, scope: Scope, unit: Unit) -> list[Unit]:
    return list(
        Unit.objects.within(scope).filter(parent=unit, is_active=True).select_related("kind").defer(*_LIST_DEFER)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
        .order_by("sort_order", "serial", "id")
    )


# A tree node as the staff pages list it: values, not units with their kind (a model instance per row and
# per kind, and a template lookup through both, was a third of a township's unit page).
_NODE_VALUES = {"kind_name": F("kind__name")}


def unit_root_nodes(*, scope: Scope) -> list[dict[str, Any]]:
    """`unit_roots` as tree nodes: id, name, serial, kind_name, child_count."""
    ids = [int(p.strip("/").split("/")[-1]) for p in scope.unit_paths]
    return list(
        Unit.objects.within(scope).filter(pk__in=ids)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
        .values("id", "name", "serial", "child_count", **_NODE_VALUES)
    )


def unit_child_nodes(*, scope: Scope, unit: Unit) -> list[dict[str, Any]]:
    """`unit_children` as tree nodes: id, name, serial, kind_name, child_count."""
    return list(
        Unit.objects.within(scope).filter(parent=unit, is_active=True)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
        .order_by("sort_order", "serial", "id")
        .values("id", "name", "serial", "child_count", **_NODE_VALUES)
    )


def unit_search(*, scope: Scope, query: str, limit: int = 50) -> list[Unit]:
    return list(
        Unit.objects.within(scope).filter(Q(name__contains=query) | Q(serial=query), is_active=True)
        .select_related("kind", "parent").order_by("depth", "path")[:limit]
    )


def unit_breadcrumb(*, scope: Scope, unit: Unit) -> list[Unit]:
    """Ancestors the actor can see, root first."""
    return list(Unit.objects.within(scope).filter(pk__in=unit.ancestor_ids()).defer(*_LIST_DEFER).order_by("depth"))


def unit_staff_rows(*, scope: Scope, unit: Unit) -> list[dict[str, Any]]:
    """The unit's current staff as its page lists them, by role: one row of values per grant (id,
    display_name, title, role_name, department_name, work_phone), no grant, user, role or department
    instances."""
    rows = (
        Grant.objects.within(scope).filter(unit=unit, revoked_at__isnull=True).order_by("role_id", "id")
        .values("id", "title", "user__full_name", "user__username", "user__work_phone", "role__name",
                "department__name")
    )
    return [{"id": r["id"], "title": r["title"],
             "display_name": r["user__full_name"] or r["user__username"],  # User.display_name
             "work_phone": r["user__work_phone"], "role_name": r["role__name"],
             "department_name": r["department__name"]} for r in rows]


def level_name(unit: Unit) -> str:
    """The deployment's name for this unit's grid level (一级网格…), or the kind's name."""
    if unit.grid_level is None:
        return unit.kind.name
    if hasattr(unit, "level_label"):  # read with the unit (`unit_page_get`)
        return unit.level_label or unit.kind.name
    names: dict[Any, str] = dict(
        LevelName.objects.filter(root_id__in=unit.path_ids(), level=unit.grid_level)
        .order_by("-root__depth").values_list("root_id", "name")[:1]
    )
    return next(iter(names.values()), unit.kind.name)


# The order staff stand on a printed board, and the duties printed beside each role.
BOARD_ROLE_ORDER = [
    "chief_grid_head", "village_secretary", "area_head", "grid_head", "grid_worker_full", "grid_worker_part",
    "info_officer", "resident_cadre", "mediator",
]


def _board_order(g: Grant) -> tuple[int, str]:
    return (BOARD_ROLE_ORDER.index(g.role.code), g.user.full_name)


def _with_inherited_heads(units: list[Unit], by_unit: dict[int, list[Grant]]) -> None:
    """A grid without a grid head of its own shows the head of the nearest grid above it: in 吴城乡 the
    ten village-level 网格长 lead the 35 third-level grids, and a board or a resident's page without a
    网格长 would hide who answers for the grid. The same for every printer, whatever their scope (the
    heads are published on every board anyway)."""
    needy = [u for u in units if u.kind.is_grid and not any(g.role.code == "grid_head" for g in by_unit[u.pk])]
    if not needy:
        return
    ancestors = {a for u in needy for a in u.path_ids() if a != u.pk}
    heads: dict[int, list[Grant]] = {}
    for g in (Grant.dangerously_unscoped.filter(unit_id__in=ancestors, revoked_at__isnull=True, role__code="grid_head")
              .select_related("user", "role")):
        heads.setdefault(g.unit_id, []).append(g)
    for u in needy:
        for ancestor in reversed(u.path_ids()[:-1]):
            if ancestor in heads:
                by_unit[u.pk].extend(heads[ancestor])
                by_unit[u.pk].sort(key=_board_order)
                break


def board_staff(*, scope: Scope, units: list[Unit]) -> dict[int, list[Grant]]:
    """Staff who appear on the public boards of these units, in board order, in two queries."""
    rows = (
        Grant.objects.within(scope)
        .filter(unit__in=units, revoked_at__isnull=True, role__code__in=BOARD_ROLE_ORDER)
        .select_related("user", "role")
    )
    by_unit: dict[int, list[Grant]] = {u.pk: [] for u in units}
    for g in rows:
        by_unit[g.unit_id].append(g)
    for grants in by_unit.values():
        grants.sort(key=_board_order)
    _with_inherited_heads(units, by_unit)
    return by_unit


def public_board_staff(unit: Unit) -> list[Grant]:
    """The staff printed on a grid's public board: the same list a resident sees by scanning its QR.
    Names, roles and work phones only; these are published by design."""
    rows = list(
        Grant.dangerously_unscoped.filter(unit=unit, revoked_at__isnull=True, role__code__in=BOARD_ROLE_ORDER)
        .select_related("user", "role")
    )
    rows.sort(key=_board_order)
    by_unit = {unit.pk: rows}
    _with_inherited_heads([unit], by_unit)
    return by_unit[unit.pk]


def unit_history(*, scope: Scope, unit: Unit, limit: int = 200) -> list[UnitEvent]:
    """What happened to a unit the actor can see (already fetched through the scope)."""
    get_in_scope(Unit.objects.all(), scope, pk=unit.pk)
    return list(UnitEvent.objects.filter(unit=unit).select_related("actor", "old_parent", "new_parent")[:limit])


def move_targets(*, scope: Scope, unit: Unit, perm: str, limit: int = 500) -> list[Unit]:
    """Units the actor may put `unit` under: where they hold `perm`, outside the unit's own
    subtree, not its current parent, and not micro-grids (the leaves of every scheme)."""
    return list(
        Unit.objects.within(scope).filter(scope.path_q("path", perm), is_active=True)
        .exclude(path__startswith=unit.path).exclude(pk=unit.parent_id or 0)
        .exclude(kind__base=BaseKind.MICRO_GRID)
        .select_related("kind").order_by("path")[:limit]
    )


def kinds() -> list[UnitKind]:
    return list(UnitKind.objects.order_by("id"))


def themes() -> list[Theme]:
    return list(Theme.objects.order_by("id"))


def public_grid(unit_id: int | None) -> Unit | None:
    """An active unit for the residents' pages, reached only through a signed link."""
    if unit_id is None:
        return None
    return Unit.dangerously_unscoped.filter(pk=unit_id, is_active=True).select_related("kind").first()


def hierarchy_exists() -> bool:
    """Whether any unit exists at all (the world generator's --if-empty)."""
    return Unit.dangerously_unscoped.exists()
