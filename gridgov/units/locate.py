"""Point-in-grid: which deepest unit contains a point.

The index (a shapely STRtree over every boundary) is built once per process and
rebuilt when the boundary version in the shared cache changes, so every app server
sees an edit made on any of them.
"""

from __future__ import annotations

import threading
import uuid

from django.core.cache import cache
from django.db import transaction

from gridgov.geo.geometry import IndexedShape, ShapeIndex, parse_boundary, validate_point

from .models import Unit

_VERSION_KEY = "gridgov:units:boundary-version"
_lock = threading.Lock()
_index: ShapeIndex | None = None
_index_version: str | None = None


def _current_version() -> str:
    version = cache.get(_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(_VERSION_KEY, version, timeout=None)
        version = cache.get(_VERSION_KEY, version)
    return str(version)


def boundary_version() -> str:
    """Changes whenever any boundary changes (for caches of drawn or serialised boundaries)."""
    return _current_version()


def invalidate() -> None:
    cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate)


def _build() -> ShapeIndex:
    rows = Unit.dangerously_unscoped.filter(is_active=True, boundary__isnull=False).values_list("pk", "depth",
                                                                                                "boundary")
    return ShapeIndex(IndexedShape(key=pk, depth=depth, geom=parse_boundary(b)) for pk, depth, b in rows.iterator())


def index() -> ShapeIndex:
    global _index, _index_version
    version = _current_version()
    if _index is None or _index_version != version:
        with _lock:
            if _index is None or _index_version != version:
                _index = _build()
                _index_version = version
    return _index


def unit_id_at(lat: float, lng: float) -> int | None:
    """The id of the deepest active unit whose boundary contains the point, or None."""
    validate_point(lat, lng)
    return index().deepest_containing(lat, lng)
