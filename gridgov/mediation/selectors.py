"""Reads of mediation cases, always through the actor's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from gridgov.access.models import Grant, User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.clock import LOCAL_TZ
from gridgov.core.errors import ValidationFailed
from gridgov.core.pages import NumberedPage
from gridgov.units.models import Unit

from . import sealing
from .models import MediationCase, MediationEvent, MediationParty, MediationSession
from .states import OPEN, Status

PAGE_SIZE = 50


@dataclass(frozen=True)
class LedgerFilter:
    """The 调解台账's filters: accepted in [start, end) (local dates), type, mode, state, unit."""

    start: dt.date | None = None
    end: dt.date | None = None
    dispute_type: str = ""
    mode: str = ""
    status: str = ""
    unit_id: int | None = None
    overdue: bool = False


def number_referred_from(*, case_id: int) -> str | None:
    """The number of the mediation referred from this case (转调解), if any: for the referral check,
    which refuses a second referral. A number only; the mediation itself is read through a scope."""
    found: str | None = (MediationCase.dangerously_unscoped.filter(source_case_id=case_id)
                         .values_list("number", flat=True).first())
    return found


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)


def _ledger_ids(*, scope: Scope, filters: LedgerFilter, now: dt.datetime) -> QuerySet[MediationCase, int] | None:
    """The ids of the ledger rows in scope matching the filters, newest first (None: nothing can match)."""
    qs: QuerySet[MediationCase] = MediationCase.objects.within(scope)
    if filters.start is not None:
        qs = qs.filter(accepted_at__gte=_day_start(filters.start))
    if filters.end is not None:
        qs = qs.filter(accepted_at__lt=_day_start(filters.end + dt.timedelta(days=1)))
    if filters.dispute_type:
        qs = qs.filter(dispute_type=filters.dispute_type)
    if filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.unit_id is not None:
        unit = Unit.dangerously_unscoped.filter(pk=filters.unit_id).first()
        if unit is None or not scope.covers(unit.path):
            return None
        qs = qs.filter(Q(unit_path__startswith=unit.path) | Q(committee_path__startswith=unit.path))
    if filters.overdue:
        qs = qs.filter(status__in=[s.value for s in OPEN], due_at__lt=now)
    return qs.order_by("-accepted_at", "-id").values_list("pk", flat=True)


def _rows(ids: list[int]) -> list[MediationCase]:
    if not ids:
        return []
    return list(MediationCase.dangerously_unscoped.filter(pk__in=ids)
                .select_related("unit", "committee_unit", "presiding").order_by("-accepted_at", "-id"))


@dataclass(frozen=True)
class LedgerSlice:
    rows: list[MediationCase]
    next_after: int | None  # the last row's id when more follow, else None


def mediation_ledger(*, scope: Scope, filters: LedgerFilter, now: dt.datetime, after: int | None = None,
                     limit: int = PAGE_SIZE) -> LedgerSlice:
    """The API's list, keyset-paged in the ledger's order (newest accepted first, then the higher id):
    the `limit` rows after the mediation `after`, the last row the client has. Three queries whatever
    the page (where `after` stands, the ids, those rows). An `after` out of scope is refused exactly
    like a missing one, so paging tells nobody which mediations exist."""
    ids = _ledger_ids(scope=scope, filters=filters, now=now)
    if ids is None:
        return LedgerSlice(rows=[], next_after=None)
    if after is not None:
        mark = MediationCase.objects.within(scope).filter(pk=after).values_list("accepted_at", flat=True).first()
        if mark is None:
            raise ValidationFailed("翻页位置无效，请从第一页重新查询。", field="after")
        ids = ids.filter(Q(accepted_at__lt=mark) | Q(accepted_at=mark, pk__lt=after))
    got = list(ids[:limit + 1])
    return LedgerSlice(rows=_rows(got[:limit]), next_after=got[limit - 1] if len(got) > limit else None)


@dataclass(frozen=True)
class LedgerPage(NumberedPage):
    rows: list[MediationCase]
    number: int  # 1-based, clamped to the pages there are
    pages: int  # at least 1
    total: int


def mediation_ledger_page(*, scope: Scope, filters: LedgerFilter, now: dt.datetime, page: int,
                          per_page: int = PAGE_SIZE) -> LedgerPage:
    """One page of the 调解台账: three queries whatever the page (how many rows match, the page's ids,
    those rows with their units and presiding mediator). A mediation ledger holds a township's disputes
    of a few years (hundreds), so counting it is cheap; a page past the end shows the last one."""
    ids = _ledger_ids(scope=scope, filters=filters, now=now)
    if ids is None:
        return LedgerPage(rows=[], number=1, pages=1, total=0)
    total = ids.count()
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    offset = (number - 1) * per_page
    rows = _rows(list(ids[offset:offset + per_page])) if total else []
    return LedgerPage(rows=rows, number=number, pages=pages, total=total)


def mediation_get(*, scope: Scope, mediation_id: int) -> MediationCase:
    qs = MediationCase.objects.select_related("unit", "committee_unit", "county", "presiding", "registered_by",
                                              "source_department")
    return get_in_scope(qs, scope, pk=mediation_id)  # type: ignore[no-any-return]


def parties_masked(*, scope: Scope, mediation: MediationCase) -> list[MediationParty]:
    """The parties as every page shows them: 王*, 138****5678, 1402**********1234."""
    return list(MediationParty.dangerously_unscoped.filter(mediation=mediation).order_by("seq"))


def can_unmask(*, scope: Scope, mediation: MediationCase) -> bool:
    return any(scope.can(P.MEDIATION_UNMASK, p) for p in (mediation.committee_path, mediation.unit_path))


def can_handle(*, scope: Scope, mediation: MediationCase) -> bool:
    return scope.can(P.MEDIATION_HANDLE, mediation.committee_path)


@dataclass(frozen=True)
class SessionView:
    seq: int
    held_on: dt.date
    place: str
    attendees: str
    notes: str  # "" for viewers outside the mediating committee
    recorded_by: str


def sessions(*, scope: Scope, mediation: MediationCase) -> list[SessionView]:
    """调解记录. The notes of each sitting are for the mediating committee only (sealed at rest); a grid
    worker who found the dispute sees when and where it was mediated, not what was said."""
    show = can_handle(scope=scope, mediation=mediation)
    rows = (MediationSession.dangerously_unscoped.filter(mediation=mediation).select_related("recorded_by")
            .order_by("seq"))
    return [
        SessionView(
            seq=s.seq,
            held_on=s.held_on,
            place=s.place,
            attendees=s.attendees,
            notes=sealing.reveal(s.notes_cipher, sealing.NOTES_PURPOSE) if show else "",
            recorded_by=s.recorded_by.display_name if s.recorded_by else "",
        )
        for s in rows
    ]


def agreement_terms(*, scope: Scope, mediation: MediationCase) -> str:
    if not mediation.agreement_terms_cipher or not can_handle(scope=scope, mediation=mediation):
        return ""
    return sealing.reveal(mediation.agreement_terms_cipher, sealing.TERMS_PURPOSE)


def timeline(*, scope: Scope, mediation: MediationCase) -> list[MediationEvent]:
    return list(MediationEvent.dangerously_unscoped.filter(mediation=mediation).select_related("actor").order_by("seq"))


def register_units(*, scope: Scope) -> list[Unit]:
    """Units where the actor may register a dispute: their grants' units and everything below (capped)."""
    paths = scope.paths_for(P.MEDIATION_REGISTER)
    if not paths:
        return []
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return list(Unit.dangerously_unscoped.filter(q, is_active=True).select_related("kind").order_by("path")[:500])


def presiding_candidates(*, committee: Unit) -> list[User]:
    """People who may preside at this committee: holders of mediation.handle at it or above it."""
    grants = (
        Grant.dangerously_unscoped.filter(
            revoked_at__isnull=True, unit_id__in=committee.path_ids(), user__is_active=True
        )
        .select_related("user", "role")
        .order_by("unit__depth", "user__full_name")
    )
    seen: dict[int, User] = {}
    for g in grants:
        if P.MEDIATION_HANDLE in g.role.permissions and g.user_id not in seen:
            seen[g.user_id] = g.user
    return list(seen.values())


def overdue_count(*, scope: Scope, now: dt.datetime) -> int:
    return MediationCase.objects.within(scope).filter(status__in=[s.value for s in OPEN], due_at__lt=now).count()


def status_counts(*, scope: Scope) -> dict[str, int]:
    from django.db.models import Count

    rows = MediationCase.objects.within(scope).values("status").annotate(n=Count("id")).order_by()
    counts = {s.value: 0 for s in Status}
    for r in rows:
        counts[r["status"]] = r["n"]
    return counts


def api_row(m: MediationCase) -> dict[str, Any]:
    return {
        "id": m.pk,
        "number": m.number,
        "title": m.title,
        "dispute_type": m.dispute_type,
        "mode": m.mode,
        "level": m.level,
        "status": m.status,
        "unit": m.unit.name,
        "committee": m.committee_unit.name,
        "accepted_at": m.accepted_at,
        "due_at": m.due_at,
        "concluded_at": m.concluded_at,
    }
