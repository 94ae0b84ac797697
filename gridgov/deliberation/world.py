"""World generator step: deliberation in the demo township (the first township under each root).

Every village of that township gets a talk day and a few proposals spread over the six stages: one
taken all the way (passed, implemented, evaluated), one on public notice or being voted, one just
raised, and in every third village one that failed its vote. They are written through the real
services (a few hundred calls), as the village secretary where the world has one, so the demo's
history rows, votes and audit rows are exactly what a person would leave. The seed_world command
calls `seed_world_step` by dotted path.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any, TextIO

from gridgov.access.models import Grant
from gridgov.core.clock import local
from gridgov.units.models import TOWNSHIP_BASE_KINDS, VILLAGE_BASE_KINDS, Unit

from . import services
from .models import Proposal, VoteMeeting

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英桂兰志强海燕春梅玉珍德明文华金山红梅永福淑芬国庆丽娟长青翠花振华"
# (title, category, what residents said, the notice text)
MATTERS = (
    ("硬化{}道路", "infrastructure", "组里 600 米土路雨天泥泞，群众出行难，希望硬化。",
     "拟硬化道路 600 米，宽 3.5 米，预算约 18 万元，申请一事一议财政奖补。"),
    ("{}安装太阳能路灯", "infrastructure", "村道夜间没有照明，老人晚上出门不安全。",
     "拟在主要村道安装太阳能路灯 40 盏，预算约 6 万元。"),
    ("{}垃圾集中清运", "environment", "垃圾池满了没人清，夏天气味大。",
     "拟聘请保洁员 2 名，每周清运两次，费用从村集体收入列支。"),
    ("{}集体果园承包", "collective", "集体果园承包到期，群众希望公开发包。",
     "拟公开招标发包集体果园 30 亩，期限 5 年，底价每亩 300 元/年。"),
    ("修订{}村规民约", "rules", "红白事大操大办，群众负担重。", "拟在村规民约中增加红白理事会条款，倡导简办。"),
    ("{}老年食堂", "welfare", "留守老人做饭难，希望办老年食堂。",
     "拟利用村部闲置用房开办老年食堂，70 岁以上老人每餐 3 元。"),
)
GROUPS = ("东组", "西组", "南组", "北组", "一组", "二组", "三组")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _actor(unit: Unit) -> Any:
    """The village secretary (or another manager) of the village, else the system."""
    grant = (Grant.dangerously_unscoped.filter(unit=unit, revoked_at__isnull=True, role__code="village_secretary")
             .select_related("user").order_by("id").first())
    return grant.user if grant is not None else None


def _demo_township(root: Unit) -> Unit | None:
    if root.kind.base in TOWNSHIP_BASE_KINDS:
        return root
    return (Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base__in=TOWNSHIP_BASE_KINDS,
                                             is_active=True)
            .order_by("depth", "sort_order", "id").first())


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    if Proposal.dangerously_unscoped.filter(unit_path__startswith=root.path).exists():
        stdout.write("deliberation: already present under this root, skipped\n")
        return
    township = _demo_township(root)
    if township is None:
        stdout.write("deliberation: no township under this root, skipped\n")
        return
    villages = list(Unit.dangerously_unscoped.filter(path__startswith=township.path, kind__base__in=VILLAGE_BASE_KINDS,
                                         is_active=True).order_by("sort_order", "id")[:12])
    rng = random.Random(f"{seed}:deliberation:{root.pk}")
    made = 0
    for i, village in enumerate(villages):
        made += _village(rng, village=village, now=now, index=i)
    stdout.write(f"deliberation: {made} proposals in {len(villages)} villages of {township.name}\n")


def _village(rng: random.Random, *, village: Unit, now: dt.datetime, index: int) -> int:
    actor = _actor(village)
    tick = itertools.count()

    def day(days_ago: int) -> dt.datetime:
        # Working hours of that day, a minute later than the step before (history stays in order).
        return now - dt.timedelta(days=days_ago) + dt.timedelta(minutes=next(tick))
    talk_on = local(now - dt.timedelta(days=55)).date()
    talk = services.talk_day_create(actor=actor, now=day(55), unit_id=village.pk, held_on=talk_on,
                                    topic="支部说事日", matters_heard=rng.randint(4, 12))
    matters = rng.sample(MATTERS, 4)
    representatives = [_name(rng) for _ in range(rng.randint(9, 15))]

    def raise_(k: int, days_ago: int) -> Proposal:
        title, category, description, _ = matters[k]
        return services.proposal_raise(actor=actor, now=day(days_ago), unit_id=village.pk,
                                       title=title.format(rng.choice(GROUPS)), description=description,
                                       category=category, source="talk_day", talk_day_id=talk.pk,
                                       raiser_name=_name(rng))

    def act(p: Proposal, action: str, days_ago: int, **params: Any) -> Proposal:
        return services.proposal_act(actor=actor, now=day(days_ago), proposal_id=p.pk, action=action, **params)

    def consult_and_publish(p: Proposal, k: int, days_ago: int) -> Proposal:
        p = act(p, "start_consult", days_ago)
        for kind in ("branch", "committees", "party_members"):
            n = rng.randint(2, 8)
            p = act(p, "consult_note", days_ago - 1, kind=kind, text=f"{p.title}：同意，建议细化方案。", opinions=n,
                    adopted=rng.randint(0, n))
        return act(p, "publish", days_ago - 2, notice_text=matters[k][3], days=5,
                   start=local(day(days_ago - 2)).date())

    def vote(p: Proposal, days_ago: int, passing: bool) -> Proposal:
        # The designed outcome always comes about, whatever the draws: at most a quarter stay away (the
        # quorum holds), and a passing vote has at most a quarter of those present against or abstaining.
        p = act(p, "open_vote", days_ago, body="representatives", mode="ballots", place="村委会议室",
                voters="\n".join(representatives))
        meeting = VoteMeeting.dangerously_unscoped.get(proposal=p, closed_at__isnull=True)
        voters = list(meeting.voters.order_by("seq"))
        absent = set(rng.sample(range(len(voters)), rng.randint(0, len(voters) // 4)))
        present = [v for i, v in enumerate(voters) if i not in absent]
        dissent = set(rng.sample(range(len(present)), rng.randint(0, len(present) // 4) if passing
                                 else len(present) - rng.randint(0, len(present) // 4)))
        for i, voter in enumerate(present):
            choice = rng.choice(("against", "abstain")) if i in dissent else "for"
            services.vote_cast(actor=actor, now=day(days_ago), proposal_id=p.pk, voter_id=voter.pk, choice=choice)
        return act(p, "close_vote", days_ago)

    # 1. all the way: passed, implemented, evaluated, closed.
    p = consult_and_publish(raise_(0, 50), 0, 48)
    p = vote(p, 38, passing=True)
    if p.stage == "implementing":
        for pct, ago in ((30, 30), (70, 22), (100, 16)):
            p = act(p, "progress", ago, text=f"完成工程量 {pct}%，村务监督委员会到场查看。", percent=pct)
        p = act(p, "complete", 15, outcome_text="已按决议实施完成，经村务监督委员会验收合格。")
        for _ in range(rng.randint(5, 9)):
            level = rng.choices(("satisfied", "basic", "unsatisfied"), (7, 2, 1))[0]
            p = act(p, "evaluate", 10, satisfaction=level)
        act(p, "close", 5)
    # 2. on notice now, or being voted.
    p = consult_and_publish(raise_(1, 12), 1, 10 if index % 2 else 4)
    if index % 2:
        p = act(p, "open_vote", 2, body="representatives", mode="tally", voters="\n".join(representatives))
    # 3. just raised.
    raise_(2, 3)
    made = 3
    # 4. every third village: a matter that failed its vote.
    if index % 3 == 0:
        p = consult_and_publish(raise_(3, 40), 3, 38)
        vote(p, 30, passing=False)
        made += 1
    return made
