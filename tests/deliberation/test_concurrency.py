"""Real concurrency on PostgreSQL: twenty people recording votes at the same instant."""

from __future__ import annotations

import pytest
from django.db import connection

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict
from gridgov.deliberation import services
from gridgov.deliberation.models import Ballot, Voter
from gridgov.deliberation.states import Stage
from tests.cases.test_concurrency import run_parallel
from tests.deliberation.conftest import T_VOTE

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_votes_land_exactly_one_per_voter(kit):
    if connection.vendor != "postgresql":
        pytest.skip("parallel transactions are exercised on PostgreSQL")
    p = kit.to_stage(Stage.PUBLISHING)
    p = kit.act(p, "open_vote")
    voters = list(Voter.dangerously_unscoped.filter(meeting__proposal=p).order_by("seq"))[:4]
    choices = ["for", "against", "abstain", "for"]

    def vote(i: int) -> str:
        # Five threads per voter, each trying a different choice.
        ballot = services.vote_cast(actor=kit.world.li_qiang, now=T_VOTE, proposal_id=p.pk,
                                    voter_id=voters[i % 4].pk, choice=choices[i // 5 % 4])
        return ballot.choice

    outcomes = run_parallel(20, vote)
    landed = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(landed) == 4 and len(refused) == 16, outcomes
    assert all("不能重复投票" in c.message for c in refused)
    assert sorted(Ballot.dangerously_unscoped.filter(meeting__proposal=p).values_list("voter_id", flat=True)) == \
        sorted(v.pk for v in voters)
    assert AuditEvent.objects.filter(action="deliberation.vote").count() == 4
