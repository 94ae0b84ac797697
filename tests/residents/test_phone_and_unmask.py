"""Phones on the edit forms (kept, replaced or removed, audited) and the household phone unmasking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from gridgov.residents import protected
from gridgov.residents.households import household_update
from gridgov.residents.members import resident_add
from gridgov.residents.models import Household, HouseholdEvent, Resident
from tests.world import T0

pytestmark = pytest.mark.django_db


def _household_form(h: Household, **changes: object) -> dict[str, object]:
    return {"unit": h.unit_id, "address": h.address, "house_number": h.house_number, "phone": h.phone_masked,
            "notes": h.notes, "version": h.version, **changes}


def test_household_form_keeps_replaces_and_removes_the_phone(world, ledger, login):
    household_update(actor=None, now=T0, household_id=ledger.a2.pk, phone="13612345678")
    h = Household.dangerously_unscoped.get(pk=ledger.a2.pk)
    client = login(world.li_qiang)
    url = reverse("staff:household_edit", args=[h.pk])
    page = client.get(url).content.decode()
    assert 'value="136****5678"' in page  # the field starts with the masked number, never the full one
    # Left as shown: unchanged (only the address changes).
    assert client.post(url, _household_form(h, address="吴城村二组东")).status_code == 302
    h.refresh_from_db()
    assert h.phone_masked == "136****5678" and h.phone_cipher
    # Blank: the phone is removed, with history and audit.
    assert client.post(url, _household_form(h, phone="")).status_code == 302
    h.refresh_from_db()
    assert (h.phone_cipher, h.phone_index, h.phone_masked) == ("", "", "")
    event = HouseholdEvent.dangerously_unscoped.filter(household=h, action="updated").first()
    assert event is not None and event.changes["phone"] == ["136****5678", ""]
    audit = AuditEvent.objects.filter(action="household.update", object_id=str(h.pk)).order_by("-id").first()
    assert audit is not None and "phone" in audit.detail["fields"] and audit.actor == world.li_qiang
    # A bad number is refused in Chinese and nothing is written.
    before = (h.version, HouseholdEvent.dangerously_unscoped.count(), AuditEvent.objects.count())
    bad = client.post(url, _household_form(h, phone="12345"))
    assert bad.status_code == 200 and "手机号应为 11 位" in bad.content.decode()
    h.refresh_from_db()
    assert (h.version, HouseholdEvent.dangerously_unscoped.count(), AuditEvent.objects.count()) == before


def test_resident_form_removes_the_phone_and_keeps_the_id_number(world, ledger, login):
    client = login(world.zhao_lei)
    r = ledger.wang_wei
    url = reverse("staff:resident_edit", args=[r.pk])
    page = client.get(url).content.decode()
    assert 'value="138****5678"' in page and f'value="{r.id_masked}"' in page
    data = {"name": r.name, "relation": r.relation, "id_number": r.id_masked, "phone": "",
            "ethnicity": r.ethnicity, "political_status": r.political_status, "residency": r.residency,
            "health": r.health, "version": r.version}
    assert client.post(url, data).status_code == 302
    r.refresh_from_db()
    assert (r.phone_cipher, r.phone_index, r.phone_masked) == ("", "", "")
    assert protected.reveal_id(r.id_cipher) == ledger.wang_wei_id  # the masked ID was left as it was
    audit = AuditEvent.objects.filter(action="resident.update", object_id=str(r.pk)).order_by("-id").first()
    assert audit is not None and audit.detail["fields"] == ["phone"]
    # Blank ID number: refused (an ID number is required), nothing written.
    version = r.version
    refused = client.post(url, {**data, "id_number": "", "version": r.version})
    assert refused.status_code == 200 and "请填写身份证号。" in refused.content.decode()
    r.refresh_from_db()
    assert r.version == version


def test_api_patch_with_a_blank_phone_removes_it(world, ledger, login):
    client = login(world.wang_fang)
    response = client.patch(f"/api/households/residents/{ledger.wang_wei.pk}",
                            {"version": ledger.wang_wei.version, "phone": ""}, content_type="application/json")
    assert response.status_code == 200
    assert Resident.dangerously_unscoped.get(pk=ledger.wang_wei.pk).phone_masked == ""
    h = Household.dangerously_unscoped.get(pk=ledger.a1.pk)
    household_update(actor=None, now=T0, household_id=h.pk, phone="13612345678")
    h.refresh_from_db()
    response = client.patch(f"/api/households/{h.pk}", {"version": h.version, "phone": ""},
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["phone_masked"] == ""


def test_household_phone_unmask_needs_the_right_a_reason_and_is_audited(world, ledger, login):
    household_update(actor=None, now=T0, household_id=ledger.a1.pk, phone="13612345678")
    url = reverse("staff:household_unmask", args=[ledger.a1.pk])
    worker = login(world.wang_fang)
    assert "没有查看完整电话的权限" in worker.get(url).content.decode()
    refused = worker.post(url, {"reason": "入户走访联系"})
    assert refused.status_code == 200 and "13612345678" not in refused.content.decode()
    office = login(world.zhang_wei)
    detail = office.get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert url in detail  # the link next to the masked phone
    assert "至少" in office.post(url, {"reason": "看"}).content.decode()
    assert not AuditEvent.objects.filter(action="household.unmask").exists()
    shown = office.post(url, {"reason": "入户走访前电话联系户主"})
    assert "13612345678" in shown.content.decode() and shown["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="household.unmask")
    assert event.actor == world.zhang_wei and event.detail == {"reason": "入户走访前电话联系户主", "fields": ["phone"]}
    # Shown once: opening the page again shows the form, not the number.
    assert "13612345678" not in office.get(url).content.decode()
    # The outsider gets the same 404 as for a missing household.
    outsider = login(world.sun_li)
    assert outsider.post(url, {"reason": "入户走访联系"}).status_code == 404
    # API: same rules.
    api = office.post(f"/api/households/{ledger.a1.pk}/unmask", {"reason": "入户走访联系"},
                      content_type="application/json")
    assert api.status_code == 200 and api.json() == {"phone": "13612345678"}
    assert worker.post(f"/api/households/{ledger.a1.pk}/unmask", {"reason": "入户走访联系"},
                       content_type="application/json").status_code == 403
    assert AuditEvent.objects.filter(action="household.unmask").count() == 2


def test_household_unmask_asks_for_a_fresh_code(world, ledger, login, settings):
    settings.GRIDGOV_REQUIRE_TOTP = True
    client = login(world.zhang_wei)
    session = client.session
    session["_gridgov_otp_at"] = T0.timestamp()  # a code entered long ago
    session.save()
    url = reverse("staff:household_unmask", args=[ledger.a1.pk])
    response = client.post(url, {"reason": "入户走访联系"}, HTTP_REFERER="/")
    assert response.status_code == 302 and "step_up=1" in response.url
    assert client.post(f"/api/households/{ledger.a1.pk}/unmask", {"reason": "入户走访联系"},
                       content_type="application/json").status_code == 403
    assert not AuditEvent.objects.filter(action="household.unmask").exists()


def test_unmask_page_does_not_show_a_childs_name_to_a_grid_worker(world, ledger, login):
    page = login(world.wang_fang).get(reverse("staff:resident_unmask", args=[ledger.child.pk])).content.decode()
    assert "王小宝" not in page and "王**" in page


def _sheet_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).active
    return " ".join(str(c.value) for r in ws.iter_rows() for c in r)


def test_full_export_needs_the_right_and_a_reason_and_is_audited(world, ledger, login, settings, tmp_path):
    """The full export is always a request a second person approves (tests/security/test_exports.py
    has the whole path); here: who may ask, the reason, and that the file holds the full values."""
    from gridgov.residents import exports
    from gridgov.residents.models import BulkExport

    settings.MEDIA_ROOT = tmp_path
    url = reverse("staff:household_export_full")
    for user in (world.wang_fang, world.li_qiang, world.zhou_min):  # no resident.unmask: the page does not exist
        assert login(user).get(url).status_code == 404
        assert login(user).post(url, {"reason": "报送低保复核名单"}).status_code == 404
    office = login(world.zhang_wei)
    assert url in office.get(reverse("staff:household_list")).content.decode()
    refused = office.post(url, {"reason": ""})
    assert refused.status_code == 200 and "至少" in refused.content.decode()
    assert not BulkExport.dangerously_unscoped.exists()
    response = office.post(url, {"reason": "向民政办报送低保复核名单"})
    export = BulkExport.dangerously_unscoped.get()
    assert response.status_code == 302 and response.url == reverse("staff:export_detail", args=[export.pk])
    assert export.kind == exports.FULL_KIND and export.status == "pending"
    assert export.reason == "向民政办报送低保复核名单"
    assert not AuditEvent.objects.filter(action__in=["household.export", "export.build"]).exists()
    exports.export_decide(actor=world.chen_jing, now=T0, export_id=export.pk, approve=True)
    file = office.get(reverse("staff:export_download", args=[export.pk]))
    text = _sheet_text(file.content)
    assert ledger.wang_wei_id in text and ledger.wang_wei_phone in text
    assert "孙强" not in text  # still only 张伟's township
    assert AuditEvent.objects.get(action="export.download").detail["masked"] is False
    # The ordinary export stays masked for the same user.
    masked = _sheet_text(office.get(reverse("staff:household_export")).content)
    assert ledger.wang_wei_id not in masked and "138****5678" in masked
    # One grid of the scope only.
    office.post(url, {"reason": "报送东坊村名单", "unit": world.grid_b1.pk})
    one = BulkExport.dangerously_unscoped.get(status="pending")
    exports.export_decide(actor=world.chen_jing, now=T0, export_id=one.pk, approve=True)
    text = _sheet_text(office.get(reverse("staff:export_download", args=[one.pk])).content)
    assert "赵刚" in text and "王伟" not in text


UNMASK_BY_PERSONA = {  # persona → (GET status of the page for household a1, sees the full phone after a reason)
    "grid_worker": (200, False), "grid_head": (200, False), "village_secretary": (200, False),
    "township_office": (200, True), "county_office": (200, True), "outsider": (404, False),
    "department_handler": (404, False),
}


@pytest.mark.parametrize("persona", list(UNMASK_BY_PERSONA))
def test_household_unmask_by_persona(world, ledger, login, persona):
    household_update(actor=None, now=T0, household_id=ledger.a1.pk, phone="13612345678")
    client = login(world.personas()[persona])
    url = reverse("staff:household_unmask", args=[ledger.a1.pk])
    status, reveals = UNMASK_BY_PERSONA[persona]
    assert client.get(url).status_code == status
    response = client.post(url, {"reason": "入户走访前电话联系户主"})
    assert response.status_code == status
    assert ("13612345678" in response.content.decode()) == reveals
    assert AuditEvent.objects.filter(action="household.unmask").count() == (1 if reveals else 0)


def test_a_fifteen_digit_number_is_stored_upgraded_and_found_either_way(world, ledger, login):
    r = resident_add(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, name="王老汉",
                              relation="父母", id_number="140225400101001")
    assert protected.reveal_id(r.id_cipher) == idnumber_upgrade("140225400101001")
    assert r.birth_date.isoformat() == "1940-01-01" and r.gender == "M"
    audit = AuditEvent.objects.get(action="resident.create", object_id=str(r.pk))
    assert audit.detail == {"upgraded_15": True}
    client = login(world.wang_fang)
    for typed in ("140225400101001", idnumber_upgrade("140225400101001")):
        found = client.post(reverse("staff:household_list"), {"q": typed}).context["page"].rows
        assert [h.pk for h in found] == [ledger.a1_b.pk]
    bad = client.post(reverse("staff:resident_add", args=[ledger.a1_b.pk]), {
        "name": "王某", "relation": "other", "id_number": "140225401301001", "political_status": "masses",
        "residency": "registered", "health": "healthy"})
    assert "身份证号中的出生日期" in bad.content.decode()  # month 13: refused in Chinese, nothing written
    assert not Resident.dangerously_unscoped.filter(name="王某").exists()


def idnumber_upgrade(fifteen: str) -> str:
    from gridgov.residents import idnumber

    return idnumber.parse(fifteen, today=T0.date()).number
