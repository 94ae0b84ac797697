"""The JSON API: idempotent intake, every action, and persona scope on every endpoint."""

from __future__ import annotations

import json

import pytest

from gridgov.cases.models import Case

pytestmark = pytest.mark.django_db

BODY = {"title": "井盖缺失", "description": "小学门口井盖丢了，很危险。", "category": "hazard", "channel": "hotline",
        "unit_id": None, "reporter_name": "赵阿姨", "reporter_phone": "13500000005", "anonymous": True}


def post(client, url, body, **headers):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def intake(kit, client, key="k1", **change):  # type: ignore[no-untyped-def]
    body = {**BODY, "unit_id": kit.world.grid_a1.pk, **change}
    return post(client, "/api/cases/", body, HTTP_IDEMPOTENCY_KEY=key)


def test_intake_201_then_200_then_409(kit, login):
    client = login(kit.world.zhang_wei)
    first = intake(kit, client)
    assert first.status_code == 201, first.content
    again = intake(kit, client)
    assert again.status_code == 200
    assert again.json()["case"]["id"] == first.json()["case"]["id"]
    clash = intake(kit, client, title="井盖又丢了")
    assert clash.status_code == 409
    assert clash.json()["code"] == "conflict" and "幂等键" in clash.json()["message"]
    assert Case.dangerously_unscoped.count() == 1


def test_intake_bad_input_is_400_with_field(kit, login):
    client = login(kit.world.zhang_wei)
    r = intake(kit, client, category="")  # the schema says at least one character: a 422 before the service
    assert r.status_code == 422 and r.json()["field"] == "category"
    r = intake(kit, client, key="k1", category="nosuchcategory")
    assert r.status_code == 400 and r.json()["field"] == "category"
    r = intake(kit, client, key="k2", unit_id=None, lat=10.0, lng=10.0)
    assert r.status_code == 400 and r.json()["field"] == "location"
    assert Case.dangerously_unscoped.count() == 0


def test_anonymous_and_unauthenticated_are_refused(kit, client):
    assert intake(kit, client).status_code == 401
    assert client.get("/api/cases/").status_code == 401


def test_every_action_through_the_api(kit, login):
    w = kit.world
    office, dept, head = login(w.zhang_wei), login(w.liu_yang), login(w.zhao_lei)
    cid = intake(kit, office).json()["case"]["id"]

    def act(client, action, **body):  # type: ignore[no-untyped-def]
        return post(client, f"/api/cases/{cid}/actions/{action}", body)

    assert act(head, "accept").status_code == 200
    r = act(office, "dispatch", department_id=w.department.pk, expected_version=2)
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    # A stale version is a conflict with a clear message.
    stale = act(office, "urge", expected_version=2)
    assert stale.status_code == 409 and "他人" in stale.json()["message"]
    assert act(dept, "acknowledge").status_code == 200
    bad = act(dept, "return", reason_code="bogus", note="x")
    assert bad.status_code == 400 and bad.json()["field"] == "reason_code"
    assert act(dept, "request_extension", days=99, reason="x").status_code == 400
    assert act(dept, "request_extension", days=2, reason="需要协调").status_code == 200
    assert act(office, "approve_extension").status_code == 200
    assert act(dept, "feedback").status_code == 400  # feedback without a result
    assert act(dept, "feedback", result="已加装井盖", rating=5).status_code == 400  # a parameter it does not take
    nosite = act(dept, "feedback", result="已加装井盖")  # 安全隐患 is 四必到: a GPS check-in is required
    assert nosite.status_code == 400 and nosite.json()["field"] == "checkin"
    assert act(dept, "feedback", result="已加装井盖", checkin_lat=39.05, checkin_lng=113.05).status_code == 200
    # Not allowed for this user / in this state.
    assert act(dept, "review").status_code in (403, 404)
    assert act(office, "acknowledge").status_code == 409
    assert act(office, "review").status_code == 200
    r = act(office, "confirm", rating=4)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    detail = office.get(f"/api/cases/{cid}").json()
    assert [e["action"] for e in detail["events"]][-1] == "confirm"
    assert detail["actions"] == []
    assert office.post(f"/api/cases/{cid}/actions/fly", data="{}", content_type="application/json").status_code == 422


@pytest.mark.parametrize(("persona", "sees"), [
    ("grid_worker", True), ("grid_head", True), ("village_secretary", True), ("township_office", True),
    ("county_office", True), ("outsider", False),
])
def test_persona_scope_on_every_endpoint(kit, login, persona, sees):
    w = kit.world
    cid = intake(kit, login(w.zhang_wei)).json()["case"]["id"]
    client = login(w.personas()[persona])
    detail = client.get(f"/api/cases/{cid}")
    events_status = detail.status_code
    assert events_status == (200 if sees else 404)
    listed = [c["id"] for c in client.get("/api/cases/?queue=overdue").json()]
    kit_all = {q: [c["id"] for c in client.get(f"/api/cases/?queue={q}").json()]
               for q in ("todo", "done", "due_soon", "supervised", "returned")}
    assert (cid in listed) is False  # nothing is overdue yet
    if not sees:
        assert all(cid not in ids for ids in kit_all.values())
        act = post(client, f"/api/cases/{cid}/actions/accept", {})
        assert act.status_code == 404
        assert detail.content == client.get("/api/cases/987654").content


def test_department_sees_only_dispatched_cases_and_never_an_anonymous_reporter(kit, login):
    w = kit.world
    office, dept = login(w.zhang_wei), login(w.liu_yang)
    cid = intake(kit, office).json()["case"]["id"]
    other = intake(kit, office, key="k2", title="另一件", anonymous=False).json()["case"]["id"]
    assert dept.get(f"/api/cases/{cid}").status_code == 404
    post(login(w.zhao_lei), f"/api/cases/{cid}/actions/accept", {})
    post(office, f"/api/cases/{cid}/actions/dispatch", {"department_id": w.department.pk})
    seen = dept.get(f"/api/cases/{cid}").json()
    assert seen["case"]["reporter"] == {"name": "匿名", "phone": "", "anonymous": True, "can_unmask": False,
                                        "can_disclose": False}
    assert "赵阿姨" not in json.dumps(seen, ensure_ascii=False)
    assert "13500000005" not in json.dumps(seen, ensure_ascii=False)
    assert [c["id"] for c in dept.get("/api/cases/?queue=todo").json()] == [cid]
    assert dept.get(f"/api/cases/{other}").status_code == 404
    # Staff of the township see the reporter, masked; the full values only through the audited unmask.
    assert office.get(f"/api/cases/{cid}").json()["case"]["reporter"] == {
        "name": "赵**", "phone": "135****0005", "anonymous": True, "can_unmask": True, "can_disclose": False}


def test_openapi_schema_lists_intake_and_the_action_codes(kit, login):
    schema = login(kit.world.zhang_wei).get("/api/openapi.json").json()
    paths = schema["paths"]
    assert "/api/cases/" in paths and "/api/cases/{case_id}/actions/{action}" in paths
    text = json.dumps(schema)
    for code in ("acknowledge", "adjudicate", "request_extension", "confirm", "cancel"):
        assert code in text
