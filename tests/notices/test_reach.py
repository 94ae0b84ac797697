"""Reach: the worker's phone page and one-tap marks (by the right worker only), the public link and
replies, the reach board per grid and village, and a 有困难 reply becoming a case through processes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.access.scope import scope_for
from gridgov.audit.models import AuditEvent
from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.core.errors import Conflict, NotFound, ValidationFailed
from gridgov.notices import selectors, services
from gridgov.notices.models import Delivery, Reply
from gridgov.processes.notice_cases import notice_reply_to_case
from tests.notices.conftest import HOUR, households, notice
from tests.world import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(world):
    households(world, world.grid_a1, 3)
    households(world, world.grid_a2, 2)
    n = notice(world, to=[world.village], grade="urgent")
    return services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)


def deliveries(n, unit):
    return list(Delivery.dangerously_unscoped.filter(notice=n, unit=unit).order_by("id"))


def test_worker_page_lists_own_grid_only_and_one_tap_marks(world, sent, login):
    wang = login(world.wang_fang)
    page = wang.get(reverse("staff:my_notices")).content.decode()
    a1, a2 = deliveries(sent, world.grid_a1), deliveries(sent, world.grid_a2)
    assert "寒潮预警" in page and "还有 <strong class=\"bad\">3</strong> 户未告知" in page
    assert all(f'id="d{d.pk}"' in page for d in a1) and not any(f'id="d{d.pk}"' in page for d in a2)
    response = wang.post(reverse("staff:delivery_mark", args=[a1[0].pk]), {"how": "door"}, follow=True)
    assert "已登记" in response.content.decode()
    d = Delivery.dangerously_unscoped.get(pk=a1[0].pk)
    assert (d.state, d.how, d.by, d.at) == ("reached", "door", world.wang_fang, d.at) and d.at is not None
    assert f'id="d{d.pk}"' not in wang.get(reverse("staff:my_notices")).content.decode()
    # A second mark of the same household is refused politely, nothing changes.
    again = wang.post(reverse("staff:delivery_mark", args=[d.pk]), {"how": "phone"}, follow=True).content.decode()
    assert "这一户已经登记过了：已上门告知（王芳" in again
    assert Delivery.dangerously_unscoped.get(pk=d.pk).how == "door"
    assert AuditEvent.objects.filter(action="notice.mark", object_id=str(d.pk)).count() == 1


def test_another_grids_worker_gets_404_and_the_village_may_mark(world, sent, login):
    a1 = deliveries(sent, world.grid_a1)
    qian = login(world.qian_duo)  # grid worker of A2
    assert qian.post(reverse("staff:delivery_mark", args=[a1[0].pk]), {"how": "phone"}).status_code == 404
    with pytest.raises(NotFound):
        services.delivery_mark(actor=world.qian_duo, now=T0, delivery_id=a1[0].pk, how="phone")
    assert login(world.sun_li).post(reverse("staff:delivery_mark", args=[a1[0].pk]),
                                    {"how": "phone"}).status_code == 404
    assert Delivery.dangerously_unscoped.get(pk=a1[0].pk).state == "pending"
    # Above the grid: the village secretary may mark.
    services.delivery_mark(actor=world.li_qiang, now=T0, delivery_id=a1[0].pk, how="phone")
    assert Delivery.dangerously_unscoped.get(pk=a1[0].pk).by == world.li_qiang


def test_unreachable_needs_a_reason(world, sent):
    d = deliveries(sent, world.grid_a1)[0]
    with pytest.raises(ValidationFailed) as exc:
        services.delivery_mark(actor=world.wang_fang, now=T0, delivery_id=d.pk, how="unreachable", reason=" ")
    assert exc.value.message == "请写明无法联系的原因。"
    services.delivery_mark(actor=world.wang_fang, now=T0, delivery_id=d.pk, how="unreachable", reason="外出务工")
    assert Delivery.dangerously_unscoped.get(pk=d.pk).state == "unreachable"


def test_public_link_shows_the_notice_counts_as_reached_and_takes_a_reply(world, sent, client):
    d = deliveries(sent, world.grid_a1)[0]
    page = client.get(f"/p/n/{d.token}/").content.decode()
    assert "寒潮预警" in page and "关好门窗" in page and "收到" in page
    assert d.household.address not in page and "王芳" not in page
    d.refresh_from_db()
    assert (d.state, d.how) == ("reached", "link")
    response = client.post(f"/p/n/{d.token}/reply/", {"kind": "received"})
    assert response.status_code == 303
    assert Reply.dangerously_unscoped.get(delivery=d).kind == "received"
    assert "您已回复" in client.get(f"/p/n/{d.token}/").content.decode()
    assert client.get("/p/n/0123456789abcdef0123456789abcdef/").status_code == 404


def test_difficulty_reply_needs_text_and_a_closed_notice_refuses(world, sent, client):
    d1, d2 = deliveries(sent, world.grid_a1)[:2]
    refused = client.post(f"/p/n/{d1.token}/reply/", {"kind": "difficulty", "text": ""})
    assert refused.status_code == 400 and "请简单写一下有什么困难" in refused.content.decode()
    assert not Reply.dangerously_unscoped.exists()
    services.notice_close(actor=world.zhang_wei, now=T0 + HOUR, notice_id=sent.pk)
    closed = client.post(f"/p/n/{d2.token}/reply/", {"kind": "received"})
    assert closed.status_code == 409 and "这条通知已经结束，不能再回复" in closed.content.decode()
    assert not Reply.dangerously_unscoped.exists()
    with pytest.raises(Conflict):
        services.delivery_mark(actor=world.wang_fang, now=T0, delivery_id=d2.pk, how="phone")


def test_reach_board_per_grid_and_village(world, sent, login):
    a1, a2 = deliveries(sent, world.grid_a1), deliveries(sent, world.grid_a2)
    services.delivery_mark(actor=world.wang_fang, now=T0, delivery_id=a1[0].pk, how="phone")
    services.public_open(now=T0, token=a1[1].token)
    services.delivery_mark(actor=world.qian_duo, now=T0, delivery_id=a2[0].pk, how="unreachable", reason="空房")
    board = selectors.reach_board(scope=scope_for(world.zhang_wei), notice=sent)
    grids = {r.unit.pk: (r.reached, r.pending, r.percent) for r in board["grids"]}
    assert grids == {world.grid_a1.pk: (2, 1, 67), world.grid_a2.pk: (0, 1, 0)}
    assert [(v.unit.pk, v.reached, v.total, v.percent) for v in board["villages"]] == [(world.village.pk, 2, 5, 40)]
    # The grid head of A1 sees only A1 on the board.
    own = selectors.reach_board(scope=scope_for(world.zhao_lei), notice=sent)
    assert [r.unit.pk for r in own["grids"]] == [world.grid_a1.pk]
    page = login(world.zhang_wei).get(reverse("staff:notice", args=[sent.pk])).content.decode()
    assert "到户率：<strong id=\"reach-total\">40%</strong>" in page
    assert login(world.sun_li).get(reverse("staff:notice", args=[sent.pk])).status_code == 404


def test_difficulty_reply_becomes_a_case_carrying_the_household(world, sent, login, client):
    seed_categories(Category, default_deadlines())
    d = deliveries(sent, world.grid_a1)[0]
    client.post(f"/p/n/{d.token}/reply/", {"kind": "difficulty", "text": "家里老人行动不便，取暖炉坏了"})
    reply = Reply.dangerously_unscoped.get(delivery=d)
    zhang = login(world.zhang_wei)
    assert "取暖炉坏了" in zhang.get(reverse("staff:notice", args=[sent.pk])).content.decode()
    response = zhang.post(reverse("staff:notice_reply_case", args=[reply.pk]), follow=True)
    case = Case.dangerously_unscoped.get()
    assert f"已转为事件 {case.number}" in response.content.decode()
    assert case.household_id == d.household_id and case.unit_id == world.grid_a1.pk
    reply.refresh_from_db()
    assert reply.case_number == case.number
    with pytest.raises(Conflict):
        notice_reply_to_case(actor=world.zhang_wei, now=T0, reply_id=reply.pk)
    assert Case.dangerously_unscoped.count() == 1
    assert login(world.sun_li).post(reverse("staff:notice_reply_case", args=[reply.pk])).status_code == 404


def test_grid_head_and_worker_see_a_village_wide_notice_but_not_a_neighbours(world, sent, login):
    zhao = login(world.zhao_lei)  # grid head of A1
    page = zhao.get(reverse("staff:notice", args=[sent.pk])).content.decode()
    assert "寒潮预警" in page and "吴城村第一网格" in page and "吴城村第二网格" not in page
    assert selectors.notice_get(scope=scope_for(world.wang_fang), notice_id=sent.pk) == sent
    other = notice(world, to=[world.village_b], title="东坊村停水")
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=other.pk)
    assert zhao.get(reverse("staff:notice", args=[other.pk])).status_code == 404
    with pytest.raises(NotFound):
        selectors.notice_get(scope=scope_for(world.wang_fang), notice_id=other.pk)
