"""The bridge from a visit to the case closed loop: a problem found on a visit becomes a case through
the cases intake service (`case_report`, channel 走访, naming the household). Visits and cases are
workflow apps that never import each other, so the interfaces hand this to `visit_record`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gridgov.cases.intake import case_report
from gridgov.cases.models import Channel


def raise_case_from_visit(*, actor: Any, now: dt.datetime, household_id: int, title: str, description: str,
                          category_code: str, urgency: str, idempotency_key: str) -> tuple[int, str]:
    result = case_report(actor=actor, now=now, title=title, description=description, category_code=category_code,
                         channel=Channel.VISIT, urgency=urgency or "ordinary", household_id=household_id,
                         idempotency_key=idempotency_key)
    return result.case.pk, result.case.number
