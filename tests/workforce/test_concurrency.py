"""Real concurrency on PostgreSQL: parallel awards to one worker never pass the monthly cap, and one
fact fed twice at once scores once; two people confirming one item at once confirm it once."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from gridgov.core.errors import Conflict
from gridgov.workforce import services
from gridgov.workforce.models import DutyEvent, PointEntry
from tests.cases.test_concurrency import _needs_postgres, run_parallel
from tests.workforce.conftest import DAY, issue
from tests.world import T0

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_parallel_awards_keep_the_cap_and_the_fact_once(world, rules):
    _needs_postgres()
    # case_self_handled: +5, cap 50 → 16 different facts at once still total 50.
    results = run_parallel(16, lambda i: services.points_award_event(
        worker_id=world.wang_fang.pk, kind="case_self_handled", source_type="case", source_id=str(i), at=T0, now=T0))
    assert not [r for r in results if isinstance(r, Exception)]
    total = PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).aggregate(s=Sum("points"))["s"]
    assert total == 50
    same = run_parallel(6, lambda i: services.points_award_event(
        worker_id=world.qian_duo.pk, kind="case_self_handled", source_type="case", source_id="77", at=T0, now=T0))
    assert not [r for r in same if isinstance(r, Exception)]
    assert PointEntry.dangerously_unscoped.filter(worker=world.qian_duo).count() == 1


def test_two_confirmations_at_once_confirm_once(world, rules):
    _needs_postgres()
    item = issue(world, to_workers=[world.wang_fang]).items.get()
    services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已核查完毕。")
    results = run_parallel(2, lambda i: services.duty_item_confirm(
        actor=(world.zhang_wei, world.chen_jing)[i], now=T0 + DAY, item_id=item.pk))
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "DutyItem"]
    assert any(isinstance(r, Conflict) for r in results)
    assert DutyEvent.objects.filter(item=item, action="confirm").count() == 1
    assert PointEntry.dangerously_unscoped.filter(worker=world.wang_fang, kind="duty_on_time").count() == 1
