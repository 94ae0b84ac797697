"""The reporter's identity in full (姓名、电话), for a stated reason and audited: never to a department."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed

from . import disclosure, reporter
from .models import Case
from .transitions import case_visible as _visible

UNMASK_REASON_MIN = 4


@dataclass(frozen=True)
class RevealedReporter:
    name: str
    phone: str


@transaction.atomic
def case_reporter_unmask(*, actor: User | None, now: dt.datetime, case_id: int, reason: str) -> RevealedReporter:
    """The reporter's full name and phone, for a user holding resident.unmask over the place or the
    answerable unit, or in a department the office disclosed the reporter to, for a stated reason;
    audited. Without a disclosure a department never sees who reported (never an anonymous reporter)."""
    case = Case.dangerously_unscoped.filter(pk=case_id).first()
    if case is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not _visible(scope, case):
        raise NotFound()
    path = next((p for p in (case.unit_path, case.owner_path) if scope.can(P.RESIDENT_UNMASK, p)), None)
    if path is None and disclosure.disclosed_to(scope, case):
        path = case.unit_path  # a department the office disclosed the reporter to (reporter disclosure)
    if path is None:
        raise PermissionDenied("您没有查看反映人完整姓名和电话的权限。")
    text = (reason or "").strip()
    if len(text) < UNMASK_REASON_MIN:
        raise ValidationFailed(f"请写明查看反映人完整信息的原因（至少 {UNMASK_REASON_MIN} 个字）。", field="reason")
    if len(text) > 200:
        raise ValidationFailed("原因不能超过 200 个字。", field="reason")
    audit_record(action="case.reporter_unmask", actor=actor, now=now, obj=case, unit_path=path,
                 role=scope.role_at(path), detail={"reason": text, "fields": ["name", "phone"],
                                                   "number": case.number})
    return RevealedReporter(name=reporter.reveal_name(case), phone=reporter.reveal_phone(case))
