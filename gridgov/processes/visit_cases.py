"""Visit finding → case: a problem found on a visit becomes a case through the cases intake service
(`case_report`, channel 走访, naming the household). Visits and cases are workflow apps that never import
each other, so the interfaces hand this process to `visit_record` (the visits `CaseRaiser` protocol); it
runs inside the visit's transaction, so a refused case leaves no visit either."""

from __future__ import annotations

import datetime as dt

from gridgov.access.models import User
from gridgov.cases.intake import case_report

# cases.models.Channel.VISIT (走访), by value: a process never imports a workflow app's models.
VISIT_CHANNEL = "visit"


def raise_case_from_visit(*, actor: User, now: dt.datetime, household_id: int, title: str, description: str,
                          category_code: str, urgency: str, idempotency_key: str) -> tuple[int, str]:
    result = case_report(actor=actor, now=now, title=title, description=description, category_code=category_code,
                         channel=VISIT_CHANNEL, urgency=urgency or "ordinary", household_id=household_id,
                         idempotency_key=idempotency_key)
    return result.case.pk, result.case.number
