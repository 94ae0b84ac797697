"""The vote (定事) and hostile input: quorum and pass rules as data, results computed never typed,
one vote per voter, the paper tally, sealed names, and refusals in Chinese that write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from gridgov.audit.models import AuditEvent
from gridgov.core import fieldcrypto
from gridgov.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from gridgov.deliberation import rules, services
from gridgov.deliberation.models import (
    Ballot,
    ConsultationNote,
    Evaluation,
    ProgressEntry,
    Proposal,
    ProposalEvent,
    TalkDay,
    VoteMeeting,
    Voter,
)
from gridgov.deliberation.states import Stage
from tests.deliberation.conftest import REPRESENTATIVES, T_VOTE
from tests.world import T0

pytestmark = pytest.mark.django_db

HALF = rules.Rule(1, 2, True)


@pytest.mark.parametrize(("eligible", "attending", "yes", "expected"), [
    (7, 4, 3, "passed"),      # 4 of 7 is a quorum; 3 of 4 is more than half
    (7, 4, 2, "rejected"),    # 2 of 4 is exactly half: not more than half
    (7, 3, 3, "no_quorum"),   # 3 of 7 attend: no quorum, even unanimous
    (8, 4, 4, "no_quorum"),   # exactly half attend: not more than half
    (8, 5, 3, "passed"),
    (1, 1, 1, "passed"),
    (1, 0, 0, "no_quorum"),
])
def test_decide_more_than_half(eligible, attending, yes, expected):
    outcome = rules.decide(eligible=eligible, attending=attending, in_favour=yes, quorum=HALF, pass_rule=HALF,
                           base=rules.Base.ATTENDING)
    assert outcome.result == expected


def test_two_thirds_of_all_eligible_is_data():
    two_thirds = rules.Rule(2, 3, False)
    assert two_thirds.needed(9) == 6 and HALF.needed(9) == 5 and HALF.needed(8) == 5
    # 6 of 9 eligible attend and all vote for: passes "at least 2/3 of the eligible"; 5 do not.
    assert rules.decide(eligible=9, attending=6, in_favour=6, quorum=HALF, pass_rule=two_thirds,
                        base=rules.Base.ELIGIBLE).passed
    assert not rules.decide(eligible=9, attending=9, in_favour=5, quorum=HALF, pass_rule=two_thirds,
                            base=rules.Base.ELIGIBLE).passed


def test_a_vote_without_quorum_cannot_pass_and_the_matter_goes_back_to_be_voted_again(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    kit.vote_all(p, "yyy")  # 3 of 7: unanimous, but no quorum
    p = kit.act(p, "close_vote")
    assert p.stage == Stage.PUBLISHING and p.result == "no_quorum"
    meeting = VoteMeeting.dangerously_unscoped.get(proposal=p)
    assert (meeting.attending, meeting.votes_for, meeting.result) == (3, 3, "no_quorum")
    # A second meeting may be convened; this time a quorum attends.
    p = kit.act(p, "open_vote")
    kit.vote_all(p, "yyyyp")
    p = kit.act(p, "close_vote")
    assert p.stage == Stage.IMPLEMENTING and p.result == "passed"
    assert VoteMeeting.dangerously_unscoped.filter(proposal=p).count() == 2


def test_present_without_a_ballot_counts_as_abstaining(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    kit.vote_all(p, "yypp")  # 4 attend, 2 for: exactly half of those attending is not more than half
    p = kit.act(p, "close_vote")
    assert p.stage == Stage.REJECTED
    last = ProposalEvent.dangerously_unscoped.filter(proposal=p).order_by("-seq").first()
    expected = {"attending": 4, "for": 2, "abstain": 2, "result": "rejected", "pass_needed": 3}
    assert {k: last.detail[k] for k in expected} == expected


def test_the_result_cannot_be_typed_in(kit):
    p = kit.to_stage(Stage.VOTING)
    with pytest.raises(ValidationFailed) as exc:
        kit.act(p, "close_vote", result="passed")
    assert "不接受" in exc.value.message


def test_a_voter_cannot_vote_twice(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    voter = Voter.dangerously_unscoped.filter(meeting__proposal=p).order_by("seq").first()
    services.vote_cast(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk, voter_id=voter.pk, choice="for")
    audits = AuditEvent.objects.count()
    with pytest.raises(Conflict) as exc:
        services.vote_cast(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk, voter_id=voter.pk,
                           choice="against")
    assert "不能重复投票" in exc.value.message and "张*" in exc.value.message
    assert list(Ballot.dangerously_unscoped.filter(voter=voter).values_list("choice", flat=True)) == ["for"]
    assert AuditEvent.objects.count() == audits
    # The database itself refuses a second ballot.
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.dangerously_unscoped.create(meeting=voter.meeting, voter=voter, choice="against", at=T_VOTE)


def test_every_vote_and_attendance_is_audited(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    kit.vote_all(p, "ynap")
    votes = AuditEvent.objects.filter(action="deliberation.vote").order_by("id")
    assert [(v.detail["seq"], v.detail["choice"]) for v in votes] == [(1, "for"), (2, "against"), (3, "abstain")]
    assert all(v.actor_id == kit.world.li_qiang.pk and v.unit_path == kit.world.village.path for v in votes)
    assert AuditEvent.objects.filter(action="deliberation.attend", detail__seq=4).count() == 1


def test_paper_tally(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote", mode="tally")
    with pytest.raises(ValidationFailed):
        services.vote_cast(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk,
                           voter_id=Voter.dangerously_unscoped.filter(meeting__proposal=p).first().pk, choice="for")
    with pytest.raises(ValidationFailed) as exc:
        services.vote_tally(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk, attending="5",
                            votes_for="4", votes_against="2", votes_abstain="0")
    assert "多于到会人数" in exc.value.message
    with pytest.raises(ValidationFailed):
        services.vote_tally(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk, attending="8",
                            votes_for="4", votes_against="2", votes_abstain="0")  # 7 eligible
    assert VoteMeeting.dangerously_unscoped.get(proposal=p).tally_attending is None
    services.vote_tally(actor=kit.world.li_qiang, now=kit.tick(), proposal_id=p.pk, attending="5", votes_for="3",
                        votes_against="1", votes_abstain="1")
    assert AuditEvent.objects.filter(action="deliberation.tally").count() == 1
    p = kit.act(p, "close_vote")
    assert p.stage == Stage.IMPLEMENTING and p.result == "passed"


def test_close_vote_needs_someone_to_have_attended(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    with pytest.raises(ValidationFailed) as exc:
        kit.act(p, "close_vote")
    assert "还没有登记" in exc.value.message
    assert Proposal.dangerously_unscoped.get(pk=p.pk).stage == Stage.VOTING


def test_the_vote_waits_for_the_notice_period(kit):
    p = kit.to_stage(Stage.PUBLISHING)
    assert (p.notice_end - p.notice_start).days == 4  # five days, both ends counted
    with pytest.raises(ValidationFailed) as exc:
        services.proposal_act(actor=kit.world.li_qiang, now=T0 + dt.timedelta(days=3), proposal_id=p.pk,
                              action="open_vote", body="representatives", voters="张三\n李四")
    assert "公示期未满" in exc.value.message
    assert not VoteMeeting.dangerously_unscoped.exists()


def test_household_representatives_come_from_the_ledger(kit):
    from gridgov.residents import idnumber
    from gridgov.residents.households import household_create
    from gridgov.residents.members import resident_add

    w = kit.world
    for i, (name, grid) in enumerate([("刘一", w.grid_a1), ("陈二", w.grid_a2), ("外村人", w.grid_b1)]):
        h = household_create(actor=None, now=T0, unit_id=grid.pk, address="吴城村", house_number=str(i))
        resident_add(actor=None, now=T0, household_id=h.pk, name=name, relation="head",
                            id_number=idnumber.make("140225", dt.date(1970, 1, 1 + i), 101 + i))
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote", body="households", voters_from="households", voters="")
    voters = list(Voter.dangerously_unscoped.filter(meeting__proposal=p).order_by("seq"))
    assert [v.name_masked for v in voters] == ["刘*", "陈*"]
    assert fieldcrypto.decrypt(voters[0].name_cipher, purpose=services.VOTER_PURPOSE) == "刘一"
    assert VoteMeeting.dangerously_unscoped.get(proposal=p).eligible == 2


def test_names_are_sealed(kit):
    p = kit.raise_(raiser_name="王大山")
    row = Proposal.dangerously_unscoped.get(pk=p.pk)
    assert row.raiser_name_masked == "王**" and "王大山" not in row.raiser_name_cipher
    assert services.reveal_raiser(row) == "王大山"
    p = kit.to_stage(Stage.VOTING)
    voter = Voter.dangerously_unscoped.filter(meeting__proposal=p).order_by("seq").first()
    assert voter.name_masked == "张**" and REPRESENTATIVES[0] not in voter.name_cipher


BAD_RAISE = [
    ({"title": ""}, "请填写议题"),
    ({"title": "路" * 81}, "不能超过 80"),
    ({"description": "  "}, "请填写内容"),
    ({"category": "bribe"}, "请选择类别"),
    ({"source": ""}, "请选择来源"),
    ({"source": "talk_day"}, "哪一次说事日"),
    ({"talk_day_id": "abc"}, "请选择说事日"),
    ({"unit_id": "x"}, "请选择村"),
    ({"unit_id": 987654321}, "不存在"),
    ({"raiser_name": "名" * 21}, "不能超过 20"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_RAISE)
def test_bad_proposals_are_refused_in_chinese_and_nothing_is_written(kit, changes, message):
    audits = AuditEvent.objects.count()
    with pytest.raises(DomainError) as exc:
        kit.raise_(**changes)
    assert message in exc.value.message
    assert not Proposal.dangerously_unscoped.exists() and not ProposalEvent.dangerously_unscoped.exists()
    assert AuditEvent.objects.count() == audits


BAD_ACTS = [
    (Stage.CONSULTING, "consult_note", {"kind": "x"}, "请选择意见来源"),
    (Stage.CONSULTING, "consult_note", {"text": ""}, "请填写意见内容"),
    (Stage.CONSULTING, "consult_note", {"opinions": "2", "adopted": "3"}, "不能多于"),
    (Stage.CONSULTING, "consult_note", {"opinions": "-1"}, "之间"),
    (Stage.CONSULTING, "publish", {"days": "4"}, "5 到 30"),
    (Stage.CONSULTING, "publish", {"notice_text": ""}, "请填写公示内容"),
    (Stage.CONSULTING, "publish", {"start": "2026/3/1"}, "格式"),
    (Stage.CONSULTING, "withdraw", {"reason": ""}, "请填写撤回理由"),
    (Stage.PUBLISHING, "open_vote", {"voters": ""}, "代表名单"),
    (Stage.PUBLISHING, "open_vote", {"body": "mob"}, "表决主体"),
    (Stage.PUBLISHING, "open_vote", {"quorum": "3/2>"}, "分数"),
    (Stage.PUBLISHING, "open_vote", {"pass_rule": "half"}, "格式"),
    (Stage.PUBLISHING, "open_vote", {"voters": "甲" * 21}, "太长"),
    (Stage.IMPLEMENTING, "progress", {"percent": "101"}, "之间"),
    (Stage.IMPLEMENTING, "progress", {"percent": "10"}, "不能比上次"),
    (Stage.IMPLEMENTING, "complete", {"outcome_text": ""}, "请填写实施结果"),
    (Stage.EVALUATING, "evaluate", {"satisfaction": "great"}, "满意度"),
    (Stage.REJECTED, "reconsult", {"reason": ""}, "修改说明"),
]


@pytest.mark.parametrize(("stage", "action", "changes", "message"), BAD_ACTS)
def test_bad_stage_input_is_refused_in_chinese_and_nothing_is_written(kit, stage, action, changes, message):
    p = kit.to_stage(stage)
    counts = [m.dangerously_unscoped.count() for m in (ProposalEvent, ConsultationNote, VoteMeeting, Voter,
                                                       ProgressEntry,
                                           Evaluation)]
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        kit.act(p, action, **changes)
    assert message in exc.value.message
    assert [m.dangerously_unscoped.count() for m in (ProposalEvent, ConsultationNote, VoteMeeting, Voter, ProgressEntry,
                                         Evaluation)] == counts
    assert AuditEvent.objects.count() == audits
    row = Proposal.dangerously_unscoped.get(pk=p.pk)
    assert (row.stage, row.version) == (stage, p.version)


def test_prerequisites_of_the_stages(kit):
    p = kit.raise_()
    p = kit.act(p, "start_consult")
    with pytest.raises(ValidationFailed, match="谋事意见"):
        kit.act(p, "publish")


def test_who_may_do_what(kit):
    w = kit.world
    # A grid worker may raise a matter in their own grid, not run its stages; not in the village above.
    p = kit.raise_(actor=w.wang_fang, unit_id=w.grid_a1.pk, raiser_name="")
    assert p.raised_by == w.wang_fang and p.raiser_name_masked == ""
    with pytest.raises(PermissionDenied):
        kit.act(p, "start_consult", actor=w.wang_fang)
    with pytest.raises(ValidationFailed, match="不存在"):  # the village above is out of their sight
        kit.raise_(actor=w.wang_fang, unit_id=w.village.pk)
    # The outsider and the department handler: the proposal does not exist for them.
    from gridgov.core.errors import NotFound

    for outsider in (w.sun_li, w.liu_yang):
        with pytest.raises(NotFound):
            kit.act(p, "start_consult", actor=outsider)
    # The township office may run a village's deliberation.
    assert kit.act(p, "start_consult", actor=w.zhang_wei).stage == Stage.CONSULTING


def test_talk_day_and_proposals_raised_from_it(kit):
    w = kit.world
    talk = services.talk_day_create(actor=w.li_qiang, now=T0, unit_id=w.village.pk, held_on="2026-03-02",
                                    topic="三月支部说事日", matters_heard="6")
    with pytest.raises(Conflict):
        services.talk_day_create(actor=w.li_qiang, now=T0, unit_id=w.village.pk, held_on="2026-03-02")
    with pytest.raises(ValidationFailed, match="晚于今天"):
        services.talk_day_create(actor=w.li_qiang, now=T0, unit_id=w.village.pk, held_on="2026-03-09")
    p = kit.raise_(talk_day_id=str(talk.pk), source="visit")
    assert p.talk_day == talk and p.source == "talk_day"
    other = services.talk_day_create(actor=w.zhang_wei, now=T0, unit_id=w.village_b.pk, held_on="2026-03-01")
    with pytest.raises(ValidationFailed, match="不属于"):
        kit.raise_(talk_day_id=other.pk)
    assert TalkDay.dangerously_unscoped.count() == 2
