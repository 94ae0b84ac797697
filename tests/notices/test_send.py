"""Sending a notice: one delivery row per household of the scope, nothing outside, the scope check,
approval for 特急 / county-wide notices by a second person."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict, ValidationFailed
from gridgov.notices import services
from gridgov.notices.models import Delivery, Notice
from gridgov.residents import tags
from tests.notices.conftest import HOUR, households, notice
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_every_household_in_scope_gets_exactly_one_delivery(world):
    inside = households(world, world.grid_a1, 3) + households(world, world.grid_a2, 2)
    outside = households(world, world.grid_b1, 2) + households(world, world.grid_c1, 1)
    n = notice(world, to=[world.village])
    sent = services.notice_send(actor=world.zhang_wei, now=T0 + HOUR, notice_id=n.pk)
    assert sent.status == Notice.Status.SENT and sent.households == 5
    rows = list(Delivery.dangerously_unscoped.filter(notice=n).values_list("household_id", "unit_id", "state"))
    assert sorted(r[0] for r in rows) == sorted(h.pk for h in inside)
    assert not {h.pk for h in outside} & {r[0] for r in rows}
    assert all(r[2] == "pending" for r in rows)
    by_pk = {h.pk: h.unit_id for h in inside}
    assert all(by_pk[h] == u for h, u, _ in rows)
    tokens = list(Delivery.dangerously_unscoped.filter(notice=n).values_list("token", flat=True))
    assert len(set(tokens)) == 5 and all(len(t) == 32 for t in tokens)
    assert AuditEvent.objects.filter(action="notice.send", object_id=str(n.pk)).count() == 1


def test_send_is_one_insert_whatever_the_number_of_households(world, django_assert_max_num_queries):
    households(world, world.grid_a1, 30)
    n = notice(world, to=[world.grid_a1, world.grid_a2])
    with django_assert_max_num_queries(20) as ctx:
        services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    inserts = [q for q in ctx.captured_queries if 'INSERT INTO "notices_delivery"' in q["sql"]]
    assert len(inserts) == 1 and Delivery.dangerously_unscoped.filter(notice=n).count() == 30


def test_key_group_tag_filter(world):
    a, _b, _c = households(world, world.grid_a1, 3)
    tags.tag_assign(actor=None, now=T0, tag_code="returnee_entrepreneur", household_id=a.pk)
    n = notice(world, to=[world.village], tags=["returnee_entrepreneur"])
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    assert list(Delivery.dangerously_unscoped.filter(notice=n).values_list("household_id", flat=True)) == [a.pk]


def test_scope_outside_the_senders_is_refused_in_chinese(world):
    households(world, world.grid_c1, 1)
    with pytest.raises(ValidationFailed) as exc:
        notice(world, to=[world.sibling_village])
    assert "不在您的管辖范围内" in exc.value.message
    with pytest.raises(ValidationFailed):  # a grid head sends to their grid only
        notice(world, actor=world.zhao_lei, unit=world.grid_a1, to=[world.grid_a2])
    assert not Notice.dangerously_unscoped.exists() and not Delivery.dangerously_unscoped.exists()


def test_empty_text_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        services.notice_create(actor=world.zhang_wei, now=T0, unit_id=world.township.pk, title="通知", text="  ",
                               unit_ids=[world.village.pk])
    assert exc.value.message == "请填写通知内容。"


def test_critical_notice_waits_for_a_second_person(world):
    households(world, world.grid_a1, 2)
    n = notice(world, grade="critical")
    assert services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk).status == Notice.Status.PENDING
    assert not Delivery.dangerously_unscoped.filter(notice=n).exists()
    with pytest.raises(ValidationFailed) as exc:
        services.notice_approve(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    assert "另一人" in exc.value.message
    approved = services.notice_approve(actor=world.chen_jing, now=T0 + HOUR, notice_id=n.pk)
    assert approved.status == Notice.Status.SENT and approved.approved_by == world.chen_jing
    assert Delivery.dangerously_unscoped.filter(notice=n).count() == 2 and approved.reach_hours == 2
    with pytest.raises(Conflict):
        services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)


def test_county_wide_notice_needs_approval_and_normal_village_notice_does_not(world):
    n = notice(world, actor=world.chen_jing, unit=world.county, to=[world.county])
    assert services.notice_send(actor=world.chen_jing, now=T0, notice_id=n.pk).status == Notice.Status.PENDING
    m = notice(world, to=[world.village])
    assert services.notice_send(actor=world.zhang_wei, now=T0, notice_id=m.pk).status == Notice.Status.SENT
