"""Where a case is: distances (四必到 check-ins, duplicates nearby), the county above a unit, and
the rank of a unit in the hierarchy (who may finish which category)."""

from __future__ import annotations

import math

from gridgov.units.models import Unit

from .models import BASE_RANK

ON_SITE_RADIUS_M = 500.0
DUPLICATE_RADIUS_M = 300.0


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def unit_rank(unit: Unit) -> int:
    return BASE_RANK.get(unit.kind.base, 0)

