"""The case loop's write paths, re-exported for the callers that import them from one place
(pages, the API, tests). The code lives by use case: intake.py (case_report), transitions.py
(case_act, the ONE locked transition, and its handlers), categories.py (the category tree),
reveal.py (the reporter in full), holders.py, numbering.py, places.py."""

from __future__ import annotations

from .categories import category_create, category_update, department_kinds
from .holders import holder_user_ids, holder_user_ids_many
from .intake import IntakeResult, case_report, duplicates_near
from .numbering import FormKind, form_number, next_number
from .places import DUPLICATE_RADIUS_M, ON_SITE_RADIUS_M, county_of, distance_m, unit_rank
from .reveal import RevealedReporter, case_reporter_unmask
from .transitions import HANDLERS, Change, ReturnReason, action_params, allowed_actions, case_act, transition

__all__ = [
    "DUPLICATE_RADIUS_M", "HANDLERS", "ON_SITE_RADIUS_M", "Change", "FormKind", "IntakeResult", "ReturnReason",
    "RevealedReporter", "action_params", "allowed_actions", "case_act", "case_report", "case_reporter_unmask",
    "category_create", "category_update", "county_of", "department_kinds", "distance_m", "duplicates_near",
    "form_number", "holder_user_ids", "holder_user_ids_many", "next_number", "transition", "unit_rank",
]
