from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from gridgov.deliberation import services
from gridgov.deliberation.models import Proposal
from gridgov.deliberation.states import Stage
from tests.world import T0, World

# 吴城村's seven village representatives (the eligible voters of the usual meeting).
REPRESENTATIVES = ["张三丰", "李四海", "王五洲", "赵六合", "钱七巧", "孙八方", "周九州"]
NOTICE_DAYS = 5
# The notice runs from T0's local date for five days; the vote may be held from the sixth day on.
T_VOTE = T0 + dt.timedelta(days=NOTICE_DAYS + 1)

# Valid parameters of each stage action (the table-driven tests use them).
VALID_PARAMS: dict[str, dict[str, Any]] = {
    "start_consult": {"note": "列入本月议题"},
    "consult_note": {"kind": "committees", "text": "两委会议同意修缮，资金从一事一议奖补中列支。", "opinions": "3",
                     "adopted": "2"},
    "publish": {"notice_text": "拟硬化村东组道路 800 米，预算 24 万元。", "days": str(NOTICE_DAYS)},
    "open_vote": {"body": "representatives", "mode": "ballots", "voters": "\n".join(REPRESENTATIVES),
                  "place": "村委会议室"},
    "close_vote": {},
    "progress": {"text": "路基已平整。", "percent": "40"},
    "complete": {"outcome_text": "道路硬化完成，已验收。"},
    "evaluate": {"satisfaction": "satisfied", "comment": "路好走了"},
    "close": {},
    "reconsult": {"reason": "缩短长度，降低预算"},
    "withdraw": {"reason": "与乡镇项目重复"},
}


@dataclass
class Kit:
    world: World
    now: dt.datetime = T0

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.now = max(self.now, moment)
        return self.now

    def tick(self, minutes: int = 5) -> dt.datetime:
        self.now = self.now + dt.timedelta(minutes=minutes)
        return self.now

    def raise_(self, *, actor: Any = None, **kw: Any) -> Proposal:
        w = self.world
        data: dict[str, Any] = {"unit_id": w.village.pk, "title": "硬化村东组道路",
                                "description": "村东组 800 米土路，雨天泥泞，群众出行难。",
                                "category": "infrastructure", "source": "visit", "raiser_name": "王大山"}
        data.update(kw)
        return services.proposal_raise(actor=actor if actor is not None else w.li_qiang, now=self.tick(), **data)

    def act(self, proposal: Proposal, action: str, actor: Any = None, **params: Any) -> Proposal:
        if action == "open_vote":
            self.at(T_VOTE)
            if proposal.notice_end is not None:  # the day after the notice period, 09:00 in Beijing
                self.at(dt.datetime.combine(proposal.notice_end + dt.timedelta(days=1), dt.time(1), tzinfo=dt.UTC))
        merged = {**VALID_PARAMS[action], **params} if not params.pop("_only", False) else params
        return services.proposal_act(actor=actor if actor is not None else self.world.li_qiang, now=self.tick(),
                                     proposal_id=proposal.pk, action=action, **merged)

    def vote_all(self, proposal: Proposal, choices: str, actor: Any = None) -> None:
        """choices: one letter per voter in order: y(es) n(o) a(bstain) -(absent) p(resent, no ballot)."""
        sheet = services.open_meeting(proposal)
        assert sheet is not None
        voters = list(sheet.voters.order_by("seq"))
        actor = actor if actor is not None else self.world.li_qiang
        for voter, c in zip(voters, choices, strict=False):
            if c == "-":
                continue
            if c == "p":
                services.vote_attend(actor=actor, now=self.tick(1), proposal_id=proposal.pk,
                                     voter_id=voter.pk)
                continue
            choice = {"y": "for", "n": "against", "a": "abstain"}[c]
            services.vote_cast(actor=actor, now=self.tick(1), proposal_id=proposal.pk,
                               voter_id=voter.pk, choice=choice)

    def to_stage(self, stage: str) -> Proposal:
        """A proposal of 吴城村 walked through the real services into `stage`."""
        p = self.raise_()
        if stage == Stage.PROPOSED:
            return p
        if stage == Stage.WITHDRAWN:
            return self.act(p, "withdraw")
        p = self.act(p, "start_consult")
        p = self.act(p, "consult_note")
        if stage == Stage.CONSULTING:
            return p
        p = self.act(p, "publish")
        if stage == Stage.PUBLISHING:
            return p
        p = self.act(p, "open_vote")
        if stage == Stage.VOTING:
            self.vote_all(p, "yyyyn")
            return p
        self.vote_all(p, "nnnny" if stage == Stage.REJECTED else "yyyyn")
        p = self.act(p, "close_vote")
        if stage == Stage.REJECTED:
            return p
        p = self.act(p, "progress")
        if stage == Stage.IMPLEMENTING:
            return p
        p = self.act(p, "complete")
        if stage == Stage.EVALUATING:
            self.act(p, "evaluate")
            return Proposal.dangerously_unscoped.get(pk=p.pk)
        p = self.act(p, "evaluate")
        p = self.act(p, "close")
        assert p.stage == Stage.CLOSED
        return p


@pytest.fixture
def kit(world: World) -> Kit:
    return Kit(world=world)
