"""China's statistical division codes (统计用区划代码) for counties and townships, read from the
CSVs in data/divisions/, and the office's import of a county's townships as units.

A full code has 12 digits: a county is its 6 digits + "000000", a township its 9 digits + "000".
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.db import transaction

from gridgov.access.models import User
from gridgov.core.errors import ValidationFailed

from .errors import UnitError
from .models import Unit
from .services import unit_create

DATA_DIR = Path(__file__).resolve().parent / "data" / "divisions"


@dataclass(frozen=True)
class Division:
    code: str  # 2, 4, 6 or 9 digits as in the source files
    name: str
    parent_code: str

    @property
    def full_code(self) -> str:
        """The 12-digit statistical code."""
        return self.code.ljust(12, "0")

    @property
    def kind_code(self) -> str:
        """township or subdistrict, from the name's ending (街道 is a subdistrict)."""
        return "subdistrict" if self.name.endswith("街道") else "township"


def _read(name: str, parent_column: str) -> tuple[Division, ...]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return tuple(Division(row["code"], row["name"], row[parent_column]) for row in csv.DictReader(fh))


@lru_cache(maxsize=1)
def provinces() -> dict[str, Division]:
    return {d.code: d for d in _read("provinces.csv", "code")}


@lru_cache(maxsize=1)
def counties() -> dict[str, Division]:
    return {d.code: d for d in _read("areas.csv", "provinceCode")}


@lru_cache(maxsize=1)
def _townships_by_county() -> dict[str, tuple[Division, ...]]:
    grouped: dict[str, list[Division]] = {}
    for d in _read("streets.csv", "areaCode"):
        grouped.setdefault(d.parent_code, []).append(d)
    return {k: tuple(sorted(v, key=lambda d: d.code)) for k, v in grouped.items()}


def county(code: str) -> Division:
    code = (code or "").strip()
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]
    found = counties().get(code)
    if found is None:
        raise ValidationFailed(f"找不到区划代码为 {code} 的县（区）。", field="county",
                               reason=UnitError.COUNTY_NOT_FOUND)
    return found


def townships(county_code: str) -> tuple[Division, ...]:
    return _townships_by_county().get(county(county_code).code, ())


def township(county_code: str, name: str) -> Division | None:
    return next((d for d in townships(county_code) if d.name == name), None)


def counties_with_townships(minimum: int) -> list[Division]:
    """Counties (名称以“县”结尾) with at least `minimum` townships, in code order."""
    by_county = _townships_by_county()
    return [
        c for code, c in sorted(counties().items())
        if c.name.endswith("县") and len(by_county.get(code, ())) >= minimum
    ]


@dataclass
class ImportResult:
    county: Unit
    created: list[Unit]
    existing: list[Unit]


@transaction.atomic
def import_county_townships(*, actor: User | None, now: dt.datetime, county_code: str) -> ImportResult:
    """Create the county (when missing) and each of its townships as units, matched by division
    code so that running it again creates nothing twice."""
    c = county(county_code)
    root = Unit.dangerously_unscoped.filter(division_code=c.full_code).first()
    created: list[Unit] = []
    existing: list[Unit] = []
    if root is None:
        root = unit_create(actor=actor, now=now, parent=None, name=c.name, kind_code="county",
                           division_code=c.full_code).unit
        created.append(root)
    else:
        existing.append(root)
    present = {
        u.division_code: u
        for u in Unit.dangerously_unscoped.filter(division_code__in=[t.full_code for t in townships(c.code)])
    }
    for order, t in enumerate(townships(c.code)):
        unit = present.get(t.full_code)
        if unit is not None:
            if unit.parent_id != root.pk:
                raise ValidationFailed(f"「{unit.name}」（{t.full_code}）已存在，但不在「{root.name}」之下。",
                                       reason=UnitError.TOWNSHIP_ELSEWHERE)
            existing.append(unit)
            continue
        created.append(
            unit_create(actor=actor, now=now, parent=root, name=t.name, kind_code=t.kind_code,
                        division_code=t.full_code, sort_order=order).unit
        )
    return ImportResult(county=root, created=created, existing=existing)
