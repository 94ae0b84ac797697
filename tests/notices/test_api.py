"""The notices JSON API for the field app: the worker's list (own grids only) and marking (scope, refusals)."""

from __future__ import annotations

import pytest

from gridgov.notices import services
from gridgov.notices.models import Delivery
from tests.notices.conftest import households, notice
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_worker_list_and_mark_over_json(world, login):
    households(world, world.grid_a1, 2)
    households(world, world.grid_a2, 1)
    n = notice(world, to=[world.village], grade="critical", actor=world.zhang_wei)
    services.notice_send(actor=world.zhang_wei, now=T0, notice_id=n.pk)
    services.notice_approve(actor=world.chen_jing, now=T0, notice_id=n.pk)
    wang = login(world.wang_fang)
    body = wang.get("/api/notices/my").json()
    assert [(x["title"], x["grade_label"], x["total"], len(x["pending"])) for x in body] == [("寒潮预警", "特急", 2, 2)]
    a1 = body[0]["pending"][0]["delivery_id"]
    ok = wang.post(f"/api/notices/deliveries/{a1}/mark", {"how": "phone"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == "reached"
    again = wang.post(f"/api/notices/deliveries/{a1}/mark", {"how": "door"}, content_type="application/json")
    assert again.status_code == 409 and "已经登记过了" in again.json()["message"]
    a2 = Delivery.dangerously_unscoped.get(notice=n, unit=world.grid_a2).pk
    other = wang.post(f"/api/notices/deliveries/{a2}/mark", {"how": "phone"}, content_type="application/json")
    assert other.status_code == 404
    assert login(world.sun_li).get("/api/notices/my").json() == []  # another township: nothing of 吴城乡
