from __future__ import annotations

import datetime as dt
import json

import pytest

from gridgov.audit.models import AuditEvent
from tests.residents.conftest import make_id

pytestmark = pytest.mark.django_db


def test_api_search_is_scoped_and_masked(world, ledger, login):
    body = login(world.wang_fang).get("/api/households/", {"q": "王伟"}).json()
    assert {i["id"] for i in body["items"]} == {ledger.a1.pk, ledger.a1_b.pk}
    assert body["next_after"] is None
    assert login(world.sun_li).get("/api/households/", {"q": "王伟"}).json()["items"] == []
    detail = login(world.wang_fang).get(f"/api/households/{ledger.a1.pk}").json()
    head = next(m for m in detail["members"] if m["relation"] == "head")
    assert head["id_number_masked"].startswith("1402**********")
    assert head["phone_masked"] == "138****5678"
    assert head["health"] is None  # health is sensitive: not for the grid worker


def test_stale_version_gets_409_with_the_current_copy(world, ledger, login):
    client = login(world.wang_fang)
    url = f"/api/households/{ledger.a1.pk}"
    version = client.get(url).json()["version"]
    ok = client.patch(url, json.dumps({"version": version, "address": "吴城村一组东"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    stale = client.patch(url, json.dumps({"version": version, "address": "覆盖"}), content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["current"]["address"] == "吴城村一组东"
    assert stale.json()["current"]["version"] == version + 1
    assert client.get(url).json()["address"] == "吴城村一组东"


def test_api_create_and_add_resident_with_chinese_errors(world, login):
    client = login(world.wang_fang)
    created = client.post("/api/households/", json.dumps({"unit_id": world.grid_a1.pk, "address": "吴城村五组"}),
                          content_type="application/json")
    assert created.status_code == 201
    hid = created.json()["id"]
    bad = client.post(f"/api/households/{hid}/residents",
                      json.dumps({"name": "周一", "id_number": "140225198001010011", "relation": "户主"}),
                      content_type="application/json")
    assert bad.status_code == 400 and "校验位" in bad.json()["message"]
    good = client.post(f"/api/households/{hid}/residents",
                       json.dumps({"name": "周一", "id_number": make_id(dt.date(1980, 1, 1), 17), "relation": "户主",
                                   "phone": "13700003333"}), content_type="application/json")
    assert good.status_code == 201
    outside = client.post("/api/households/", json.dumps({"unit_id": world.grid_c1.pk, "address": "驼峰村"}),
                          content_type="application/json")
    assert outside.status_code == 400


def test_api_unmask_is_audited_and_refused_without_the_right(world, ledger, login):
    url = f"/api/households/residents/{ledger.wang_wei.pk}/unmask"
    payload = json.dumps({"reason": "核对低保材料"})
    assert login(world.wang_fang).post(url, payload, content_type="application/json").status_code == 403
    assert login(world.sun_li).post(url, payload, content_type="application/json").status_code == 404
    shown = login(world.zhang_wei).post(url, payload, content_type="application/json")
    assert shown.json()["id_number"] == ledger.wang_wei_id
    assert AuditEvent.objects.filter(action="resident.unmask").count() == 1


def test_api_search_in_the_body_for_id_numbers(world, ledger, login):
    client = login(world.li_qiang)
    found = client.post("/api/households/search", json.dumps({"q": ledger.wang_wei_id}),
                        content_type="application/json")
    assert [i["id"] for i in found.json()["items"]] == [ledger.a1.pk]
    bad = client.post("/api/households/search", json.dumps({"id_number": "123"}), content_type="application/json")
    assert bad.status_code == 400 and "身份证号" in bad.json()["message"]
    outsider = login(world.sun_li).post("/api/households/search", json.dumps({"q": ledger.wang_wei_id}),
                                        content_type="application/json")
    assert outsider.json()["items"] == []


def test_api_tags_and_members(world, ledger, login):
    worker = login(world.wang_fang)
    head = login(world.zhao_lei)
    codes = {t["code"] for t in worker.get("/api/households/tags").json()}
    assert "veteran" in codes and "dibao" not in codes  # sensitive tags only for those who may see them
    assert "dibao" in {t["code"] for t in head.get("/api/households/tags").json()}
    url = f"/api/households/{ledger.a1.pk}/tags"
    added = worker.post(url, json.dumps({"tag": "veteran", "resident_id": ledger.wang_wei.pk}),
                        content_type="application/json")
    assert added.status_code == 201
    head_row = next(m for m in added.json()["members"] if m["id"] == ledger.wang_wei.pk)
    assert [t["code"] for t in head_row["tags"]] == ["veteran"]
    refused = worker.post(url, json.dumps({"tag": "dibao"}), content_type="application/json")
    assert refused.status_code == 403
    other = worker.post(url, json.dumps({"tag": "veteran", "resident_id": ledger.a2.members.get().pk}),
                        content_type="application/json")
    assert other.status_code == 404  # a person of another household (and grid)
    tag_id = head_row["tags"][0]["id"]
    assert login(world.sun_li).post(f"{url}/{tag_id}/end").status_code == 404
    ended = worker.post(f"{url}/{tag_id}/end")
    assert ended.status_code == 200
    assert next(m for m in ended.json()["members"] if m["id"] == ledger.wang_wei.pk)["tags"] == []
    # Move the child to the neighbour household, then record a member who moved away.
    moved = worker.post(f"/api/households/residents/{ledger.child.pk}/move",
                        json.dumps({"to_household_id": ledger.a1_b.pk, "relation": "孙子女"}),
                        content_type="application/json")
    assert moved.status_code == 200 and moved.json()["id"] == ledger.a1_b.pk
    assert worker.post(f"/api/households/residents/{ledger.child.pk}/move",
                       json.dumps({"to_household_id": ledger.c1.pk, "relation": "子女"}),
                       content_type="application/json").status_code == 404
    status = worker.post(f"/api/households/residents/{ledger.child.pk}/status",
                         json.dumps({"status": "moved_out", "reason": "随父母外出"}), content_type="application/json")
    assert status.status_code == 200 and ledger.child.pk not in {m["id"] for m in status.json()["members"]}
    bad = worker.post(f"/api/households/residents/{ledger.wang_wei.pk}/status",
                      json.dumps({"status": "active"}), content_type="application/json")
    assert bad.status_code == 400 and "已迁出" in bad.json()["message"]
