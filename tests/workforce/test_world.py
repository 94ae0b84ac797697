"""The workforce world step: duty lists with history, points and a published assessment for the
demo township, written through the services; run twice, the second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.workforce import world as wf_world
from gridgov.workforce.models import Assessment, DutyEvent, DutyItem, DutyList, PointEntry, PointRule

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 4, 15, 3, 0, tzinfo=dt.UTC)


def test_world_step_for_the_demo_township(world):
    out = io.StringIO()
    wf_world.seed_world_step(seed=1, now=NOW, root=world.county, stdout=out)
    assert PointRule.dangerously_unscoped.filter(unit=world.county).count() == 6
    assert DutyList.dangerously_unscoped.filter(unit=world.township).count() == 4
    assert DutyItem.dangerously_unscoped.filter(duty_list__unit=world.township, state="confirmed").exists()
    assert DutyEvent.objects.filter(action="done").count() == AuditEvent.objects.filter(action="duty.done").count() > 0
    published = Assessment.dangerously_unscoped.get(unit=world.township)
    assert published.month == dt.date(2026, 3, 1) and published.rows.filter(kind="worker").count() == 3
    assert PointEntry.dangerously_unscoped.filter(source="manual").count() == 3
    assert not DutyList.dangerously_unscoped.filter(unit=world.sibling_township).exists()
    counts = (DutyList.dangerously_unscoped.count(), PointEntry.dangerously_unscoped.count())
    wf_world.seed_world_step(seed=1, now=NOW, root=world.county, stdout=out)
    assert (DutyList.dangerously_unscoped.count(), PointEntry.dangerously_unscoped.count()) == counts
