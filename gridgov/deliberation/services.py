"""Write paths of deliberation (群众议事): talk days, raising a proposal (`proposal_raise`), the ONE
locked stage-transition service (`proposal_act`), and the vote (`vote_attend`, `vote_cast`,
`vote_tally`). Each runs in one transaction and writes its rows, the history row and the audit row
together; a refusal raises a DomainError with a Chinese message and writes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import IntegrityError, transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning, fieldcrypto
from gridgov.core.clock import local
from gridgov.core.errors import CommonError, Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.core.workflow import Step, Workflow
from gridgov.residents.models import Household, Relation, Resident
from gridgov.residents.protected import mask_name
from gridgov.units.models import Unit

from . import rules
from .models import (
    Ballot,
    Body,
    Category,
    Choice,
    ConsultationNote,
    ConsultKind,
    Evaluation,
    ProgressEntry,
    Proposal,
    ProposalEvent,
    Satisfaction,
    Source,
    TalkDay,
    VoteMeeting,
    VoteMode,
    Voter,
)
from .states import ACTIONS, STAGE_SPECS, Action, Stage

RAISER_PURPOSE = "deliberation.raiser_name"
VOTER_PURPOSE = "deliberation.voter_name"
MIN_NOTICE_DAYS = 5  # 亮事: a matter is on notice at least five days before the vote
MAX_NOTICE_DAYS = 30
MAX_VOTERS = 2000
# Units whose matters are deliberated: villages and communities, and grids within them.
DELIBERATING_BASES = frozenset({"village", "community", "area", "grid", "micro_grid"})


# --- small helpers ----------------------------------------------------------------------------

# The field cleaners are core.cleaning's (one module for input cleaning); these keep the service's call shape.
def _text(value: Any, *, field_name: str, label: str, required: bool, max_len: int) -> str:
    return cleaning.text(value, field=field_name, label=label, max_length=max_len, required=required)


def _count(value: Any, *, field_name: str, label: str, minimum: int = 0, maximum: int = 100_000,
           default: int | None = None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label}应为整数。", field=field_name) from None
    if not minimum <= n <= maximum:
        raise ValidationFailed(f"{label}应在 {minimum} 到 {maximum} 之间。", field=field_name)
    return n


def _choice(value: Any, choices: Any, *, field_name: str, label: str) -> str:
    return cleaning.choice(value, choices, field=field_name, label=label)


def _date(value: Any, *, field_name: str, label: str) -> dt.date:
    message = f"{label}格式应为 年-月-日，例如 2026-03-10。"  # also when empty, as this service always said
    cleaned = cleaning.optional_date(value, field=field_name, label=label, message=message)
    if cleaned is None:
        raise ValidationFailed(message, field=field_name, reason=CommonError.REQUIRED)
    return cleaned


def _role(scope: Scope | None, path: str) -> str:
    return (scope.role_at(path) if scope is not None else "") or ("" if scope is not None else "system")


def seal_name(name: str, *, purpose: str) -> tuple[str, str]:
    """(ciphertext, mask) of a person's name."""
    return fieldcrypto.encrypt(name, purpose=purpose), mask_name(name)


def reveal_raiser(proposal: Proposal) -> str:
    return fieldcrypto.decrypt(proposal.raiser_name_cipher, purpose=RAISER_PURPOSE) if proposal.raiser_name_cipher \
        else ""


def _deliberating_unit(scope: Scope | None, unit_id: Any, perm: str) -> Unit:
    try:
        pk = int(unit_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择村（社区）或网格。", field="unit_id") from None
    unit = Unit.dangerously_unscoped.select_related("kind").filter(pk=pk, is_active=True).first()
    if unit is None or (scope is not None and not (scope.covers(unit.path) or scope.can(perm, unit.path))):
        raise ValidationFailed("所选村（社区）不存在。", field="unit_id")
    if scope is not None and not scope.can(perm, unit.path):
        raise PermissionDenied("您没有在该村（社区）登记议事事项的权限。")
    if unit.kind.base not in DELIBERATING_BASES:
        raise ValidationFailed("议事事项应登记在村（社区）或网格。", field="unit_id")
    return unit


# --- talk days (支部说事日) ----------------------------------------------------------------------

@transaction.atomic
def talk_day_create(*, actor: User | None, now: dt.datetime, unit_id: Any, held_on: Any, topic: str = "",
                    matters_heard: Any = 0, planned: bool = False) -> TalkDay:
    """Register a talk day held (today or before), or, `planned`, one ahead (a routine's occurrence: a
    talk day already there for that unit and date is returned as it is)."""
    scope = scope_for(actor) if actor is not None else None
    unit = _deliberating_unit(scope, unit_id, P.DELIBERATION_MANAGE)
    day = _date(held_on, field_name="held_on", label="说事日期")
    if day > local(now).date() and not planned:
        raise ValidationFailed("说事日期不能晚于今天。", field="held_on")
    topic = _text(topic, field_name="topic", label="主题", required=False, max_len=80)
    heard = _count(matters_heard, field_name="matters_heard", label="收集事项数", maximum=10_000, default=0)
    existing = TalkDay.dangerously_unscoped.filter(unit=unit, held_on=day).first()
    if existing is not None and planned:
        return existing
    if existing is not None:
        raise Conflict(f"{unit.name} {day:%Y年%-m月%-d日} 的说事日已经登记。")
    talk = TalkDay.dangerously_unscoped.create(unit=unit, unit_path=unit.path, held_on=day, topic=topic,
                                               matters_heard=heard,
                                   created_by=actor if actor is not None else None, created_at=now)
    audit_record(action="deliberation.talk_day", actor=actor, now=now, obj=talk, unit_path=unit.path,
                 role=_role(scope, unit.path), detail={"held_on": day.isoformat(), "matters_heard": heard,
                                                       "planned": planned})
    return talk


# --- 提事: raising a proposal --------------------------------------------------------------------

@transaction.atomic
def proposal_raise(*, actor: User | None, now: dt.datetime, unit_id: Any, title: str, description: str, category: str,
                   source: str, talk_day_id: Any = None, raiser_name: str = "") -> Proposal:
    """A matter is raised: by a resident (name sealed) through staff, or by staff themselves."""
    scope = scope_for(actor) if actor is not None else None
    unit = _deliberating_unit(scope, unit_id, P.DELIBERATION_PROPOSE)
    title = _text(title, field_name="title", label="议题", required=True, max_len=80)
    description = _text(description, field_name="description", label="内容", required=True, max_len=4000)
    category = _choice(category, Category, field_name="category", label="类别")
    source = _choice(source, Source, field_name="source", label="来源")
    raiser_name = _text(raiser_name, field_name="raiser_name", label="提事人姓名", required=False, max_len=20)
    talk: TalkDay | None = None
    if talk_day_id not in (None, ""):
        try:
            talk_pk = int(talk_day_id)
        except (TypeError, ValueError):
            raise ValidationFailed("请选择说事日。", field="talk_day_id") from None
        talk = TalkDay.dangerously_unscoped.filter(pk=talk_pk).first()
        # The talk day must be held by this unit or a unit above it (a village's talk day, a grid's matter).
        if talk is None or not unit.path.startswith(talk.unit_path):
            raise ValidationFailed("所选说事日不属于该村（社区）。", field="talk_day_id")
        source = Source.TALK_DAY
    elif source == Source.TALK_DAY:
        raise ValidationFailed("来源为支部说事日时，请选择是哪一次说事日。", field="talk_day_id")
    cipher, masked = seal_name(raiser_name, purpose=RAISER_PURPOSE) if raiser_name else ("", "")
    proposal = Proposal.dangerously_unscoped.create(
        number=f"t{uuid.uuid4().hex[:30]}", unit=unit, unit_path=unit.path, title=title,
        description=description, category=category, source=source, talk_day=talk,
        raised_by=actor if actor is not None else None, raiser_name_cipher=cipher, raiser_name_masked=masked,
        stage=Stage.PROPOSED, proposed_at=now, created_at=now, updated_at=now,
    )
    proposal.number = f"YS{local(now):%Y}-{proposal.pk:05d}"
    proposal.save(update_fields=["number"])
    role = _role(scope, unit.path)
    ProposalEvent.dangerously_unscoped.create(proposal=proposal, seq=1, action="raise", at=now, actor=actor,
                                              actor_role=role,
                                  from_stage="", to_stage=Stage.PROPOSED,
                                  detail={"source": source, "talk_day": talk.pk if talk else None})
    audit_record(action="deliberation.raise", actor=actor, now=now, obj=proposal, unit_path=unit.path, role=role,
                 detail={"number": proposal.number, "to": Stage.PROPOSED, "source": source})
    return proposal


# --- the stage transitions ---------------------------------------------------------------------

@dataclass
class _Step(Step[Proposal]):
    @property
    def proposal(self) -> Proposal:
        return self.obj


def _start_consult(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="说明", required=False, max_len=500)


def _consult_note(step: _Step, *, kind: str = "", text: str = "", opinions: Any = None, adopted: Any = None) -> None:
    kind = _choice(kind, ConsultKind, field_name="kind", label="意见来源")
    text = _text(text, field_name="text", label="意见内容", required=True, max_len=2000)
    n = _count(opinions, field_name="opinions", label="收集意见条数", minimum=1, maximum=10_000, default=1)
    a = _count(adopted, field_name="adopted", label="采纳条数", maximum=10_000, default=0)
    if a > n:
        raise ValidationFailed("采纳条数不能多于收集意见条数。", field="adopted")
    note = ConsultationNote.dangerously_unscoped.create(proposal=step.proposal, kind=kind, text=text, opinions=n,
                                                        adopted=a,
                                            at=step.now, recorded_by=step.actor)
    step.note = text[:500]
    step.detail.update({"note_id": note.pk, "kind": kind, "opinions": n, "adopted": a})


def _publish(step: _Step, *, notice_text: str = "", days: Any = None, start: Any = None) -> None:
    proposal = step.proposal
    if not ConsultationNote.dangerously_unscoped.filter(proposal=proposal).exists():
        raise ValidationFailed("请先记录至少一条谋事意见，再公示。", field="action")
    notice_text = _text(notice_text, field_name="notice_text", label="公示内容", required=True, max_len=4000)
    n = _count(days, field_name="days", label="公示天数", minimum=MIN_NOTICE_DAYS, maximum=MAX_NOTICE_DAYS,
               default=MIN_NOTICE_DAYS)
    today = local(step.now).date()
    first = today if start in (None, "") else _date(start, field_name="start", label="公示开始日期")
    if first < today - dt.timedelta(days=3) or first > today + dt.timedelta(days=30):
        raise ValidationFailed("公示开始日期应在今天前后一个月内（最多提前三天补录）。", field="start")
    proposal.notice_text = notice_text
    proposal.notice_start = first
    proposal.notice_end = first + dt.timedelta(days=n - 1)
    step.detail.update({"notice_start": first.isoformat(), "notice_end": proposal.notice_end.isoformat(), "days": n})


def _voters_from_names(names: str) -> list[tuple[str, Household | None]]:
    rows = [line.strip() for line in str(names or "").replace("，", "\n").replace(",", "\n").splitlines()]
    rows = [r for r in rows if r]
    for r in rows:
        if len(r) > 20:
            raise ValidationFailed(f"姓名「{r[:20]}…」太长（最多 20 个字）。", field="voters")
    return [(r, None) for r in rows]


def _voters_from_households(unit: Unit) -> list[tuple[str, Household | None]]:
    """One representative per active household of the unit's subtree: the head of household."""
    heads = (Resident.dangerously_unscoped.filter(household__unit__path__startswith=unit.path,
                                                  household__status="active",
                                      relation=Relation.HEAD, status="active")
             .select_related("household").order_by("household_id", "id"))
    seen: set[int] = set()
    out: list[tuple[str, Household | None]] = []
    for r in heads:
        if r.household_id in seen:
            continue
        seen.add(r.household_id)
        out.append((r.name, r.household))
    return out


def _open_vote(step: _Step, *, body: str = "", mode: str = "", place: str = "", voters: str = "",
               voters_from: str = "", quorum: str = "", pass_rule: str = "", pass_base: str = "") -> None:
    proposal = step.proposal
    today = local(step.now).date()
    if proposal.notice_end is None or today <= proposal.notice_end:
        end = f"{proposal.notice_end:%Y年%-m月%-d日}" if proposal.notice_end else "公示截止日"
        raise ValidationFailed(f"公示期未满，{end}之后才能表决。", field="action")
    body = _choice(body, Body, field_name="body", label="表决主体")
    mode = _choice(mode or VoteMode.BALLOTS, VoteMode, field_name="mode", label="记票方式")
    place = _text(place, field_name="place", label="地点", required=False, max_len=80)
    quorum_rule = _parse_rule(quorum or "1/2>", field_name="quorum", label="法定到会人数规则")
    passing = _parse_rule(pass_rule or "1/2>", field_name="pass_rule", label="通过规则")
    base = _choice(pass_base or rules.Base.ATTENDING, rules.Base, field_name="pass_base", label="通过人数的基数")
    if voters_from == "households":
        people = _voters_from_households(proposal.unit)
        if not people:
            raise ValidationFailed("该村（社区）台账中没有在册户主，请直接填写代表名单。", field="voters")
    else:
        people = _voters_from_names(voters)
        if not people:
            raise ValidationFailed("请填写参加表决的代表名单（每行一人）。", field="voters")
    if len(people) > MAX_VOTERS:
        raise ValidationFailed(f"代表人数不能超过 {MAX_VOTERS} 人。", field="voters")
    meeting = VoteMeeting.dangerously_unscoped.create(
        proposal=proposal, body=body, mode=mode, held_at=step.now, place=place, eligible=len(people),
        quorum_numerator=quorum_rule.numerator, quorum_denominator=quorum_rule.denominator,
        quorum_strict=quorum_rule.strict, pass_numerator=passing.numerator, pass_denominator=passing.denominator,
        pass_strict=passing.strict, pass_base=base, opened_by=step.actor, created_at=step.now,
    )
    Voter.dangerously_unscoped.bulk_create([
        Voter(meeting=meeting, seq=i, name_cipher=fieldcrypto.encrypt(name, purpose=VOTER_PURPOSE),
              name_masked=mask_name(name), household=household)
        for i, (name, household) in enumerate(people, start=1)
    ])
    proposal.result = ""
    step.note = f"{meeting.get_body_display()}，应到 {meeting.eligible} 人"
    step.detail.update({"meeting_id": meeting.pk, "eligible": meeting.eligible, "body": body, "mode": mode,
                        "quorum": quorum_rule.describe("应到人数"),
                        "pass": passing.describe(rules.Base(base).label), "base": base})


def _parse_rule(text: str, *, field_name: str, label: str) -> rules.Rule:
    """"1/2>" (more than half) or "2/3>=" (at least two thirds)."""
    raw = str(text).strip().replace(" ", "")
    strict = not raw.endswith(">=")
    fraction = raw.rstrip(">=")
    try:
        num_s, den_s = fraction.split("/")
        num, den = int(num_s), int(den_s)
    except ValueError:
        raise ValidationFailed(f"{label}格式不对，例如 1/2> 表示超过半数。", field=field_name) from None
    if not (1 <= den <= 100 and 0 <= num <= den):
        raise ValidationFailed(f"{label}应为 0 到 1 之间的分数。", field=field_name)
    return rules.Rule(num, den, strict)


def open_meeting(proposal: Proposal) -> VoteMeeting | None:
    return VoteMeeting.dangerously_unscoped.filter(proposal=proposal, closed_at__isnull=True).first()


def meeting_rules(meeting: VoteMeeting) -> tuple[rules.Rule, rules.Rule]:
    return (rules.Rule(meeting.quorum_numerator, meeting.quorum_denominator, meeting.quorum_strict),
            rules.Rule(meeting.pass_numerator, meeting.pass_denominator, meeting.pass_strict))


@dataclass(frozen=True)
class Count:
    attending: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    entered: bool  # a paper tally was entered / at least one voter marked present


def meeting_count(meeting: VoteMeeting) -> Count:
    """The counts a result is computed from: the ballots (each attending voter without a ballot
    abstains) or the entered paper tally."""
    if meeting.mode == VoteMode.TALLY:
        if meeting.tally_attending is None:
            return Count(0, 0, 0, 0, False)
        return Count(meeting.tally_attending, meeting.tally_for or 0, meeting.tally_against or 0,
                     meeting.tally_abstain or 0, True)
    attending = Voter.dangerously_unscoped.filter(meeting=meeting, attended=True).count()
    by_choice = {c: 0 for c in Choice.values}
    for choice in Ballot.dangerously_unscoped.filter(meeting=meeting).values_list("choice", flat=True):
        by_choice[choice] += 1
    cast = sum(by_choice.values())
    return Count(attending, by_choice[Choice.FOR], by_choice[Choice.AGAINST],
                 by_choice[Choice.ABSTAIN] + max(attending - cast, 0), attending > 0)


def meeting_outcome(meeting: VoteMeeting) -> tuple[Count, rules.Outcome]:
    count = meeting_count(meeting)
    quorum, passing = meeting_rules(meeting)
    outcome = rules.decide(eligible=meeting.eligible, attending=count.attending, in_favour=count.votes_for,
                           quorum=quorum, pass_rule=passing, base=meeting.pass_base)
    return count, outcome


def _close_vote(step: _Step, *, note: str = "") -> None:
    proposal = step.proposal
    meeting = VoteMeeting.dangerously_unscoped.select_for_update().filter(proposal=proposal,
                                                                          closed_at__isnull=True).first()
    if meeting is None:  # pragma: no cover - the voting stage always has an open meeting
        raise ValidationFailed("没有正在进行的表决。", field="action")
    count, outcome = meeting_outcome(meeting)
    if not count.entered:
        raise ValidationFailed("还没有登记到会和投票情况，不能结束表决。" if meeting.mode == VoteMode.BALLOTS
                               else "请先录入纸质表决票的汇总结果。", field="action")
    meeting.closed_at = step.now
    meeting.attending = count.attending
    meeting.votes_for, meeting.votes_against, meeting.votes_abstain = (count.votes_for, count.votes_against,
                                                                        count.votes_abstain)
    meeting.result = outcome.result
    meeting.save()
    proposal.result = outcome.result
    proposal.decided_at = step.now
    step.target = {rules.Result.PASSED: Stage.IMPLEMENTING, rules.Result.REJECTED: Stage.REJECTED,
                   rules.Result.NO_QUORUM: Stage.PUBLISHING}[outcome.result]
    step.note = _text(note, field_name="note", label="说明", required=False, max_len=500)
    step.detail.update({"meeting_id": meeting.pk, "eligible": meeting.eligible, "attending": count.attending,
                        "for": count.votes_for, "against": count.votes_against, "abstain": count.votes_abstain,
                        "result": outcome.result, "quorum_needed": outcome.quorum_needed,
                        "pass_needed": outcome.pass_needed})


def _progress(step: _Step, *, text: str = "", percent: Any = None) -> None:
    text = _text(text, field_name="text", label="进展情况", required=True, max_len=2000)
    pct = _count(percent, field_name="percent", label="完成比例", maximum=100, default=0)
    last = ProgressEntry.dangerously_unscoped.filter(proposal=step.proposal).order_by("-at", "-id").first()
    if last is not None and pct < last.percent:
        raise ValidationFailed(f"完成比例不能比上次（{last.percent}%）少。", field="percent")
    entry = ProgressEntry.dangerously_unscoped.create(proposal=step.proposal, at=step.now, text=text, percent=pct,
                                          recorded_by=step.actor)
    step.note = text[:500]
    step.detail.update({"entry_id": entry.pk, "percent": pct})


def _complete(step: _Step, *, outcome_text: str = "") -> None:
    proposal = step.proposal
    if not ProgressEntry.dangerously_unscoped.filter(proposal=proposal).exists():
        raise ValidationFailed("请先记录实施进度，再标记完成。", field="action")
    proposal.outcome_text = _text(outcome_text, field_name="outcome_text", label="实施结果", required=True,
                                  max_len=2000)
    proposal.implemented_at = step.now
    step.note = proposal.outcome_text[:500]


def _evaluate(step: _Step, *, satisfaction: str = "", comment: str = "") -> None:
    level = _choice(satisfaction, Satisfaction, field_name="satisfaction", label="满意度")
    comment = _text(comment, field_name="comment", label="意见", required=False, max_len=200)
    ev = Evaluation.dangerously_unscoped.create(proposal=step.proposal, satisfaction=level, comment=comment,
                                                at=step.now,
                                    recorded_by=step.actor)
    step.note = comment
    step.detail.update({"evaluation_id": ev.pk, "satisfaction": level})


def _close(step: _Step, *, note: str = "") -> None:
    if not Evaluation.dangerously_unscoped.filter(proposal=step.proposal).exists():
        raise ValidationFailed("请先登记至少一条群众评议，再办结。", field="action")
    step.note = _text(note, field_name="note", label="说明", required=False, max_len=500)
    step.proposal.closed_at = step.now


def _reconsult(step: _Step, *, reason: str = "") -> None:
    step.note = _text(reason, field_name="reason", label="修改说明", required=True, max_len=500)
    proposal = step.proposal
    proposal.result = ""
    proposal.notice_start = proposal.notice_end = None
    proposal.publishing_at = proposal.voting_at = None  # a new round: publish and vote again


def _withdraw(step: _Step, *, reason: str = "") -> None:
    step.note = _text(reason, field_name="reason", label="撤回理由", required=True, max_len=500)
    step.proposal.closed_at = step.now


HANDLERS: dict[str, Callable[..., None]] = {
    "start_consult": _start_consult, "consult_note": _consult_note, "publish": _publish, "open_vote": _open_vote,
    "close_vote": _close_vote, "progress": _progress, "complete": _complete, "evaluate": _evaluate,
    "close": _close, "reconsult": _reconsult, "withdraw": _withdraw,
}
STAGE_STAMP = {Stage.CONSULTING: "consulting_at", Stage.PUBLISHING: "publishing_at", Stage.VOTING: "voting_at",
               Stage.IMPLEMENTING: "implementing_at", Stage.EVALUATING: "evaluating_at"}


def _locked(proposal_id: Any, scope: Scope | None) -> Proposal:
    proposal = FLOW.lock(proposal_id)
    if proposal is None:
        raise NotFound()
    if scope is not None and not FLOW.visible(scope, proposal):
        raise NotFound()
    return proposal


def _authorize(scope: Scope | None, proposal: Proposal, perm: str) -> str:
    if scope is None:
        return "system"
    if not scope.can(perm, proposal.unit_path):
        raise PermissionDenied("您没有在该村（社区）主持议事的权限。")
    return scope.role_at(proposal.unit_path)


def _next_seq(proposal: Proposal) -> int:
    last = ProposalEvent.dangerously_unscoped.filter(proposal=proposal).order_by("-seq").values_list("seq",
                                                                                                     flat=True).first()
    return (last or 0) + 1


class ProposalFlow(Workflow[Proposal]):
    name = "deliberation"
    title = "Deliberation workflow (六步议事)"
    statuses = STAGE_SPECS
    actions = ACTIONS
    handlers = HANDLERS
    initial = (Stage.PROPOSED.value, "raise 提事")
    service = "gridgov.deliberation.services.proposal_act"
    status_attr = "stage"
    status_key = "stage"
    stale_message = "该事项已被他人处理，请刷新后再操作。"
    state_message = "该事项当前处于「{status}」阶段，不能{action}。"
    step_class: ClassVar[type[Step[Any]]] = _Step
    note = ("Actions without a target keep the stage (a note, a progress entry); `close_vote` leads to one of "
            "three stages, computed from the ballots (`rules.decide`).")

    def scope(self, actor: User | None) -> Scope:
        return scope_for(actor)

    def lock(self, pk: Any) -> Proposal | None:
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        return (Proposal.dangerously_unscoped.select_for_update(of=("self",)).select_related("unit")
                .filter(pk=key).first())

    def visible(self, scope: Scope, obj: Proposal) -> bool:
        return scope.can(P.DELIBERATION_VIEW, obj.unit_path)

    def authorize(self, step: Step[Proposal]) -> str:
        return _authorize(step.scope, step.obj, step.action.perm)

    def entered(self, step: Step[Proposal]) -> None:
        proposal = step.obj
        if step.action.targets:
            stamp = STAGE_STAMP.get(Stage(proposal.stage))
            if stamp and getattr(proposal, stamp) is None:
                setattr(proposal, stamp, step.now)  # when the stage was first reached

    def record(self, step: Step[Proposal]) -> None:
        proposal, action = step.obj, step.action.code
        proposal.save()
        ProposalEvent.dangerously_unscoped.create(
            proposal=proposal,
            seq=_next_seq(proposal),
            action=action,
            at=step.now,
            actor=step.actor,
            actor_role=step.role,
            from_stage=step.before,
            to_stage=proposal.stage,
            note=step.note,
            detail=step.detail,
        )
        audit_record(
            action=f"deliberation.{action}",
            actor=step.actor,
            now=step.now,
            obj=proposal,
            unit_path=proposal.unit_path,
            role=step.role,
            detail={
                "from": step.before,
                "to": proposal.stage,
                "number": proposal.number,
                **{k: v for k, v in step.detail.items() if k != "note_id"},
            },
        )


FLOW = ProposalFlow()


def action_params(action: str) -> frozenset[str]:
    return FLOW.params(action)


@transaction.atomic
def proposal_act(
    *,
    actor: User | None,
    now: dt.datetime,
    proposal_id: Any,
    action: str,
    expected_version: int | None = None,
    **params: Any,
) -> Proposal:
    """Take one stage action. The proposal row is locked for the whole change: of two people acting
    at once, one wins and the other gets a Conflict naming the stage the first one left."""
    return FLOW.act(
        actor=actor, now=now, pk=proposal_id, action=action, expected_version=expected_version, params=params
    )


def allowed_actions(*, proposal: Proposal, actor: User) -> list[Action]:
    """The stage actions this actor may take now (for pages)."""
    return [a for a in FLOW.allowed(proposal, actor=actor) if isinstance(a, Action)]


# --- 定事: attendance, ballots and the paper tally --------------------------------------------------


def _voting(proposal_id: Any, actor: User | None, *, mode: str) -> tuple[Proposal, VoteMeeting, str, Scope | None]:
    scope = scope_for(actor) if actor is not None else None
    proposal = _locked(proposal_id, scope)
    role = _authorize(scope, proposal, P.DELIBERATION_MANAGE)
    if proposal.stage != Stage.VOTING:
        raise Conflict(f"该事项当前处于「{proposal.get_stage_display()}」阶段，不在表决中。")
    meeting = VoteMeeting.dangerously_unscoped.filter(proposal=proposal, closed_at__isnull=True).first()
    if meeting is None:  # pragma: no cover - the voting stage always has an open meeting
        raise Conflict("没有正在进行的表决。")
    if meeting.mode != mode:
        raise ValidationFailed(
            "本次表决"
            + ("按纸质表决票汇总录入，不逐人记票。" if mode == VoteMode.BALLOTS else "逐人记票，不录入汇总。"),
            field="mode",
        )
    return proposal, meeting, role, scope


def _voter(meeting: VoteMeeting, voter_id: Any) -> Voter:
    try:
        pk = int(voter_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择代表。", field="voter_id") from None
    voter = Voter.dangerously_unscoped.filter(meeting=meeting, pk=pk).first()
    if voter is None:
        raise ValidationFailed("该代表不在本次表决的名单中。", field="voter_id")
    return voter


@transaction.atomic
def vote_attend(
    *, actor: User | None, now: dt.datetime, proposal_id: Any, voter_id: Any, present: bool = True
) -> Voter:
    """Mark a voter present (签到) or absent; a voter who has voted stays present."""
    proposal, meeting, role, _ = _voting(proposal_id, actor, mode=VoteMode.BALLOTS)
    voter = _voter(meeting, voter_id)
    if not present and Ballot.dangerously_unscoped.filter(voter=voter).exists():
        raise Conflict(f"{voter.name_masked} 已经投票，不能取消到会。")
    if voter.attended != bool(present):
        voter.attended = bool(present)
        voter.save(update_fields=["attended"])
        audit_record(
            action="deliberation.attend",
            actor=actor,
            now=now,
            obj=voter,
            unit_path=proposal.unit_path,
            role=role,
            detail={"proposal": proposal.number, "meeting": meeting.pk, "seq": voter.seq, "present": bool(present)},
        )
    return voter


@transaction.atomic
def vote_cast(*, actor: User | None, now: dt.datetime, proposal_id: Any, voter_id: Any, choice: str) -> Ballot:
    """Record one voter's vote. A second vote by the same voter is refused: the check below gives the
    message, the unique constraint (meeting, voter) makes it impossible even for requests at the same
    instant (the proposal row lock serialises them on PostgreSQL; on any database the insert of the
    loser fails)."""
    proposal, meeting, role, _ = _voting(proposal_id, actor, mode=VoteMode.BALLOTS)
    choice = _choice(choice, Choice, field_name="choice", label="赞成、反对或弃权")
    voter = _voter(meeting, voter_id)
    if Ballot.dangerously_unscoped.filter(meeting=meeting, voter=voter).exists():
        raise Conflict(f"{voter.seq} 号 {voter.name_masked} 已经投过票，不能重复投票。")
    try:
        with transaction.atomic():
            ballot = Ballot.dangerously_unscoped.create(
                meeting=meeting, voter=voter, choice=choice, at=now, recorded_by=actor if actor is not None else None
            )
    except IntegrityError:
        raise Conflict(f"{voter.seq} 号 {voter.name_masked} 已经投过票，不能重复投票。") from None
    if not voter.attended:
        voter.attended = True
        voter.save(update_fields=["attended"])
    audit_record(
        action="deliberation.vote",
        actor=actor,
        now=now,
        obj=ballot,
        unit_path=proposal.unit_path,
        role=role,
        detail={"proposal": proposal.number, "meeting": meeting.pk, "seq": voter.seq, "choice": choice},
    )
    return ballot


@transaction.atomic
def vote_tally(
    *,
    actor: User | None,
    now: dt.datetime,
    proposal_id: Any,
    attending: Any,
    votes_for: Any,
    votes_against: Any,
    votes_abstain: Any,
) -> VoteMeeting:
    """Enter (or correct, before the vote is closed) the counts of a paper ballot."""
    proposal, meeting, role, _ = _voting(proposal_id, actor, mode=VoteMode.TALLY)
    att = _count(attending, field_name="attending", label="到会人数", maximum=meeting.eligible)
    yes = _count(votes_for, field_name="votes_for", label="赞成票", maximum=meeting.eligible)
    no = _count(votes_against, field_name="votes_against", label="反对票", maximum=meeting.eligible)
    abstain = _count(votes_abstain, field_name="votes_abstain", label="弃权票", maximum=meeting.eligible)
    if yes + no + abstain > att:
        raise ValidationFailed(
            f"赞成、反对、弃权合计 {yes + no + abstain} 票，多于到会人数 {att} 人。", field="attending"
        )
    before = (meeting.tally_attending, meeting.tally_for, meeting.tally_against, meeting.tally_abstain)
    meeting.tally_attending, meeting.tally_for, meeting.tally_against, meeting.tally_abstain = att, yes, no, abstain
    meeting.save()
    audit_record(
        action="deliberation.tally",
        actor=actor,
        now=now,
        obj=meeting,
        unit_path=proposal.unit_path,
        role=role,
        detail={
            "proposal": proposal.number,
            "attending": att,
            "for": yes,
            "against": no,
            "abstain": abstain,
            "before": list(before) if before[0] is not None else None,
        },
    )
    return meeting


# --- printing the notice ----------------------------------------------------------------------------


@transaction.atomic
def notice_printed(*, actor: User | None, now: dt.datetime, proposal: Proposal, kind: str) -> None:
    """A printed notice (公示) is audited: who printed which notice of which proposal, when."""
    scope = scope_for(actor) if actor is not None else None
    audit_record(
        action="deliberation.print",
        actor=actor,
        now=now,
        obj=proposal,
        unit_path=proposal.unit_path,
        role=_role(scope, proposal.unit_path),
        detail={"kind": kind, "number": proposal.number},
    )
