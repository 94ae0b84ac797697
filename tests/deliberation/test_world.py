"""The demo world step: deliberation in the first township, written through the services."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.deliberation.models import Proposal, ProposalEvent, TalkDay
from gridgov.deliberation.world import seed_world_step
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_world_step_fills_the_demo_township_once(world):
    out = io.StringIO()
    now = T0 + dt.timedelta(days=90)
    seed_world_step(seed=1, now=now, root=world.county, stdout=out)
    proposals = list(Proposal.dangerously_unscoped.all())
    # 吴城乡 (the first township) has two villages; 驼峰乡 gets nothing.
    assert {p.unit_id for p in proposals} == {world.village.pk, world.village_b.pk}
    assert TalkDay.dangerously_unscoped.count() == 2
    stages = {p.stage for p in proposals}
    assert {"closed", "proposed"} <= stages and stages & {"publishing", "voting"}
    # 吴城村 (index 0) has the matter that failed its vote; every village carried one all the way.
    assert [p.stage for p in proposals].count("rejected") == 1
    assert [p.stage for p in proposals].count("closed") == 2
    # Every step went through the services: history in time order, an audit row for each.
    for p in proposals:
        times = list(ProposalEvent.dangerously_unscoped.filter(proposal=p).order_by("seq").values_list("at", flat=True))
        assert times == sorted(times) and times[-1] <= now
        assert p.raiser_name_masked.endswith("**")
    assert AuditEvent.objects.filter(action="deliberation.raise").count() == len(proposals)
    # 吴城村's steps were taken by its village secretary.
    assert (
        ProposalEvent.dangerously_unscoped.filter(proposal__unit=world.village).exclude(actor=world.li_qiang).count()
        == 0
    )
    seed_world_step(seed=1, now=now, root=world.county, stdout=out)
    assert Proposal.dangerously_unscoped.count() == len(proposals) and "skipped" in out.getvalue()
