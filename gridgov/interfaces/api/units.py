from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.core.clock import now
from gridgov.core.errors import PermissionDenied
from gridgov.interfaces.http import staff_actor
from gridgov.units import selectors, services

router = Router(tags=["units"])


class UnitOut(Schema):
    id: int
    name: str
    kind: str
    kind_name: str
    parent_id: int | None
    depth: int
    serial: str
    grid_type: str
    division_code: str | None
    version: int


class UnitPatch(Schema):
    expected_version: int | None = None
    name: str | None = None
    serial: str | None = None
    grid_type: str | None = None
    division_code: str | None = None
    boundary: dict[str, Any] | None = None


class UnitMoveIn(Schema):  # (not MoveIn: households has one; one schema name each)
    new_parent_id: int


class UnitWrite(Schema):
    unit: UnitOut
    warnings: list[str]


def _out(u: Any) -> UnitOut:
    return UnitOut(id=u.pk, name=u.name, kind=u.kind.code, kind_name=u.kind.name, parent_id=u.parent_id,
                   depth=u.depth, serial=u.serial, grid_type=u.grid_type, division_code=u.division_code,
                   version=u.version)


@router.get("/", response=list[UnitOut], summary="Top units of the actor's scope, or children of a unit")
def list_units(request: HttpRequest, parent_id: int | None = None) -> list[UnitOut]:
    scope = scope_for(request.user)
    if parent_id is None:
        if not scope.can(P.UNIT_VIEW):  # as the staff unit list: 403 for a scope seen through other rights
            if scope.unit_paths:
                raise PermissionDenied()
            return []  # no grant at all: nothing to list
        return [_out(u) for u in selectors.unit_roots(scope=scope)]
    parent = selectors.unit_get(scope=scope, unit_id=parent_id)
    scope.require(P.UNIT_VIEW, parent.path)
    return [_out(u) for u in selectors.unit_children(scope=scope, unit=parent)]


@router.get("/{unit_id}", response=UnitOut)
def get_unit(request: HttpRequest, unit_id: int) -> UnitOut:
    """The rights of the unit list: unit.view over the unit (a unit seen through audit or policy rights
    is refused, 403)."""
    scope = scope_for(request.user)
    unit = selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    return _out(unit)


@router.patch("/{unit_id}", response=UnitWrite)
def patch_unit(request: HttpRequest, unit_id: int, payload: UnitPatch) -> UnitWrite:
    selectors.unit_get(scope=scope_for(request.user), unit_id=unit_id)
    data = payload.dict(exclude_unset=True)
    boundary = data.pop("boundary", ...)
    result = services.unit_update(actor=staff_actor(request), now=now(), unit_id=unit_id, boundary=boundary, **data)
    return UnitWrite(unit=_out(result.unit), warnings=result.warnings)


@router.post("/{unit_id}/move", response=UnitWrite)
def move_unit(request: HttpRequest, unit_id: int, payload: UnitMoveIn) -> UnitWrite:
    scope = scope_for(request.user)
    selectors.unit_get(scope=scope, unit_id=unit_id)
    selectors.unit_get(scope=scope, unit_id=payload.new_parent_id)
    result = services.unit_move(actor=staff_actor(request), now=now(), unit_id=unit_id,
                                new_parent_id=payload.new_parent_id)
    return UnitWrite(unit=_out(result.unit), warnings=result.warnings)
