"""The reporter's name and phone are personal data: ciphertext at rest (case row, history, outbox),
masked on every staff page, API answer and printed form, full only through the audited unmask with
a reason, and never shown to a department (no surname, no digit) unless the office discloses it to
that department with a reason; an anonymous reporter never."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from gridgov.access.scope import scope_for
from gridgov.audit.models import AuditEvent
from gridgov.cases import intake, reveal
from gridgov.cases.reporter import reveal_name, reveal_phone
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.interfaces.staff.case_forms import form_context
from gridgov.notify.models import Outbox

pytestmark = pytest.mark.django_db

NAME, PHONE = "欧阳春花", "13912345678"


def _rows(sql: str, params: list[object]) -> str:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return json.dumps(cur.fetchall(), ensure_ascii=False, default=str)


def _reported(kit, **kw):
    return kit.report(reporter_name=NAME, reporter_phone=PHONE, channel="hotline", **kw)


def test_raw_sql_shows_only_ciphertext_and_masks(kit):
    case = _reported(kit)
    with connection.cursor() as cur:
        cur.execute("SELECT reporter_name_cipher, reporter_name_masked, reporter_phone_cipher, "
                    "reporter_phone_masked FROM cases_case WHERE id = %s", [case.pk])
        name_cipher, name_masked, phone_cipher, phone_masked = cur.fetchone()
    assert name_cipher.startswith("v1:") and phone_cipher.startswith("v1:")
    assert name_masked == "欧***" and phone_masked == "139****5678"
    # Nowhere in the case row, its history or its audit rows is the plaintext.
    whole = (_rows("SELECT * FROM cases_case WHERE id = %s", [case.pk])
             + _rows("SELECT * FROM cases_caseevent WHERE case_id = %s", [case.pk])
             + _rows("SELECT * FROM audit_auditevent", []))
    assert NAME not in whole and PHONE not in whole
    assert reveal_name(case) == NAME and reveal_phone(case) == PHONE
    # The idempotency digest is keyed: a plain SHA-256 of the payload (which holds the phone) would let
    # anyone with the row try every phone number against it.
    payload = {"title": case.title, "description": case.description, "category": "sanitation",
               "channel": "hotline", "urgency": "ordinary", "lat": None, "lng": None, "unit_id": kit.world.grid_a1.pk,
               "address": "", "reporter_name": NAME, "reporter_phone": PHONE, "anonymous": False}
    plain = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert case.payload_hash and case.payload_hash != plain
    assert intake._payload_hash(payload) == case.payload_hash  # (the same payload, so the check means something)


def test_sms_outbox_keeps_no_phone_in_clear(kit):
    w = kit.world
    case = _reported(kit)
    kit.act(case, "accept", w.zhao_lei)
    kit.act(case, "self_handle", w.zhao_lei, result="已清运")
    assert PHONE not in _rows("SELECT payload FROM notify_outbox", [])
    # (self-handling resolves at the grid; a review at the office sends the SMS: use the office chain)
    c2 = kit.to_state("feedback", reporter_phone=PHONE, channel="hotline")
    kit.act(c2, "review", w.zhang_wei)
    sms = Outbox.objects.get(kind="sms", topic="case.resolved")
    assert "to" not in sms.payload and len(sms.payload["to_sealed"]) == 1
    assert PHONE not in _rows("SELECT payload FROM notify_outbox", [])


def test_staff_page_api_and_printed_form_show_masks(kit, login):
    w = kit.world
    case = _reported(kit)
    for user in (w.wang_fang, w.zhao_lei, w.zhang_wei, w.chen_jing):
        client = login(user)
        page = client.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
        assert "欧***" in page and "139****5678" in page and NAME not in page and PHONE not in page
        api = client.get(f"/api/cases/{case.pk}").content.decode()
        assert NAME not in api and PHONE not in api and "139****5678" in api
    scope = scope_for(w.zhang_wei)
    html = render_to_string("staff/cases/print_form.html",
                            form_context(scope=scope, case=case, kind="report", seq=None, case_url="http://x/"))
    assert "139****5678" in html and PHONE not in html and NAME not in html


def test_unmask_needs_the_right_and_a_reason_and_is_audited(kit):
    w = kit.world
    case = _reported(kit)
    before = AuditEvent.objects.filter(action="case.reporter_unmask").count()
    with pytest.raises(ValidationFailed):
        reveal.case_reporter_unmask(actor=w.zhang_wei, now=kit.tick(), case_id=case.pk, reason="")
    for person in (w.wang_fang, w.zhao_lei):  # grid workers and grid heads hold no unmask right
        with pytest.raises(PermissionDenied):
            reveal.case_reporter_unmask(actor=person, now=kit.tick(), case_id=case.pk, reason="电话回访核实结果")
    with pytest.raises(NotFound):  # the outsider: as if it did not exist
        reveal.case_reporter_unmask(actor=w.sun_li, now=kit.tick(), case_id=case.pk, reason="电话回访核实结果")
    assert AuditEvent.objects.filter(action="case.reporter_unmask").count() == before
    revealed = reveal.case_reporter_unmask(actor=w.zhang_wei, now=kit.tick(), case_id=case.pk,
                                             reason="电话回访核实结果")
    assert (revealed.name, revealed.phone) == (NAME, PHONE)
    row = AuditEvent.objects.filter(action="case.reporter_unmask").get()
    assert row.detail["reason"] == "电话回访核实结果" and row.actor_id == w.zhang_wei.pk


def test_unmask_page_and_api(kit, login):
    w = kit.world
    case = _reported(kit)
    office = login(w.zhang_wei)
    url = reverse("staff:case_reporter_unmask", args=[case.pk])
    assert "查看完整信息" in office.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    r = office.post(url, {"reason": "电话回访核实结果"})
    assert r.status_code == 200 and PHONE in r.content.decode() and r["Cache-Control"] == "no-store"
    worker = login(w.wang_fang)
    assert "查看完整信息" not in worker.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    refused = worker.post(url, {"reason": "电话回访核实结果"}).content.decode()
    assert PHONE not in refused and "没有查看" in refused
    assert login(w.sun_li).get(url).status_code == 404
    api = office.post(f"/api/cases/{case.pk}/reporter/unmask", {"reason": "电话回访核实结果"},
                      content_type="application/json")
    assert api.status_code == 200 and api.json() == {"name": NAME, "phone": PHONE}
    assert worker.post(f"/api/cases/{case.pk}/reporter/unmask", {"reason": "电话回访核实结果"},
                       content_type="application/json").status_code == 403


@pytest.mark.parametrize("anonymous", [True, False])
def test_a_department_never_sees_the_reporter_and_cannot_unmask(kit, login, anonymous):
    """docs/security.md: a department never sees the reporter: no surname, no digit of the phone, on the
    case page, the API's detail and the printed dispatch form (the outside test saw 欧** · 139****5678)."""
    w = kit.world
    case = kit.to_state("dispatched", reporter_name=NAME, reporter_phone=PHONE, channel="hotline",
                        anonymous=anonymous)
    dept = login(w.liu_yang)
    page = dept.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    api = dept.get(f"/api/cases/{case.pk}").json()
    pdf_html = "".join(render_to_string("staff/cases/print_form.html", form_context(
        scope=scope_for(w.liu_yang), case=case, kind=kind, seq=None, case_url="http://x/"))
        for kind in ("report", "dispatch"))
    for shown in (page, json.dumps(api, ensure_ascii=False), pdf_html):
        assert "欧" not in shown and "5678" not in shown and "139" not in shown
    assert "查看完整信息" not in page and "告知承办部门" not in page
    if anonymous:
        assert api["case"]["reporter"] == {"name": "匿名", "phone": "", "anonymous": True, "can_unmask": False,
                                           "can_disclose": False}
    else:
        assert api["case"]["reporter"] == {"name": "不向承办部门显示", "phone": "", "anonymous": False,
                                           "can_unmask": False, "can_disclose": False}
        assert "不向承办部门显示" in page and "不向承办部门显示" in pdf_html
    with pytest.raises(PermissionDenied):
        reveal.case_reporter_unmask(actor=w.liu_yang, now=kit.tick(), case_id=case.pk, reason="联系反映人核实")
    # The office that dispatched it still sees the masked reporter.
    office = login(w.zhang_wei).get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert "139****5678" in office  # (an anonymous reporter too: the office keeps the record)


def test_the_office_discloses_the_reporter_to_one_department_with_a_reason_audited(kit, login):
    from gridgov.cases import disclosure
    from gridgov.cases.models import ReporterDisclosure
    from gridgov.core.errors import Conflict

    w = kit.world
    case = kit.to_state("dispatched", reporter_name=NAME, reporter_phone=PHONE, channel="hotline")
    office = login(w.zhang_wei)
    assert "告知承办部门" in office.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    url = reverse("staff:case_reporter_disclose", args=[case.pk])
    # No reason: refused in Chinese, the typed department kept, nothing written.
    r = office.post(url, {"reason": " ", "department_id": str(w.department.pk)})
    assert r.status_code == 400 and "原因" in r.content.decode()
    assert not ReporterDisclosure.dangerously_unscoped.exists()
    # Neither the department itself, a grid worker nor an outsider may disclose.
    for person, error in ((w.liu_yang, PermissionDenied), (w.wang_fang, PermissionDenied), (w.sun_li, NotFound)):
        with pytest.raises(error):
            disclosure.case_reporter_disclose(actor=person, now=kit.tick(), case_id=case.pk, reason="部门上门核实情况")
    assert login(w.sun_li).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="case.reporter_disclose").exists()

    r = office.post(url, {"reason": "部门需上门核实情况", "department_id": str(w.department.pk)})
    assert r.status_code == 302
    row = AuditEvent.objects.get(action="case.reporter_disclose")
    assert row.actor_id == w.zhang_wei.pk and row.detail["reason"] == "部门需上门核实情况"
    assert row.detail["department_id"] == w.department.pk
    with pytest.raises(Conflict):  # once per department
        disclosure.case_reporter_disclose(actor=w.zhang_wei, now=kit.tick(), case_id=case.pk, reason="再次告知部门")

    dept = login(w.liu_yang)
    page = dept.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert "欧***" in page and "139****5678" in page and PHONE not in page and "查看完整信息" in page
    assert dept.get(f"/api/cases/{case.pk}").json()["case"]["reporter"]["can_unmask"] is True
    revealed = reveal.case_reporter_unmask(actor=w.liu_yang, now=kit.tick(), case_id=case.pk,
                                             reason="上门前电话联系")
    assert (revealed.name, revealed.phone) == (NAME, PHONE)
    assert AuditEvent.objects.filter(action="case.reporter_unmask", actor_id=w.liu_yang.pk).count() == 1


def test_an_anonymous_reporter_is_never_disclosed(kit, login):
    from gridgov.cases import disclosure
    from gridgov.cases.models import ReporterDisclosure
    from gridgov.core.errors import Conflict

    w = kit.world
    case = kit.to_state("dispatched", reporter_name=NAME, reporter_phone=PHONE, channel="hotline", anonymous=True)
    with pytest.raises(Conflict):
        disclosure.case_reporter_disclose(actor=w.zhang_wei, now=kit.tick(), case_id=case.pk, reason="部门需上门核实")
    api = login(w.zhang_wei).post(f"/api/cases/{case.pk}/reporter/disclose", {"reason": "部门需上门核实"},
                                  content_type="application/json")
    assert api.status_code == 409 and "匿名" in api.json()["message"]
    assert not ReporterDisclosure.dangerously_unscoped.exists()


def test_disclosure_through_the_api(kit, login):
    w = kit.world
    case = kit.to_state("dispatched", reporter_name=NAME, reporter_phone=PHONE, channel="hotline")
    url = f"/api/cases/{case.pk}/reporter/disclose"
    queue = login(w.liu_yang).get("/api/cases/?queue=todo").json()
    assert [c["reporter"]["name"] for c in queue if c["id"] == case.pk] == ["不向承办部门显示"]
    assert login(w.liu_yang).post(url, {"reason": "部门需上门核实"},
                                  content_type="application/json").status_code == 403
    r = login(w.zhang_wei).post(url, {"reason": "部门需上门核实"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["department_id"] == w.department.pk
    assert login(w.liu_yang).get(f"/api/cases/{case.pk}").json()["case"]["reporter"]["phone"] == "139****5678"
    queue = login(w.liu_yang).get("/api/cases/?queue=todo").json()  # the list reads it with the rows
    assert [c["reporter"]["phone"] for c in queue if c["id"] == case.pk] == ["139****5678"]


def test_bad_phone_is_refused_in_chinese_and_nothing_written(kit):
    from gridgov.cases.models import Case

    before = Case.dangerously_unscoped.count()
    with pytest.raises(ValidationFailed) as err:
        kit.report(reporter_phone="12345")
    assert err.value.field == "reporter_phone" and "手机号" in err.value.message
    assert Case.dangerously_unscoped.count() == before
