"""The stable reasons of the refusals of visits, visit rules and visit campaigns (see gridgov.core.errors)."""

from __future__ import annotations

from enum import StrEnum


class VisitError(StrEnum):
    CAMPAIGN_CANCELLED = "visits.campaign_cancelled"
    CAMPAIGN_DATES = "visits.campaign_dates"
    CAMPAIGN_NOT_COVERING = "visits.campaign_not_covering"
    CAMPAIGN_NOT_FOUND = "visits.campaign_not_found"
    CAMPAIGN_TOO_OLD = "visits.campaign_too_old"
    CASE_UNAVAILABLE = "visits.case_unavailable"
    HOUSEHOLD_CLOSED = "visits.household_closed"
    HOUSEHOLD_NOT_FOUND = "visits.household_not_found"
    IDEMPOTENCY_KEY_REUSED = "visits.idempotency_key_reused"
    LOCATION_INCOMPLETE = "visits.location_incomplete"
    NO_CAMPAIGN_RUNNING = "visits.no_campaign_running"
    VISIT_IN_FUTURE = "visits.visit_in_future"
    VISIT_TOO_OLD = "visits.visit_too_old"
