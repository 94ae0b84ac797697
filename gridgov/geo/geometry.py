"""Boundaries as GeoJSON, checked with shapely, and a point index over them.

Coordinates are WGS-84/CGCS2000 longitude, latitude (GeoJSON order) everywhere inside
GridGov; conversion to GCJ-02 for map providers that need it lives in geo/coords.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree
from shapely.validation import explain_validity

from gridgov.core.errors import ValidationFailed

MAX_VERTICES = 20_000


def parse_boundary(value: Any) -> BaseGeometry:
    """Parse and check a GeoJSON Polygon or MultiPolygon; raise a Chinese message if unfit."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValidationFailed("边界不是有效的 GeoJSON 文本。", field="boundary") from exc
    if not isinstance(value, dict):
        raise ValidationFailed("边界必须是 GeoJSON 对象。", field="boundary")
    if value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            raise ValidationFailed("GeoJSON Feature 缺少几何图形。", field="boundary")
    if value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed("边界只能是多边形（Polygon 或 MultiPolygon）。", field="boundary")
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValidationFailed("边界坐标格式不正确。", field="boundary") from exc
    if geom.is_empty:
        raise ValidationFailed("边界不能为空。", field="boundary")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise ValidationFailed(f"边界的顶点太多（最多 {MAX_VERTICES} 个）。", field="boundary")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationFailed("边界坐标超出经纬度范围（应为经度、纬度顺序）。", field="boundary")
    if not geom.is_valid:
        reason = explain_validity(geom)
        if "Self-intersection" in reason:
            raise ValidationFailed("边界自相交，请检查顶点顺序。", field="boundary", details={"reason": reason})
        raise ValidationFailed("边界图形无效，请检查坐标。", field="boundary", details={"reason": reason})
    if geom.area <= 0:
        raise ValidationFailed("边界面积为零。", field="boundary")
    return geom


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geom))


def outside_share(child: BaseGeometry, parent: BaseGeometry) -> float:
    """Share of the child's area lying outside the parent (0 when nested)."""
    if child.area == 0:
        return 0.0
    return float(child.difference(parent).area / child.area)


def validate_point(lat: float, lng: float) -> Point:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed("位置坐标超出范围。", field="location")
    return Point(lng, lat)


@dataclass(frozen=True)
class IndexedShape:
    key: int
    depth: int
    geom: BaseGeometry


class ShapeIndex:
    """Point lookup over many polygons: which is the deepest one containing a point."""

    def __init__(self, shapes: Iterable[IndexedShape]) -> None:
        self._shapes: Sequence[IndexedShape] = list(shapes)
        self._tree = STRtree([s.geom for s in self._shapes]) if self._shapes else None
        for s in self._shapes:
            shapely.prepare(s.geom)

    def __len__(self) -> int:
        return len(self._shapes)

    def deepest_containing(self, lat: float, lng: float) -> int | None:
        if self._tree is None:
            return None
        point = Point(lng, lat)
        best: IndexedShape | None = None
        for i in self._tree.query(point, predicate="intersects"):
            candidate = self._shapes[int(i)]
            if best is None or candidate.depth > best.depth:
                best = candidate
        return best.key if best else None
