"""Stable reasons of the domain errors of the household ledger (residents, households, tags, imports, exports).

An API client reads `reason` in the error body to tell one refusal from another without parsing the
Chinese message; a value never changes meaning once released (add a new one instead). Refusals every
app shares (a field left empty, too long, badly formed...) use gridgov.core.errors.CommonError.
"""

from __future__ import annotations

from enum import StrEnum


class ResidentError(StrEnum):
    ALREADY_IN_HOUSEHOLD = "residents.already_in_household"
    AWAY_PLACE_MISSING = "residents.away_place_missing"
    BIRTH_DATE_MISMATCH = "residents.birth_date_mismatch"
    BOARD_TOO_LARGE = "residents.board_too_large"
    EXPORT_ALREADY_DECIDED = "residents.export_already_decided"
    EXPORT_EMPTY = "residents.export_empty"
    FILE_TOO_LARGE = "residents.file_too_large"
    GENDER_MISMATCH = "residents.gender_mismatch"
    GRID_AMBIGUOUS = "residents.grid_ambiguous"
    GRID_NOT_FOUND = "residents.grid_not_found"
    GRID_NOT_LOWEST = "residents.grid_not_lowest"
    GRID_OUTSIDE_SCOPE = "residents.grid_outside_scope"
    HOUSEHOLD_CLOSED = "residents.household_closed"
    ID_NUMBER_BIRTH_DATE = "residents.id_number_birth_date"
    ID_NUMBER_CHECKSUM = "residents.id_number_checksum"
    ID_NUMBER_LENGTH = "residents.id_number_length"
    ID_NUMBER_REGION = "residents.id_number_region"
    ID_NUMBER_SCIENTIFIC = "residents.id_number_scientific"
    ID_NUMBER_TAKEN = "residents.id_number_taken"
    LOCATION_INCOMPLETE = "residents.location_incomplete"
    MERGE_INTO_ITSELF = "residents.merge_into_itself"
    NOT_A_PARTY_MEMBER = "residents.not_a_party_member"
    NOT_AN_EXCEL_FILE = "residents.not_an_excel_file"
    OLD_EXCEL_FORMAT = "residents.old_excel_format"
    OUTSIDE_EVERY_GRID = "residents.outside_every_grid"
    PARTY_MEMBER_ALREADY_LINKED = "residents.party_member_already_linked"
    RESIDENT_NOT_REGISTERED = "residents.resident_not_registered"
    SECOND_HEAD = "residents.second_head"
    SHEET_COLUMNS_MISSING = "residents.sheet_columns_missing"
    SHEET_HAS_FORMULAS = "residents.sheet_has_formulas"
    SHEET_MERGED_CELLS = "residents.sheet_merged_cells"
    SHEET_NOT_FOUND = "residents.sheet_not_found"
    SPLIT_EVERYONE = "residents.split_everyone"
    SPLIT_NOT_MEMBERS = "residents.split_not_members"
    TAG_ALREADY_ASSIGNED = "residents.tag_already_assigned"
    TAG_ALREADY_ENDED = "residents.tag_already_ended"
    TAG_CODE_TAKEN = "residents.tag_code_taken"
    TAG_IN_USE = "residents.tag_in_use"
    TAG_NAME_TAKEN = "residents.tag_name_taken"
    TAG_TARGET_MISSING = "residents.tag_target_missing"
    TAG_WRONG_TARGET = "residents.tag_wrong_target"
    TOO_MANY_ROWS = "residents.too_many_rows"
    WORKER_NOT_ON_GRID = "residents.worker_not_on_grid"
