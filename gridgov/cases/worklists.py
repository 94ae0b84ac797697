"""Worklists read through the actor's scope: the 回访 worklist and a case's possible duplicates.

- 回访 worklist (`follow_up_worklist`): cases whose result the resident has not answered and staff should ask
  about (by phone or at the door, then record it on 回访): resolved cases awaiting the resident's acceptance
  whose reporter left no phone or has not answered for FOLLOW_UP_QUIET_DAYS, and cases the sweep archived
  because nobody rated them (auto-closed) in the last N days. A case with a 回访 recorded since its
  resolution drops off.
- Possible duplicates (`possible_duplicates`): open cases in the actor's scope that look like the same matter
  as this one — same household, same address, within DUPLICATE_RADIUS_M of it in the same category (as
  `services.duplicates_near` suggests at intake), or a similar title in the same category — each with why.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q

from gridgov.access.scope import Scope

from .models import Case, CaseEvent
from .places import DUPLICATE_RADIUS_M, distance_m
from .states import Status

# A resolved case unanswered for this many days is on the 回访 worklist even when the reporter has a phone.
FOLLOW_UP_QUIET_DAYS = 3
# Auto-closed cases stay on the worklist this many days by default.
FOLLOW_UP_CLOSED_DAYS = 7
# Titles at least this alike (difflib ratio, after dropping spaces and punctuation) suggest the same matter.
TITLE_SIMILARITY = 0.6
# Open cases of the same category looked at for a similar title: the most recent ones.
TITLE_CANDIDATES = 300

OPEN = [Status.REPORTED, Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED, Status.FEEDBACK]


@dataclass(frozen=True)
class FollowUpRow:
    case: Case
    reason: str  # shown: 待群众评价（无联系电话） / 待群众评价，已 5 天未回复 / 无人评价，已自动归档


def follow_up_worklist(*, scope: Scope, now: dt.datetime, days: int = FOLLOW_UP_CLOSED_DAYS,
                       limit: int = 200) -> list[FollowUpRow]:
    days = max(1, min(int(days), 90))
    quiet = now - dt.timedelta(days=FOLLOW_UP_QUIET_DAYS)
    since = now - dt.timedelta(days=days)
    auto_closed = CaseEvent.dangerously_unscoped.filter(case_id=OuterRef("pk"), action="close", actor__isnull=True,
                                            at__gte=since)
    asked = Case.dangerously_unscoped.filter(pk=OuterRef("pk"), follow_ups__at__gte=F("resolved_at"))
    qs = (Case.objects.within(scope)
          .filter(Q(status=Status.RESOLVED) & (Q(reporter_phone_cipher="") | Q(resolved_at__lte=quiet))
                  | Q(status=Status.CLOSED, closed_at__gte=since) & Exists(auto_closed))
          .exclude(Exists(asked))
          .select_related("unit", "category")
          .order_by("resolved_at", "pk")[:limit])
    rows = []
    for case in qs:
        if case.status == Status.CLOSED:
            reason = "无人评价，已自动归档"
        elif not case.reporter_phone_cipher:
            reason = "待群众评价（无联系电话）"
        else:
            waited = (now - case.resolved_at).days if case.resolved_at else 0
            reason = f"待群众评价，已 {waited} 天未回复"
        rows.append(FollowUpRow(case=case, reason=reason))
    return rows


@dataclass(frozen=True)
class Duplicate:
    case: Case
    reasons: tuple[str, ...]


_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def _plain(text: str) -> str:
    return _NOISE.sub("", text or "")


def possible_duplicates(*, scope: Scope, case: Case, limit: int = 5) -> list[Duplicate]:
    """Open cases in the actor's scope that may be the same matter as `case` (never itself or merged ones)."""
    visible = Case.objects.within(scope).filter(status__in=OPEN).exclude(pk=case.pk)
    found: dict[int, list[str]] = {}
    cases: dict[int, Case] = {}

    def add(rows: list[Case], reason: str) -> None:
        for row in rows:
            cases[row.pk] = row
            if reason not in found.setdefault(row.pk, []):
                found[row.pk].append(reason)

    if case.household_id is not None:
        add(list(visible.filter(household_id=case.household_id).order_by("-created_at")[:20]), "同一户")
    address = (case.address or "").strip()
    if len(_plain(address)) >= 4:
        add(list(visible.filter(address=address).order_by("-created_at")[:20]), "同一地址")
    if case.lat is not None and case.lng is not None:
        dlat = DUPLICATE_RADIUS_M / 111_000
        dlng = DUPLICATE_RADIUS_M / (111_000 * max(math.cos(math.radians(case.lat)), 0.01))
        near = visible.filter(category_id=case.category_id, lat__range=(case.lat - dlat, case.lat + dlat),
                              lng__range=(case.lng - dlng, case.lng + dlng)).order_by("-created_at")[:50]
        for row in near:
            if row.lat is not None and row.lng is not None:
                metres = distance_m(case.lat, case.lng, row.lat, row.lng)
                if metres <= DUPLICATE_RADIUS_M:
                    add([row], f"相距约 {metres:.0f} 米")
    title = _plain(case.title)
    if title:
        for row in visible.filter(category_id=case.category_id).order_by("-created_at")[:TITLE_CANDIDATES]:
            if difflib.SequenceMatcher(None, title, _plain(row.title)).ratio() >= TITLE_SIMILARITY:
                add([row], "标题相近")
    ranked = sorted(found, key=lambda pk: (-len(found[pk]), -cases[pk].created_at.timestamp(), -pk))
    return [Duplicate(case=cases[pk], reasons=tuple(found[pk])) for pk in ranked[:limit]]
