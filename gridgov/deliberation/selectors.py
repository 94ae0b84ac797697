"""Reads of deliberation, each through the actor's scope (out of scope is NotFound, like missing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.units.models import Unit

from . import services
from .models import (
    Ballot,
    Choice,
    ConsultationNote,
    Evaluation,
    ProgressEntry,
    Proposal,
    ProposalEvent,
    Satisfaction,
    TalkDay,
    VoteMeeting,
    Voter,
)
from .rules import Base
from .states import SIX_STAGES, Stage

# The list's stage filters: the six stages, and "finished" (closed, rejected, withdrawn).
STAGE_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "active": ("进行中", tuple(s.value for s in SIX_STAGES)),
    **{s.value: (s.label, (s.value,)) for s in SIX_STAGES},
    "done": ("已结束", (Stage.CLOSED.value, Stage.REJECTED.value, Stage.WITHDRAWN.value)),
    "all": ("全部", tuple(s.value for s in Stage)),
}


def proposal_list(*, scope: Scope, stage: str = "active", unit_id: int | None = None, query: str = "",
                  limit: int = 200) -> list[Proposal]:
    qs: QuerySet[Proposal] = Proposal.objects.within(scope).select_related("unit")
    stages = STAGE_FILTERS.get(stage, STAGE_FILTERS["active"])[1]
    qs = qs.filter(stage__in=stages)
    if unit_id is not None:
        unit = Unit.objects.within(scope).filter(pk=unit_id).first()
        qs = qs.filter(unit_path__startswith=unit.path) if unit is not None else qs.none()
    if query:
        qs = qs.filter(title__contains=query[:40])
    return list(qs.order_by("-proposed_at", "-id")[:limit])


def stage_counts(*, scope: Scope, unit_id: int | None = None) -> dict[str, int]:
    qs = Proposal.objects.within(scope)
    if unit_id is not None:
        unit = Unit.objects.within(scope).filter(pk=unit_id).first()
        qs = qs.filter(unit_path__startswith=unit.path) if unit is not None else qs.none()
    by_stage: dict[str, int] = {}
    for stage in qs.values_list("stage", flat=True):
        by_stage[stage] = by_stage.get(stage, 0) + 1
    return {key: sum(by_stage.get(s, 0) for s in stages) for key, (_, stages) in STAGE_FILTERS.items()}


def proposal_get(*, scope: Scope, proposal_id: int) -> Proposal:
    proposal: Proposal = get_in_scope(Proposal.objects.select_related("unit__kind", "talk_day", "raised_by"), scope,
                                      pk=proposal_id)
    return proposal


def proposal_units(*, scope: Scope, perm: str = P.DELIBERATION_PROPOSE) -> list[Unit]:
    """The villages, communities and grids where the actor may raise (or run) proposals."""
    paths = scope.paths_for(perm)
    if not paths:
        return []
    qs = Unit.objects.within(scope).filter(kind__base__in=services.DELIBERATING_BASES, is_active=True)
    from django.db.models import Q

    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return list(qs.filter(q).select_related("kind").order_by("path")[:500])


def talk_days(*, scope: Scope, limit: int = 50) -> list[TalkDay]:
    return list(TalkDay.objects.within(scope).select_related("unit").order_by("-held_on")[:limit])


@dataclass
class TimelineStage:
    stage: Stage
    at: Any
    current: bool
    done: bool


def six_stage_timeline(proposal: Proposal) -> list[TimelineStage]:
    order = [s.value for s in SIX_STAGES]
    current = proposal.stage
    reached = order.index(current) if current in order else (len(order) if current == Stage.CLOSED else -1)
    out = []
    for i, stage in enumerate(SIX_STAGES):
        at = getattr(proposal, f"{stage.value}_at")
        out.append(TimelineStage(stage=stage, at=at, current=stage.value == current,
                                 done=at is not None and (i < reached or current == Stage.CLOSED)))
    return out


def proposal_events(*, scope: Scope, proposal: Proposal) -> list[ProposalEvent]:
    # The proposal was fetched through the scope; its history goes with it.
    return list(ProposalEvent.dangerously_unscoped.filter(proposal=proposal).select_related("actor").order_by("seq"))


def consultation_notes(*, scope: Scope, proposal: Proposal) -> list[ConsultationNote]:
    return list(ConsultationNote.dangerously_unscoped.filter(proposal=proposal).order_by("at", "id"))


def progress_entries(*, scope: Scope, proposal: Proposal) -> list[ProgressEntry]:
    return list(ProgressEntry.dangerously_unscoped.filter(proposal=proposal).order_by("at", "id"))


@dataclass
class EvaluationSummary:
    total: int
    satisfied: int
    basic: int
    unsatisfied: int

    @property
    def rate(self) -> str:
        """满意率: (satisfied + basically satisfied) / all, or "—" with no evaluation."""
        if not self.total:
            return "—"
        return f"{100 * (self.satisfied + self.basic) / self.total:.1f}%"


def evaluation_summary(*, scope: Scope, proposal: Proposal) -> EvaluationSummary:
    rows = list(Evaluation.dangerously_unscoped.filter(proposal=proposal).values_list("satisfaction", flat=True))
    return EvaluationSummary(total=len(rows), satisfied=rows.count(Satisfaction.SATISFIED),
                             basic=rows.count(Satisfaction.BASIC), unsatisfied=rows.count(Satisfaction.UNSATISFIED))


def meetings(*, scope: Scope, proposal: Proposal) -> list[VoteMeeting]:
    return list(VoteMeeting.dangerously_unscoped.filter(proposal=proposal).order_by("held_at", "id"))


@dataclass
class VoteSheet:
    meeting: VoteMeeting
    voters: list[Voter]
    ballots: dict[int, str]  # voter id → choice
    count: services.Count
    outcome: Any
    quorum_text: str
    pass_text: str


def vote_sheet(*, scope: Scope, proposal: Proposal) -> VoteSheet | None:
    """The open meeting's voters, who has voted how, and the result the counts give so far."""
    meeting = services.open_meeting(proposal)
    if meeting is None:
        return None
    voters = list(Voter.dangerously_unscoped.filter(meeting=meeting).order_by("seq"))
    ballots = dict(Ballot.dangerously_unscoped.filter(meeting=meeting).values_list("voter_id", "choice"))
    labels = dict(Choice.choices)
    for v in voters:
        v.cast = ballots.get(v.pk, "")  # type: ignore[attr-defined]
        v.cast_label = labels.get(v.cast, "")  # type: ignore[attr-defined]
    count, outcome = services.meeting_outcome(meeting)
    quorum, passing = services.meeting_rules(meeting)
    base = Base(meeting.pass_base).label
    return VoteSheet(meeting=meeting, voters=voters, ballots=ballots, count=count, outcome=outcome,
                     quorum_text=f"到会人数须{quorum.describe('应到人数')}",
                     pass_text=f"赞成票须{passing.describe(base)}")


@dataclass(frozen=True)
class PublicDecision:
    """A decided matter as residents see it on the grid page: no person at all (no raiser, no
    voters, no notes), only what the printed result notice (决议公开) shows anyway."""

    title: str
    category: str
    unit_name: str
    decided_on: Any
    result: str
    stage: str
    attending: int | None
    votes_for: int | None
    eligible: int


def public_decided(*, unit: Unit, now: Any, limit: int = 10) -> list[PublicDecision]:
    """Matters of this grid and of the units above it (its village), decided by a vote with a
    quorum in the last year (the public grid page; no actor, so no scope: only public fields)."""
    import datetime as dt

    paths = [unit.path[: i + 1] for i, ch in enumerate(unit.path) if ch == "/" and i > 0]
    since = now - dt.timedelta(days=366)
    rows = (Proposal.dangerously_unscoped.filter(unit_path__in=paths, result__in=["passed", "rejected"],
                                     decided_at__gte=since)
            .select_related("unit").order_by("-decided_at")[:limit])
    out = []
    for p in rows:
        meeting = VoteMeeting.dangerously_unscoped.filter(proposal=p,
                                                          closed_at__isnull=False).order_by("-closed_at").first()
        out.append(PublicDecision(
            title=p.title, category=p.get_category_display(), unit_name=p.unit.name, decided_on=p.decided_at,
            result=p.get_result_display(), stage=p.get_stage_display(),
            attending=meeting.attending if meeting else None, votes_for=meeting.votes_for if meeting else None,
            eligible=meeting.eligible if meeting else 0))
    return out
