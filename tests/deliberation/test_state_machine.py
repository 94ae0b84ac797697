"""Every (stage, action) pair of the six-stage table: allowed ones land in one of the action's
targets and are audited with a history row; the others are refused with a Chinese Conflict and
write nothing."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict
from gridgov.deliberation.models import Proposal, ProposalEvent
from gridgov.deliberation.states import ACTIONS, SIX_STAGES, Stage

pytestmark = pytest.mark.django_db

PAIRS = [(stage.value, code) for stage in Stage for code in ACTIONS]


@pytest.mark.parametrize(("stage", "action"), PAIRS)
def test_every_stage_action_pair(kit, stage, action):
    proposal = kit.to_stage(stage)
    assert proposal.stage == stage
    spec = ACTIONS[action]
    audits = AuditEvent.objects.count()
    events = ProposalEvent.dangerously_unscoped.filter(proposal=proposal).count()
    version = proposal.version
    if spec.allowed_from(stage):
        after = kit.act(proposal, action)
        assert after.stage in (spec.targets or {stage}), (stage, action, after.stage)
        assert after.version == version + 1
        last = ProposalEvent.dangerously_unscoped.filter(proposal=proposal).order_by("-seq").first()
        assert (last.action, last.from_stage, last.to_stage) == (action, stage, after.stage)
        audit = AuditEvent.objects.order_by("-id").first()
        assert audit.action == f"deliberation.{action}"
        assert (audit.detail["from"], audit.detail["to"]) == (stage, after.stage)
        assert audit.actor_id == kit.world.li_qiang.pk and audit.role == "village_secretary"
    else:
        with pytest.raises(Conflict) as exc:
            kit.act(proposal, action)
        assert "不能" in exc.value.message
        assert AuditEvent.objects.count() == audits
        assert ProposalEvent.dangerously_unscoped.filter(proposal=proposal).count() == events
        assert Proposal.dangerously_unscoped.get(pk=proposal.pk).version == version


def test_the_table_reaches_every_stage_and_names_them_in_chinese():
    reached = {t for a in ACTIONS.values() for t in a.targets} | {Stage.PROPOSED}
    assert reached == set(Stage)
    assert [s.label for s in SIX_STAGES] == ["提事", "谋事", "亮事", "定事", "审事", "评事"]
    for a in ACTIONS.values():
        assert a.label and all("\u4e00" <= ch <= "\u9fff" or not ch.isalpha() for ch in a.label)


def test_the_full_journey_stamps_each_stage_once(kit):
    p = kit.to_stage(Stage.CLOSED)
    for stage in SIX_STAGES:
        assert getattr(p, f"{stage.value}_at") is not None, stage
    assert p.result == "passed" and p.closed_at is not None
    actions = list(ProposalEvent.dangerously_unscoped.filter(proposal=p).order_by("seq").values_list("action",
                                                                                                     flat=True))
    assert actions == ["raise", "start_consult", "consult_note", "publish", "open_vote", "close_vote", "progress",
                       "complete", "evaluate", "close"]
    # Every stage change and every vote is in the audit log.
    audited = list(AuditEvent.objects.filter(action__startswith="deliberation.").values_list("action", flat=True))
    assert audited.count("deliberation.vote") == 5
    assert {f"deliberation.{a}" for a in actions} <= set(audited)
