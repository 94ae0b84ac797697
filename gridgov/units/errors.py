"""Stable reasons of the domain errors of the grid hierarchy (units, divisions).

An API client reads `reason` in the error body to tell one refusal from another without parsing the
Chinese message; a value never changes meaning once released (add a new one instead). Refusals every
app shares (a field left empty, too long, badly formed...) use gridgov.core.errors.CommonError.
"""

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
