"""Case → mediation referral (转调解): a dispute that came in as a case (事件) is taken up in the mediation
ledger. Cases and mediation are workflow apps that never import each other; this process checks the case
through the cases selectors and registers the mediation through `mediation_register`, handing it the
check (`check_referral`) so the check runs in the registration's transaction.

A case may be referred when it exists, is in the actor's scope (otherwise it looks exactly like a missing
case: NotFound), is still being handled (not 待验收/已办结, not 不予受理/已合并/已注销) and has not been
referred yet (the mediation's unique constraint `mediation_one_per_case` holds this under races too)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from gridgov.access.models import User
from gridgov.access.scope import Scope, scope_for
from gridgov.cases import selectors as case_selectors
from gridgov.cases.states import status_def
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.mediation import selectors as mediation_selectors
from gridgov.mediation import services as mediation_services

NOT_FOUND = "没有找到该事件，或该事件不在您的范围内，请核对事件编号。"
# Case status types (cases.states.StatusType values) that end a case: it can no longer be referred.
ENDED_TYPES = frozenset({"done", "rejected"})
# A case's category → the dispute type the mediation form starts with.
CASE_CATEGORY_TYPES = {"dispute_neighbour": "neighbour", "dispute_land": "land", "labour": "labour",
                       "labour_wages": "labour"}


def dispute_type_of(category_code: str) -> str:
    return CASE_CATEGORY_TYPES.get(category_code, "other" if category_code.startswith("dispute") else "")


def _case_in_scope(scope: Scope, case_id: Any, case_number: str = "") -> Any:
    """The case a referral names (by id, or by its number when no id is given or the two disagree), only
    one the actor may see: otherwise NotFound, as if it did not exist."""
    number = str(case_number or "").strip()
    raw = str(case_id if case_id is not None else "").strip()
    case = None
    if raw.isdecimal() and len(raw) < 19:
        try:
            case = case_selectors.case_get(scope=scope, case_id=int(raw))
        except NotFound:
            case = None
    if case is None or (number and case.number != number):
        case = case_selectors.cases_visible(scope=scope).filter(number=number[:32]).first() if number else None
    if case is None:
        raise NotFound(NOT_FOUND, field="source_case_number")
    return case


def _actor_scope(actor: User | None) -> Scope:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录。")
    return scope_for(actor)


def check_referral(*, actor: User | None, now: dt.datetime, case_id: int, case_number: str) -> tuple[int, str]:
    """The referral check `mediation_register` runs (its `CaseCheck`): returns the case's id and number."""
    case = _case_in_scope(_actor_scope(actor), case_id, case_number)
    if status_def(case.status).type in ENDED_TYPES:
        raise ValidationFailed(f"该事件当前为“{case.get_status_display()}”，不能再转调解。",
                               field="source_case_number")
    referred = mediation_selectors.number_referred_from(case_id=case.pk)
    if referred is not None:
        raise Conflict(f"该事件已转调解（调解编号 {referred}），不能重复转调解。", field="source_case_number")
    return case.pk, case.number


@dataclass(frozen=True)
class ReferralDraft:
    """What a referral starts from: the case's title, text, place and the dispute type of its category."""

    case_id: int
    case_number: str
    title: str
    summary: str
    unit_id: int
    dispute_type: str


def _draft(case: Any) -> ReferralDraft:
    return ReferralDraft(case_id=case.pk, case_number=case.number, title=case.title, summary=case.description,
                         unit_id=case.unit_id, dispute_type=dispute_type_of(case.category.code))


def referral_draft(*, actor: User, case_id: Any) -> ReferralDraft:
    """The mediation form prefilled from a case the actor may see (NotFound otherwise)."""
    return _draft(_case_in_scope(_actor_scope(actor), case_id))


@transaction.atomic
def case_refer_to_mediation(*, actor: User, now: dt.datetime, case_id: Any = None, case_number: str = "",
                            mode: str, level: str, parties: Any, title: str | None = None,
                            summary: str | None = None, dispute_type: str | None = None, unit_id: Any = None,
                            presiding_id: Any = None) -> Any:
    """转调解: register a mediation referred from a case (named by id, or by number). Title, summary, place
    and dispute type left as None are taken from the case. Refusals are Chinese DomainErrors; a refusal
    writes nothing. Returns the new mediation (mediation.MediationCase)."""
    case = _case_in_scope(_actor_scope(actor), case_id, case_number)
    draft = _draft(case)
    try:
        with transaction.atomic():
            return mediation_services.mediation_register(
                actor=actor, now=now, source="case", source_case_id=draft.case_id, source_case_number=draft.case_number,
                check_case=check_referral,
                title=draft.title if title is None else title, summary=draft.summary if summary is None else summary,
                dispute_type=draft.dispute_type if dispute_type is None else dispute_type,
                unit_id=draft.unit_id if unit_id is None else unit_id, mode=mode, level=level,
                parties=parties, presiding_id=presiding_id)
    except IntegrityError as exc:
        # Another referral of the same case committed between the check and the insert.
        if "mediation_one_per_case" not in str(exc) and "source_case_id" not in str(exc):
            raise
        raise Conflict("该事件已转调解，不能重复转调解。", field="source_case_number") from exc
