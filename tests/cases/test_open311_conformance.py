"""Open311 GeoReport v2 as the spec says (issue 16, item 8): XML and JSON (`.xml`, `.json`, and XML
without an extension, the spec's default), `address_string` alone accepted (placed by the township's
address table, else routed to the township office), comma lists in `status`, errors always a list of
{code, description} in Chinese (404 and 405 too), keys settable from the environment, reads behind a key."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from defusedxml import ElementTree as ET

from gridgov.cases.models import Case
from gridgov.residents import households as ledger
from tests.world import T0

pytestmark = pytest.mark.django_db

KEY = "hotline-secret"
SUBMIT = {"api_key": KEY, "service_code": "sanitation", "description": "路灯不亮\n晚上很黑", "phone": "13300000001"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def keys(settings, world):
    settings.GRIDGOV_OPEN311_KEYS = {KEY: {"name": "12345热线", "township": world.township.division_code},
                                     "plain-key": "县热线"}


def _xml(response):  # type: ignore[no-untyped-def]
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ET.fromstring(response.content)


def _errors(response, status: int) -> str:  # type: ignore[no-untyped-def]
    """The spec's error body in either format; returns the description (which must be Chinese)."""
    assert response.status_code == status
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert isinstance(body, list) and body[0]["code"] == status
        text = body[0]["description"]
    else:
        root = _xml(response)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        text = root.find("error/description").text
    assert CJK.search(text), text
    return text


def test_services_in_xml_by_default_and_in_both_formats(kit, client):
    for url in ("/open311/v2/services", "/open311/v2/services.xml"):
        root = _xml(client.get(url))
        assert root.tag == "services"
        codes = {s.find("service_code").text for s in root.findall("service")}
        assert {"sanitation", "dispute"} <= codes
        sanitation = next(s for s in root.findall("service") if s.find("service_code").text == "sanitation")
        assert sanitation.find("service_name").text == "环境卫生" and sanitation.find("metadata").text == "false"
    assert client.get("/open311/v2/services/sanitation.json").json() == {"service_code": "sanitation",
                                                                           "attributes": []}
    definition = _xml(client.get("/open311/v2/services/sanitation.xml"))
    assert definition.tag == "service_definition" and definition.find("service_code").text == "sanitation"
    assert client.get("/open311/v2/services.json")["Content-Type"].startswith("application/json")


def test_submit_and_read_in_xml(kit, client):
    r = client.post("/open311/v2/requests.xml", {**SUBMIT, "lat": "39.05", "long": "113.05"})
    root = _xml(r)
    assert r.status_code == 201 and root.tag == "service_requests"
    number = root.find("request/service_request_id").text
    assert Case.dangerously_unscoped.get(number=number).unit == kit.world.grid_a1
    listed = _xml(client.get(f"/open311/v2/requests?api_key={KEY}"))
    assert [e.text for e in listed.findall("request/service_request_id")] == [number]
    raw = client.get(f"/open311/v2/requests/{number}.xml?api_key={KEY}")
    one = _xml(raw)
    assert one.find("request/status").text == "open" and "13300000001" not in raw.content.decode()
    assert json.loads(client.get(f"/open311/v2/requests/{number}.json?api_key={KEY}").content)[0]["status"] == "open"


def test_address_string_alone_is_placed_by_the_townships_address_table(kit, client):
    w = kit.world
    ledger.household_create(actor=None, now=T0, unit_id=w.grid_a2.pk, address="吴城村二组", house_number="7")
    r = client.post("/open311/v2/requests.json", {**SUBMIT, "address_string": "吴城村二组 7号"})
    assert r.status_code == 201, r.content
    case = Case.dangerously_unscoped.get(number=r.json()[0]["service_request_id"])
    assert case.unit == w.grid_a2 and case.address == "吴城村二组 7号"


def test_an_address_nobody_lives_at_goes_to_the_township_office(kit, client):
    w = kit.world
    r = client.post("/open311/v2/requests.json", {**SUBMIT, "address_string": "吴城乡政府门口"})
    assert r.status_code == 201, r.content
    case = Case.dangerously_unscoped.get(number=r.json()[0]["service_request_id"])
    assert case.unit == w.township and case.holder_unit == w.township
    # A key bound to no township cannot place it: the spec's error, nothing written.
    before = Case.dangerously_unscoped.count()
    refused = client.post("/open311/v2/requests.json", {**SUBMIT, "api_key": "plain-key",
                                                        "address_string": "吴城乡政府门口"})
    assert "address_string" in _errors(refused, 400) and Case.dangerously_unscoped.count() == before
    nothing = client.post("/open311/v2/requests.xml", {**SUBMIT})
    assert "经纬度或地址" in _errors(nothing, 400)


def test_status_takes_a_comma_list(kit, client):
    w = kit.world
    open_ = client.post("/open311/v2/requests.json", {**SUBMIT, "lat": "39.05", "long": "113.05"},
                        HTTP_IDEMPOTENCY_KEY="s-1").json()[0]["service_request_id"]
    done = client.post("/open311/v2/requests.json", {**SUBMIT, "lat": "39.05", "long": "113.05",
                                                     "description": "井盖缺失"},
                       HTTP_IDEMPOTENCY_KEY="s-2").json()[0]["service_request_id"]
    case = Case.dangerously_unscoped.get(number=done)
    kit.act(case, "self_handle", w.wang_fang, result="已修复")
    kit.act(case, "confirm", w.zhao_lei, rating=5)

    def ids(status: str) -> set[str]:
        return {r["service_request_id"] for r in client.get(
            f"/open311/v2/requests.json?api_key={KEY}&status={status}").json()}

    assert ids("open") == {open_} and ids("closed") == {done}
    assert ids("open,closed") == ids("closed, open") == {open_, done}
    assert "status" in _errors(client.get(f"/open311/v2/requests.json?api_key={KEY}&status=open,maybe"), 400)


def test_errors_are_the_specs_list_in_chinese_404_and_405_included(kit, client):
    _errors(client.get("/open311/v2/nothing.json"), 404)
    _errors(client.get("/open311/v2/requests/x/y.xml"), 404)
    _errors(client.get("/open311/v2/services/nope"), 404)
    _errors(client.get(f"/open311/v2/requests/none.xml?api_key={KEY}"), 404)
    for method, url in (("delete", "/open311/v2/requests.json"), ("put", "/open311/v2/services.xml"),
                        ("post", "/open311/v2/services.json"), ("patch", "/open311/v2/requests/1.json")):
        response = getattr(client, method)(url)
        _errors(response, 405)
        assert response["Allow"]
    for url in (f"/open311/v2/requests.json?api_key={KEY}&start_date=yesterday",
                f"/open311/v2/requests.xml?api_key={KEY}&start_date=2026-03-01T08:00:00"):
        _errors(client.get(url), 400)
    bad = client.post("/open311/v2/requests.json", {**SUBMIT, "service_code": "no_such", "lat": "39.05",
                                                    "long": "113.05"})
    text = _errors(bad, 400)
    assert text.startswith("service_code") and not re.search(r"[A-Za-z]{3,}", text.split("：", 1)[1])


def test_reads_stay_behind_a_key_in_both_formats(kit, client):
    for url in ("/open311/v2/requests", "/open311/v2/requests.xml", "/open311/v2/requests.json",
                "/open311/v2/requests/1.xml", "/open311/v2/requests.json?api_key=wrong"):
        assert "api_key" in _errors(client.get(url), 403), url


def test_keys_come_from_the_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "GRIDGOV_OPEN311_KEYS": json.dumps({"k-env": {"name": "12345热线", "township": "140225210000"}})}
    code = "import django; django.setup(); from django.conf import settings; print(settings.GRIDGOV_OPEN311_KEYS)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "k-env" in out.stdout and "140225210000" in out.stdout
    env["GRIDGOV_OPEN311_KEYS"] = '["not", "an", "object"]'
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "GRIDGOV_OPEN311_KEYS" in bad.stderr
