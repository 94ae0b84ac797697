"""The stable reasons of the case loop's refusals (see gridgov.core.errors): an API client tells "category
missing" from "location outside the county" by these, never by the Chinese message."""

from __future__ import annotations

from enum import StrEnum


class CaseError(StrEnum):
    LOCATION_INCOMPLETE = "cases.location_incomplete"
    LOCATION_MISSING = "cases.location_missing"
    LOCATION_OUTSIDE_COUNTY = "cases.location_outside_county"
    UNIT_NOT_FOUND = "cases.unit_not_found"
    HOUSEHOLD_NOT_FOUND = "cases.household_not_found"
    CATEGORY_MISSING = "cases.category_missing"
    CATEGORY_UNKNOWN = "cases.category_unknown"
    URGENCY_UNKNOWN = "cases.urgency_unknown"
    CHANNEL_UNKNOWN = "cases.channel_unknown"
    IDEMPOTENCY_KEY_TOO_LONG = "cases.idempotency_key_too_long"
    IDEMPOTENCY_KEY_REUSED = "cases.idempotency_key_reused"
