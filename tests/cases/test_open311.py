"""Open311 GeoReport v2: services, submit with an api_key, poll open/closed with notes, spec errors."""

from __future__ import annotations

import pytest

from gridgov.cases.models import Case
from gridgov.cases.reporter import reveal_name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keys(settings):
    settings.GRIDGOV_OPEN311_KEYS = {"hotline-secret": "12345热线"}


SUBMIT = {"api_key": "hotline-secret", "service_code": "sanitation", "lat": "39.05", "long": "113.05",
          "description": "小区门口垃圾满溢\n已经三天没人清运", "first_name": "明", "last_name": "李",
          "phone": "13300000001"}


def test_services_and_definition(kit, client):
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"livelihood", "dispute", "hazard", "sanitation", "illegal_building"} <= codes
    s = next(s for s in services if s["service_code"] == "sanitation")
    assert s["service_name"] == "环境卫生" and s["type"] == "realtime" and s["metadata"] is False
    assert client.get("/open311/v2/services/sanitation.json").json() == {"service_code": "sanitation",
                                                                           "attributes": []}
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_submit_then_poll_open_then_closed(kit, client):
    r = client.post("/open311/v2/requests.json", SUBMIT, HTTP_IDEMPOTENCY_KEY="h-1")
    assert r.status_code == 201, r.content
    number = r.json()[0]["service_request_id"]
    case = Case.dangerously_unscoped.get(number=number)
    assert case.channel == "open311" and case.unit == kit.world.grid_a1 and reveal_name(case) == "李明"
    assert case.title == "小区门口垃圾满溢"
    # A retried POST with the same key is the same request.
    again = client.post("/open311/v2/requests.json", SUBMIT, HTTP_IDEMPOTENCY_KEY="h-1")
    assert again.status_code == 200 and again.json()[0]["service_request_id"] == number
    polled = client.get(f"/open311/v2/requests/{number}.json?api_key=hotline-secret").json()[0]
    assert polled["status"] == "open" and polled["status_notes"] == "已提交"
    # No personal data leaves the public endpoint.
    body = client.get("/open311/v2/requests.json?status=open&api_key=hotline-secret").content.decode()
    assert number in body and "13300000001" not in body and "李明" not in body and "三天" not in body
    w = kit.world
    kit.act(case, "self_handle", w.wang_fang, result="已清运")
    kit.act(case, "confirm", w.zhao_lei, rating=5)
    polled = client.get(f"/open311/v2/requests.json?service_request_id={number}&api_key=hotline-secret").json()[0]
    assert polled["status"] == "closed" and polled["status_notes"] == "已办结"
    assert client.get("/open311/v2/requests.json?status=open&api_key=hotline-secret").json() == []


@pytest.mark.parametrize(("change", "status", "needle"), [
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"api_key": ""}, 403, "api_key"),
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "no_such"}, 400, "service_code"),
    ({"lat": "abc"}, 400, "lat"),
    ({"lat": "10", "long": "10"}, 400, "lat/long"),
    ({"description": ""}, 400, "description"),
    ({"phone": "12345"}, 400, "phone"),
])
def test_submit_errors_in_the_spec_format(kit, client, change, status, needle):
    r = client.post("/open311/v2/requests.json", {**SUBMIT, **change})
    assert r.status_code == status
    body = r.json()
    assert isinstance(body, list) and body[0]["code"] == status and needle in body[0]["description"]
    assert Case.dangerously_unscoped.count() == 0


def test_conflicting_replay_and_unknown_request(kit, client):
    client.post("/open311/v2/requests.json", SUBMIT, HTTP_IDEMPOTENCY_KEY="h-2")
    r = client.post("/open311/v2/requests.json", {**SUBMIT, "description": "别的事"}, HTTP_IDEMPOTENCY_KEY="h-2")
    assert r.status_code == 409 and r.json()[0]["code"] == 409
    assert client.get("/open311/v2/requests/none.json?api_key=hotline-secret").status_code == 404
    assert client.get("/open311/v2/requests.json?status=maybe&api_key=hotline-secret").status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday&api_key=hotline-secret").status_code == 400


def test_reading_requests_needs_a_key_so_nobody_enumerates_cases(kit, client):
    r = client.post("/open311/v2/requests.json", SUBMIT, HTTP_IDEMPOTENCY_KEY="h-3")
    number = r.json()[0]["service_request_id"]
    for url in ("/open311/v2/requests.json", f"/open311/v2/requests/{number}.json",
                "/open311/v2/requests/none.json", f"/open311/v2/requests.json?service_request_id={number}",
                f"/open311/v2/requests/{number}.json?api_key=wrong"):
        refused = client.get(url)
        assert refused.status_code == 403 and number not in refused.content.decode(), url
