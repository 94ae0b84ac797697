"""The stable reasons of the refusals of the grid hierarchy (see gridgov.core.errors)."""

from __future__ import annotations

from enum import StrEnum


class UnitError(StrEnum):
    COUNTY_NOT_FOUND = "units.county_not_found"
    DIVISION_CODE_TAKEN = "units.division_code_taken"
    MOVE_INTO_ITSELF = "units.move_into_itself"
    ROOT_CANNOT_MOVE = "units.root_cannot_move"
    ROOT_FOR_SYSTEM_ADMIN_ONLY = "units.root_for_system_admin_only"
    SERIAL_TAKEN = "units.serial_taken"
    TOWNSHIP_ELSEWHERE = "units.township_elsewhere"
    UNIT_CLASH = "units.unit_clash"
