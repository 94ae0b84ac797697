"""A 有困难 reply to a notice becomes a case in one step (转为事件), carrying the household: the case is
reported through cases' intake and its number is kept on the reply, in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from gridgov.access.models import User
from gridgov.access.scope import scope_for
from gridgov.cases.intake import case_report
from gridgov.core.errors import Conflict, ValidationFailed
from gridgov.notices import selectors as notice_selectors
from gridgov.notices import services as notice_services

CATEGORY = "livelihood"


@transaction.atomic
def notice_reply_to_case(*, actor: User, now: dt.datetime, reply_id: Any, category_code: str = CATEGORY) -> Any:
    """Report a case from a 有困难 reply (the household's grid, the reply's text) and link it back."""
    reply = notice_selectors.reply_get(scope=scope_for(actor), reply_id=reply_id)
    if reply.kind != "difficulty":
        raise ValidationFailed("只有“有困难”的回复可以转为事件。")
    if reply.case_number:
        raise Conflict(f"这条回复已经转为事件 {reply.case_number}。")
    household = reply.delivery.household
    result = case_report(actor=actor, now=now, title=f"通知回复有困难：{reply.notice.title}"[:80],
                         description=f"居民回复通知「{reply.notice.title}」时说有困难：{reply.text}",
                         category_code=category_code, channel="field", unit_id=reply.delivery.unit_id,
                         household_id=household.pk, address=household.address,
                         idempotency_key=f"notice-reply-{reply.pk}", key_namespace="notices")
    notice_services.reply_case_linked(actor=actor, now=now, reply_id=reply.pk, case_number=result.case.number)
    return result.case
