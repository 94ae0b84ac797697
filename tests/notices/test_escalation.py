"""Escalation on a fixed clock: nothing before the grade's deadline; at the deadline the workers of the
grids below full reach; later the grid head and the village; never twice; a fully reached grid never."""

from __future__ import annotations

import pytest

from gridgov.notices import services
from gridgov.notices.escalation import notice_escalate
from gridgov.notices.models import Delivery
from gridgov.notify.models import Outbox
from tests.notices.conftest import HOUR, households, notice
from tests.world import T0

pytestmark = pytest.mark.django_db


def sent_to(outbox_key: str) -> set[int]:
    row = Outbox.objects.filter(dedupe_key=outbox_key).first()
    return set(row.payload["user_ids"]) if row else set()


def test_escalation_worker_then_head_and_village(world):
    households(world, world.grid_a1, 2)
    households(world, world.grid_a2, 1)
    n = notice(world, to=[world.village], grade="urgent")  # 12 hours
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    a2 = Delivery.dangerously_unscoped.get(notice=n, unit=world.grid_a2)
    services.delivery_mark(actor=world.qian_duo, now=T0 + HOUR, delivery_id=a2.pk, how="phone")

    assert notice_escalate(now=T0 + 11 * HOUR).workers == 0
    assert not Outbox.objects.filter(topic="notice.unreached").exists()

    report = notice_escalate(now=T0 + 12 * HOUR)
    assert (report.workers, report.heads) == (1, 0)
    assert sent_to(f"notice-escalate:{n.pk}:{world.grid_a1.pk}:1") == {world.wang_fang.pk}
    assert not Outbox.objects.filter(dedupe_key__endswith=f":{world.grid_a2.pk}:1").exists()  # A2 fully reached

    notice_escalate(now=T0 + 13 * HOUR)  # rerun: nothing twice
    assert Outbox.objects.filter(topic="notice.unreached").count() == 1

    report = notice_escalate(now=T0 + 18 * HOUR)
    assert report.heads == 1
    assert sent_to(f"notice-escalate:{n.pk}:{world.grid_a1.pk}:2") == {world.zhao_lei.pk, world.li_qiang.pk}
    assert Outbox.objects.filter(topic="notice.unreached").count() == 2


def test_closed_or_fully_reached_notice_is_not_escalated(world):
    households(world, world.grid_a1, 1)
    n = notice(world, to=[world.grid_a1], grade="urgent")
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    d = Delivery.dangerously_unscoped.get(notice=n)
    services.delivery_mark(actor=world.wang_fang, now=T0, delivery_id=d.pk, how="group")
    m = notice(world, to=[world.grid_a1], grade="urgent", title="停水通知")
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=m.pk)
    services.notice_close(actor=world.zhang_wei, now=T0 + HOUR, notice_id=m.pk)
    report = notice_escalate(now=T0 + 48 * HOUR)
    assert (report.workers, report.heads) == (0, 0)
