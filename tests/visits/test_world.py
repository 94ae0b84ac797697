"""The visits world step writes a visit history that keeps the invariants the service keeps."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from gridgov.core import fieldcrypto
from gridgov.residents.models import HouseholdAssignment
from gridgov.visits import world
from gridgov.visits.models import Visit, VisitCampaign, VisitRule
from gridgov.visits.services import NOTES_PURPOSE
from tests.visits.conftest import NOW

pytestmark = pytest.mark.django_db


def test_world_step(vw, monkeypatch):
    # The generator forgets 5 % of must-visit households on purpose (their draw depends on the root's pk,
    # which test order moves): here none is forgotten, so the elder below is surely visited on cadence.
    monkeypatch.setattr(world, "FORGOTTEN_SHARE", 0.0)
    for h in (vw.a1, vw.a1_elder, vw.a1_plain):
        HouseholdAssignment.dangerously_unscoped.create(household=h, kind="grid_worker", user=vw.w.wang_fang,
                                                        started_at=NOW)
    out = io.StringIO()
    world.seed_world_step(seed=3, now=NOW, root=vw.w.county, stdout=out)
    visits = list(Visit.dangerously_unscoped.all())
    assert visits and {v.visitor_id for v in visits} == {vw.w.wang_fang.pk}
    assert all(v.visited_at <= NOW and v.visited_at >= NOW - dt.timedelta(days=world.HISTORY_DAYS + 1)
               for v in visits)
    assert all((v.kind == "campaign") == (v.campaign_id is not None) for v in visits)
    assert all(fieldcrypto.decrypt(v.notes_cipher, purpose=NOTES_PURPOSE) in world.NOTES for v in visits)
    # The county's rules were there already (the fixture's): kept, not replaced.
    assert VisitRule.dangerously_unscoped.filter(unit=vw.w.county).count() == 3
    assert VisitCampaign.dangerously_unscoped.filter(unit=vw.w.township).exists()
    # The elder living alone (every 7 days) is visited far more often than the household without a group.
    per = {h.pk: sum(v.household_id == h.pk for v in visits) for h in (vw.a1_elder, vw.a1_plain)}
    assert per[vw.a1_elder.pk] > per[vw.a1_plain.pk]
    world.seed_world_step(seed=3, now=NOW, root=vw.w.county, stdout=out)
    assert Visit.dangerously_unscoped.count() == len(visits) and "skipped" in out.getvalue()
