"""Write paths for the hierarchy. Each takes `actor` and `now`, runs in one transaction and
writes its history row and audit row with the change."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import access_changed, scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, Conflict, NotFound, ValidationFailed
from gridgov.geo.geometry import outside_share, parse_boundary, to_geojson

from . import locate
from .errors import UnitError
from .models import GridType, Theme, Unit, UnitEvent, UnitKind

DIVISION_CODE_RE = re.compile(r"^[0-9]{12}$")
# A child boundary may stray this share outside its parent before we warn.
OUTSIDE_TOLERANCE = 0.01


@dataclass
class UnitResult:
    unit: Unit
    warnings: list[str] = field(default_factory=list)


def _require(actor: User | None, perm: str, unit: Unit | None) -> str:
    """Check the actor may `perm` at `unit`; return the role used (for the audit row).
    A None actor is the system itself (migrations, the world generator, jobs)."""
    if actor is None:
        return "system"
    scope = scope_for(actor)
    if unit is None:
        # Creating a root unit is for system administrators holding unit.edit at a root.
        if not any(len(p.strip("/").split("/")) == 1 for p in scope.paths_for(perm)):
            raise ValidationFailed("只有系统管理员可以创建顶级单位。", reason=UnitError.ROOT_FOR_SYSTEM_ADMIN_ONLY)
        return "system_admin"
    scope.require(perm, unit.path)
    return scope.role_at(unit.path)


def _kind(code: str) -> UnitKind:
    try:
        return UnitKind.objects.get(code=code)
    except UnitKind.DoesNotExist as exc:
        raise ValidationFailed(f"未知的单位类型：{code}", field="kind", reason=CommonError.NOT_A_CHOICE) from exc


def _clean_division_code(code: str | None, *, exclude_id: int | None = None) -> str | None:
    if code is None or not str(code).strip():
        return None
    code = str(code).strip()
    if not DIVISION_CODE_RE.match(code):
        raise ValidationFailed("统计用区划代码应为 12 位数字。", field="division_code", reason=CommonError.MALFORMED)
    clash = Unit.dangerously_unscoped.filter(division_code=code).exclude(pk=exclude_id or 0).first()
    if clash is not None:
        raise ValidationFailed(f"统计用区划代码 {code} 已被「{clash.name}」使用。", field="division_code",
                               reason=UnitError.DIVISION_CODE_TAKEN)
    return code


def _clean_grid_type(value: str) -> str:
    if value and value not in GridType.values:
        raise ValidationFailed("未知的网格类型。", field="grid_type", reason=CommonError.NOT_A_CHOICE)
    return value


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写名称。", field="name", reason=CommonError.REQUIRED)
    if len(name) > 80:
        raise ValidationFailed("名称不能超过 80 个字。", field="name", reason=CommonError.TOO_LONG)
    return name


def _boundary(value: Any, parent: Unit | None, warnings: list[str]) -> tuple[dict | None, float | None, float | None]:
    if value in (None, "", {}):
        return None, None, None
    geom = parse_boundary(value)
    if parent is not None and parent.boundary:
        share = outside_share(geom, parse_boundary(parent.boundary))
        if share > OUTSIDE_TOLERANCE:
            warnings.append(f"边界有 {share:.0%} 超出上级「{parent.name}」的范围，请核对。")
    c = geom.representative_point()
    return to_geojson(geom), c.y, c.x


def _serial_free(parent: Unit | None, serial: str, exclude_id: int | None = None) -> None:
    if serial and Unit.dangerously_unscoped.filter(parent=parent, serial=serial).exclude(pk=exclude_id or 0).exists():
        raise ValidationFailed(f"同一上级下已有编号为 {serial} 的网格。", field="serial", reason=UnitError.SERIAL_TAKEN)


@transaction.atomic
def unit_create(
    *,
    actor: User | None,
    now: dt.datetime,
    parent: Unit | None,
    name: str,
    kind_code: str,
    serial: str = "",
    grid_type: str = "",
    grid_level: int | None = None,
    division_code: str | None = None,
    boundary: Any = None,
    theme_codes: Iterable[str] = (),
    household_estimate: int | None = None,
    sort_order: int = 0,
) -> UnitResult:
    role = _require(actor, P.UNIT_EDIT, parent)
    kind = _kind(kind_code)
    warnings: list[str] = []
    serial = (serial or "").strip()
    _serial_free(parent, serial)
    geojson, lat, lng = _boundary(boundary, parent, warnings)
    unit = Unit(
        name=_clean_name(name),
        kind=kind,
        parent=parent,
        path="",
        depth=(parent.depth + 1) if parent else 0,
        grid_level=grid_level,
        division_code=_clean_division_code(division_code),
        serial=serial,
        grid_type=_clean_grid_type(grid_type),
        boundary=geojson,
        centroid_lat=lat,
        centroid_lng=lng,
        household_estimate=household_estimate,
        sort_order=sort_order,
        created_at=now,
        updated_at=now,
    )
    # The path needs the id: insert with a unique placeholder, then set it.
    unit.path = f"~{now.timestamp()}~{id(unit)}"
    try:
        unit.save()
    except IntegrityError as exc:
        raise ValidationFailed("单位信息与已有单位冲突（编号或区划代码重复）。", reason=UnitError.UNIT_CLASH) from exc
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.dangerously_unscoped.filter(pk=unit.pk).update(path=unit.path)
    if theme_codes:
        unit.themes.set(_themes(theme_codes))
    UnitEvent.objects.create(unit=unit, action=UnitEvent.Action.CREATED, at=now, actor=actor, new_parent=parent,
                             new_path=unit.path)
    audit_record(action="unit.create", actor=actor, now=now, obj=unit, unit_path=unit.path, role=role,
                 detail={"name": unit.name, "kind": kind.code})
    if geojson:
        locate.invalidate_on_commit()
    return UnitResult(unit, warnings)


def _themes(codes: Iterable[str]) -> list[Theme]:
    codes = list(dict.fromkeys(codes))
    themes = list(Theme.objects.filter(code__in=codes))
    if len(themes) != len(codes):
        unknown = set(codes) - {t.code for t in themes}
        raise ValidationFailed(f"未知的专题网格：{'、'.join(sorted(unknown))}", field="themes",
                               reason=CommonError.NOT_A_CHOICE)
    return themes


_EDITABLE = {"name", "serial", "grid_type", "grid_level", "division_code", "household_estimate", "sort_order"}


COUNTY_IDENTITY_MESSAGE = ("县的名称和统计用区划代码关系到事件编号，不能在这里修改："
                           "请使用「变更县级名称或区划代码」并写明原因。")


def _county_identity_untouched(unit: Unit, changes: dict[str, Any], kind_code: str | None) -> None:
    """A county's name and division code (the case numbers' prefix) and its kind change only through
    `county_identity_change` (audited, with a reason); the generic update refuses them."""
    if unit.kind.base != "county":
        if kind_code is not None and kind_code != unit.kind.code and _kind(kind_code).base == "county":
            raise ValidationFailed(COUNTY_IDENTITY_MESSAGE, field="kind")
        return
    for key in ("name", "division_code"):
        if key in changes:
            value = str(changes[key] or "").strip()
            if (value or None) != (getattr(unit, key) or None):
                raise ValidationFailed(COUNTY_IDENTITY_MESSAGE, field=key)
    if kind_code is not None and kind_code != unit.kind.code:
        raise ValidationFailed(COUNTY_IDENTITY_MESSAGE, field="kind")


@transaction.atomic
def county_identity_change(*, actor: User | None, now: dt.datetime, unit_id: int, reason: str, name: str | None = None,
                           division_code: str | None = None) -> UnitResult:
    """Rename a county or change its statistical division code (区划调整), for a written reason; audited
    (`unit.county_identity`) with the old and new values. New cases take the new code as their number
    prefix; every existing case keeps the prefix it was made with (`Case.number_prefix`), so its number
    and its forms' numbers stay as printed. The code cannot be cleared."""
    unit = Unit.dangerously_unscoped.select_for_update(of=("self",)).select_related("parent",
                                                                                    "kind").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    role = _require(actor, P.UNIT_EDIT, unit)
    if unit.kind.base != "county":
        raise ValidationFailed("只有县级单位用这项功能；其他单位在单位页面修改。")
    text = (reason or "").strip()
    if len(text) < 4 or len(text) > 200:
        raise ValidationFailed("请写明变更原因（4 到 200 个字），如区划调整的批准文号。", field="reason")
    diff: dict[str, Any] = {}
    if name is not None:
        clean = _clean_name(name)
        if clean != unit.name:
            diff["name"] = [unit.name, clean]
            unit.name = clean
    if division_code is not None:
        code = _clean_division_code(division_code, exclude_id=unit.pk)
        if code is None:
            raise ValidationFailed("县的统计用区划代码不能为空。", field="division_code")
        if code != unit.division_code:
            diff["division_code"] = [unit.division_code, code]
            unit.division_code = code
    if not diff:
        raise ValidationFailed("名称和区划代码都没有变化。")
    unit.version += 1
    unit.updated_at = now
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError as exc:
        raise ValidationFailed("单位信息与已有单位冲突（区划代码重复）。") from exc
    UnitEvent.objects.create(unit=unit, action=UnitEvent.Action.UPDATED, at=now, actor=actor,
                             changes={**diff, "reason": text})
    audit_record(action="unit.county_identity", actor=actor, now=now, obj=unit, unit_path=unit.path, role=role,
                 detail={"reason": text, "changes": diff})
    return UnitResult(unit, [])


@transaction.atomic
def unit_update(
    *,
    actor: User | None,
    now: dt.datetime,
    unit_id: int,
    expected_version: int | None = None,
    boundary: Any = ...,
    theme_codes: Iterable[str] | None = None,
    kind_code: str | None = None,
    **changes: Any,
) -> UnitResult:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}", reason=CommonError.UNKNOWN_FIELDS)
    unit = Unit.dangerously_unscoped.select_for_update(of=("self",)).select_related("parent",
                                                                                    "kind").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    role = _require(actor, P.UNIT_EDIT, unit)
    if expected_version is not None and unit.version != expected_version:
        raise Conflict("该单位已被他人修改，请刷新后重试。", details={"current_version": unit.version},
                       reason=CommonError.STALE_VERSION)
    _county_identity_untouched(unit, changes, kind_code)
    warnings: list[str] = []
    diff: dict[str, Any] = {}
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    if "division_code" in changes:
        changes["division_code"] = _clean_division_code(changes["division_code"], exclude_id=unit.pk)
    if "grid_type" in changes:
        changes["grid_type"] = _clean_grid_type(changes["grid_type"] or "")
    if "serial" in changes:
        changes["serial"] = (changes["serial"] or "").strip()
        _serial_free(unit.parent, changes["serial"], exclude_id=unit.pk)
    for key, value in changes.items():
        if getattr(unit, key) != value:
            diff[key] = [getattr(unit, key), value]
            setattr(unit, key, value)
    if kind_code is not None and kind_code != unit.kind.code:
        diff["kind"] = [unit.kind.code, kind_code]
        unit.kind = _kind(kind_code)
    boundary_changed = False
    if boundary is not ...:
        geojson, lat, lng = _boundary(boundary, unit.parent, warnings)
        if geojson != unit.boundary:
            boundary_changed = True
            unit.boundary, unit.centroid_lat, unit.centroid_lng = geojson, lat, lng
            diff["boundary"] = ["…", "…"]
    if theme_codes is not None:
        new = sorted(t.code for t in _themes(theme_codes))
        old = sorted(unit.themes.values_list("code", flat=True))
        if new != old:
            unit.themes.set(_themes(new))
            diff["themes"] = [old, new]
    if not diff:
        return UnitResult(unit, warnings)
    unit.version += 1
    unit.updated_at = now
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError as exc:
        raise ValidationFailed("单位信息与已有单位冲突（编号或区划代码重复）。", reason=UnitError.UNIT_CLASH) from exc
    UnitEvent.objects.create(
        unit=unit,
        action=UnitEvent.Action.BOUNDARY if set(diff) == {"boundary"} else UnitEvent.Action.UPDATED,
        at=now, actor=actor, changes={k: v for k, v in diff.items() if k != "boundary"},
    )
    audit_record(action="unit.update", actor=actor, now=now, obj=unit, unit_path=unit.path, role=role,
                 detail={"fields": sorted(diff)})
    if boundary_changed:
        locate.invalidate_on_commit()
    return UnitResult(unit, warnings)


@transaction.atomic
def unit_move(*, actor: User | None, now: dt.datetime, unit_id: int, new_parent_id: int) -> UnitResult:
    """Re-zone a subtree under a new parent: every path below is rewritten in one statement."""
    unit = Unit.dangerously_unscoped.select_for_update(of=("self",)).select_related("parent").filter(pk=unit_id).first()
    new_parent = Unit.dangerously_unscoped.select_for_update().filter(pk=new_parent_id).first()
    if unit is None or new_parent is None:
        raise NotFound()
    role = _require(actor, P.UNIT_EDIT, unit)
    _require(actor, P.UNIT_EDIT, new_parent)
    if unit.parent_id is None:
        raise ValidationFailed("顶级单位不能调整隶属。", reason=UnitError.ROOT_CANNOT_MOVE)
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        raise ValidationFailed(f"不能把「{unit.name}」移到它自己或它的下级单位之下。", field="parent",
                               reason=UnitError.MOVE_INTO_ITSELF)
    if new_parent.pk == unit.parent_id:
        return UnitResult(unit, [])
    if unit.serial and Unit.dangerously_unscoped.filter(parent=new_parent, serial=unit.serial).exists():
        raise ValidationFailed(f"「{new_parent.name}」下已有编号为 {unit.serial} 的网格。", field="serial",
                               reason=UnitError.SERIAL_TAKEN)
    old_parent = unit.parent
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.pk}/"
    delta = new_parent.depth + 1 - unit.depth
    Unit.dangerously_unscoped.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
        updated_at=Value(now),
    )
    Unit.dangerously_unscoped.filter(pk=unit.pk).update(parent=new_parent, version=F("version") + 1)
    access_changed(unit_path=new_path)  # grants in the subtree now cover other paths: new scopes
    unit.refresh_from_db()
    warnings: list[str] = []
    if unit.boundary and new_parent.boundary:
        share = outside_share(parse_boundary(unit.boundary), parse_boundary(new_parent.boundary))
        if share > OUTSIDE_TOLERANCE:
            warnings.append(f"边界有 {share:.0%} 超出新上级「{new_parent.name}」的范围，请核对。")
    UnitEvent.objects.create(unit=unit, action=UnitEvent.Action.MOVED, at=now, actor=actor,
                             old_parent=old_parent, new_parent=new_parent, old_path=old_path, new_path=new_path)
    audit_record(action="unit.move", actor=actor, now=now, obj=unit, unit_path=new_path, role=role,
                 detail={"from": old_path, "to": new_path})
    locate.invalidate_on_commit()
    return UnitResult(unit, warnings)
