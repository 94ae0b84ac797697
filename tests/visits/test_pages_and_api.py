"""The visit pages and API as each named persona sees them: out of scope is a 404, exactly like
missing; lists show what the persona may see and never the notes; the record form is a plain POST
whose hidden idempotency key makes a retry after a lost response safe."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case
from gridgov.visits import services
from gridgov.visits.models import Visit, VisitRule
from tests.visits.conftest import NOW, png

pytestmark = pytest.mark.django_db
NOTES = "老人血压偏高，低保金按时到账。"

# persona → may see a visit to 王伟's household in grid A1?
SEES_A1 = {"grid_worker": True, "grid_head": True, "village_secretary": True, "township_office": True,
           "county_office": True, "department_handler": False, "outsider": False}


@pytest.fixture
def a1_visit(vw):  # type: ignore[no-untyped-def]
    return services.visit_record(actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home", notes=NOTES,
                                 photo=png(), idempotency_key="fixture").visit


def test_detail_page_and_api_by_persona(vw, a1_visit, login):
    personas = vw.w.personas() | {"other_grid_worker": vw.w.qian_duo}
    for name, user in personas.items():
        client = login(user)
        sees = SEES_A1.get(name, False)
        for url in (f"/visits/{a1_visit.pk}/", f"/api/visits/{a1_visit.pk}", f"/visits/{a1_visit.pk}/photo/"):
            response = client.get(url)
            missing = client.get(url.replace(str(a1_visit.pk), "987654"))
            if sees:
                assert response.status_code == 200, (name, url)
            else:
                assert response.status_code == 404, (name, url, response.status_code)
                assert (response.status_code, response.content) == (missing.status_code, missing.content), (name, url)
    page = login(vw.w.li_qiang).get(f"/visits/{a1_visit.pk}/")
    assert NOTES in page.content.decode() and page["Cache-Control"] == "no-store"
    assert login(vw.w.li_qiang).get(f"/api/visits/{a1_visit.pk}").json()["notes"] == NOTES
    assert AuditEvent.objects.filter(action="visit.notes_view", actor_id=vw.w.li_qiang.pk).count() == 4  # 2 in the loop
    assert AuditEvent.objects.filter(action="visit.photo_view").exists()


def test_lists_by_persona_never_show_the_notes(vw, a1_visit, login):
    c1_visit = services.visit_record(actor=vw.w.sun_li, now=NOW, household_id=vw.c1.pk, kind="phone",
                                     notes="外乡的走访").visit
    for name, user in (vw.w.personas() | {"other_grid_worker": vw.w.qian_duo}).items():
        client = login(user)
        api = client.get("/api/visits/")
        log = client.get("/visits/log/", {"start": "2026-03-01", "end": "2026-03-31"})
        sees = SEES_A1.get(name, False)
        if name == "department_handler":
            assert (api.status_code, log.status_code) == (200, 403)
            assert api.json() == []
            continue
        ids = [v["id"] for v in api.json()]
        assert (a1_visit.pk in ids) is sees, name
        assert (c1_visit.pk in ids) is (name in ("county_office", "outsider")), name
        assert NOTES not in api.content.decode() and NOTES not in log.content.decode()
        assert (f"/visits/{a1_visit.pk}/" in log.content.decode()) is sees, name
    household_page = login(vw.w.wang_fang).get(f"/households/{vw.a1.pk}/")
    text = household_page.content.decode()
    assert f"/visits/{a1_visit.pk}/" in text and NOTES not in text and f"{len(NOTES)} 字" in text


def test_log_filters(vw, a1_visit, login):
    services.visit_record(actor=vw.w.qian_duo, now=NOW, household_id=vw.a2.pk, kind="phone")
    client = login(vw.w.zhang_wei)
    base = {"start": "2026-03-01", "end": "2026-03-31"}
    assert len(client.get("/visits/log/", base).context["visits"]) == 2
    assert [v.pk for v in client.get("/visits/log/", base | {"kind": "home"}).context["visits"]] == [a1_visit.pk]
    only = client.get("/visits/log/", base | {"visitor": vw.w.qian_duo.pk}).context["visits"]
    assert [v.visitor_id for v in only] == [vw.w.qian_duo.pk]
    assert client.get("/visits/log/", {"start": "2026-04-01", "end": "2026-04-30"}).context["visits"] == []
    assert client.get("/visits/log/", base | {"unit": vw.w.grid_c1.pk}).status_code == 404
    api = client.get("/api/visits/", {"unit_id": vw.w.grid_a2.pk, "start": "2026-03-16", "end": "2026-03-16"})
    assert [v["household_id"] for v in api.json()] == [vw.a2.pk]


def test_my_visits_page(vw, login, monkeypatch):
    monkeypatch.setattr("gridgov.interfaces.staff.visits.now", lambda: NOW)
    page = login(vw.w.wang_fang).get("/visits/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "张桂兰" in text and "记录走访" in text and f"/visits/new/?household={vw.a1_elder.pk}" in text
    assert "王伟" not in text  # 王伟's household is not due for a fortnight
    everything = login(vw.w.wang_fang).get("/visits/", {"all": "1"}).content.decode()
    assert "王伟" in everything and "低保户" not in everything  # a grid worker does not see the sensitive group
    assert login(vw.w.liu_yang).get("/visits/").status_code == 403
    assert login(vw.w.sun_li).get("/visits/").context["rows"] == []


def form(vw, **kw):  # type: ignore[no-untyped-def]
    return {"household_id": vw.a1_elder.pk, "kind": "home", "notes": "独居，身体尚可。",
            "idempotency_key": "form-key-1"} | kw


def test_the_form_is_a_plain_post_and_a_retry_is_safe(vw, login):
    client = login(vw.w.wang_fang)
    page = client.get("/visits/new/", {"household": vw.a1_elder.pk})
    assert page.status_code == 200 and 'name="idempotency_key"' in page.content.decode()
    first = client.post("/visits/new/", form(vw))
    assert first.status_code == 302 and first["Location"] == "/visits/"
    again = client.post("/visits/new/", form(vw), follow=True)  # the response was lost; the phone sends again
    assert "已经保存过了" in again.content.decode()
    assert Visit.dangerously_unscoped.filter(household=vw.a1_elder).count() == 1
    other = client.post("/visits/new/", form(vw, notes="改了内容"))
    assert other.status_code == 400 and "幂等键" in other.content.decode()
    assert other.context["values"]["idempotency_key"] != "form-key-1"
    assert Visit.dangerously_unscoped.filter(household=vw.a1_elder).count() == 1


def test_the_form_with_a_photo_and_a_problem_raised_as_a_case(vw, login):
    client = login(vw.w.wang_fang)
    photo = io.BytesIO(png())
    photo.name = "门口.png"
    response = client.post("/visits/new/", form(vw, photo=photo, problem_found="on", raise_case="on",
                                                  problem_title="屋顶漏雨", problem_description="屋顶漏雨需要维修。",
                                                  problem_category="sanitation", problem_urgency="urgent"),
                           follow=True)
    visit = Visit.dangerously_unscoped.get(household=vw.a1_elder)
    case = Case.dangerously_unscoped.get(pk=visit.case_id)
    assert visit.photo_type == "image/png" and case.channel == "visit" and case.urgency == "urgent"
    assert case.number in response.content.decode()
    fake = io.BytesIO(b"not a photo at all")
    fake.name = "x.jpg"
    bad = client.post("/visits/new/", form(vw, idempotency_key="k2", photo=fake))
    assert bad.status_code == 400 and "只能上传" in bad.content.decode()
    assert Visit.dangerously_unscoped.count() == 1


def test_the_form_refuses_a_foreign_household_like_a_missing_one(vw, login):
    client = login(vw.w.qian_duo)
    foreign = client.get("/visits/new/", {"household": vw.a1.pk})
    missing = client.get("/visits/new/", {"household": 987654})
    assert foreign.status_code == missing.status_code == 404
    post = client.post("/visits/new/", form(vw, household_id=vw.a1.pk))
    assert post.status_code == 404 and not Visit.dangerously_unscoped.exists()


def test_api_record_is_idempotent_like_case_intake(vw, login):
    client = login(vw.w.wang_fang)
    body = {"household_id": vw.a1_elder.pk, "kind": "home", "notes": NOTES}
    first = client.post("/api/visits/", body, content_type="application/json", headers={"Idempotency-Key": "api-1"})
    again = client.post("/api/visits/", body, content_type="application/json", headers={"Idempotency-Key": "api-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["visit"]["id"] == again.json()["visit"]["id"] and again.json()["created"] is False
    assert NOTES not in first.content.decode() and first.json()["visit"]["notes_length"] == len(NOTES)
    clash = client.post("/api/visits/", body | {"kind": "phone"}, content_type="application/json",
                        headers={"Idempotency-Key": "api-1"})
    assert clash.status_code == 409 and clash.json()["code"] == "conflict"
    bad = client.post("/api/visits/", body | {"kind": "walk"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    foreign = login(vw.w.sun_li).post("/api/visits/", body, content_type="application/json")
    assert foreign.status_code == 400 and "不在您的范围内" in foreign.json()["message"]
    assert Visit.dangerously_unscoped.count() == 1
    due = client.get("/api/visits/due", {"all": "true"}).json()
    assert [d["household_id"] for d in due][:1] == [vw.a1.pk]  # the elder was just visited


def test_rule_and_campaign_pages_by_persona(vw, login):
    w = vw.w
    rule = VisitRule.dangerously_unscoped.get(unit=w.county, tag__code="dibao")
    campaign = services.campaign_create(actor=w.li_qiang, now=NOW, unit_id=w.village.pk, name="春季集中走访",
                                        starts_on="2026-03-10", ends_on="2026-03-31")
    expect_rule = {"county_office": 200}
    expect_campaign = {"grid_worker": 200, "grid_head": 200, "village_secretary": 200, "township_office": 200,
                       "county_office": 200}
    for name, user in (w.personas() | {"other_grid_worker": w.qian_duo}).items():
        client = login(user)
        assert client.get(f"/visits/rules/{rule.pk}/").status_code == expect_rule.get(name, 404), name
        status = client.get(f"/visits/campaigns/{campaign.pk}/").status_code
        assert status == expect_campaign.get(name, 200 if name == "other_grid_worker" else 404), name
    keeper = login(w.chen_jing)
    assert keeper.post("/visits/rules/", {"unit_id": w.township.pk, "tag_id": rule.tag_id,
                                          "cadence_days": "两周"}).status_code == 400
    assert keeper.post(f"/visits/rules/{rule.pk}/", {"cadence_days": "20", "is_active": "on",
                                                     "version": rule.version}).status_code == 302
    rule.refresh_from_db()
    assert rule.cadence_days == 20
    assert login(w.zhang_wei).get("/visits/rules/").status_code == 403
    page = login(w.li_qiang).get("/visits/campaigns/").content.decode()
    assert "春季集中走访" in page and "发起集中走访" in page
    assert "发起集中走访" not in login(w.wang_fang).get("/visits/campaigns/").content.decode()
    assert login(w.sun_li).post(f"/visits/campaigns/{campaign.pk}/cancel/").status_code == 404
    assert login(w.li_qiang).post(f"/visits/campaigns/{campaign.pk}/cancel/").status_code == 302
    assert dt.date(2026, 3, 10) == campaign.starts_on


def test_the_map_shows_where_visits_were_logged_to_those_who_may_see_them(vw, login):
    services.visit_record(actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home", lat=39.05, lng=113.05)
    services.visit_record(actor=vw.w.wang_fang, now=NOW, household_id=vw.a1_elder.pk, kind="phone")  # no point
    query = {"start": "2026-03-01", "end": "2026-03-31"}
    data = login(vw.w.zhang_wei).get("/dashboard/map.json", query | {"unit": vw.w.township.pk}).json()
    assert data["visits"] == [[39.05, 113.05, "home"]]
    assert login(vw.w.zhang_wei).get("/dashboard/map.json", {"start": "2026-04-01", "end": "2026-04-30",
                                                              "unit": vw.w.township.pk}).json()["visits"] == []
    outsider = login(vw.w.sun_li).get("/dashboard/map.json", query).json()
    assert outsider["visits"] == []
