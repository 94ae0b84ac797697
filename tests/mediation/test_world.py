"""The world step writes a mediation ledger through the services: deterministic for a seed, every
state change audited, every concluded case with its outcome."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.mediation.models import MediationCase, MediationEvent
from gridgov.mediation.world import seed_world_step
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_world_step_writes_a_ledger_through_the_services(mworld):
    seed_world_step(seed=1, now=T0, root=mworld.township)
    rows = list(MediationCase.dangerously_unscoped.all())
    assert len(rows) == 36
    assert {m.mode for m in rows} <= {"people", "administrative", "judicial"}
    assert sum(m.mode == "people" for m in rows) > len(rows) / 2
    assert len({m.status for m in rows}) >= 4
    for m in rows:
        assert m.parties.count() == 2
        assert (m.concluded_at is None) == (m.status in ("accepted", "mediating"))
        if m.status in ("agreed", "following_up") or (m.status == "closed" and not m.referral_channel):
            assert m.agreement_number or m.outcome_note
    events = MediationEvent.dangerously_unscoped.count()
    assert AuditEvent.objects.filter(action__startswith="mediation.").count() == events
    numbers = sorted(m.number for m in rows)
    MediationCase.dangerously_unscoped.all().delete()
    seed_world_step(seed=1, now=T0, root=mworld.township)
    assert sorted(m.title for m in MediationCase.dangerously_unscoped.all()) == sorted(m.title for m in rows)
    assert numbers
