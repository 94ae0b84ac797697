"""The mediation pages and API with the named personas: who sees the ledger row, the detail, the
parties in full and the printed 调解协议书. Out of scope is a 404 identical to a missing mediation."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.mediation.models import MediationCase
from tests.cases.test_print_forms import _fonts
from tests.mediation.conftest import ID_A, PHONE_A, act, in_state

pytestmark = pytest.mark.django_db

MISSING = 987654321

# persona → (ledger page, detail, agreement PDF, API list shows it, API detail)
EXPECTED = {
    "township_mediator": (200, 200, 200, True, 200),
    "other_township_mediator": (200, 404, 404, False, 404),
    "village_secretary": (200, 200, 403, True, 200),
    "township_office": (200, 200, 200, True, 200),
    "county_office": (200, 200, 200, True, 200),
    "grid_worker": (200, 200, 403, True, 200),
    "department_handler": (403, 404, 404, None, 404),
    "outsider": (200, 404, 404, False, 404),
}


def persona(w, name):  # type: ignore[no-untyped-def]
    return {"township_mediator": w.xu, "other_township_mediator": w.ma, "village_secretary": w.li_qiang,
            "township_office": w.zhang_wei, "county_office": w.chen_jing, "grid_worker": w.wang_fang,
            "department_handler": w.liu_yang, "outsider": w.sun_li}[name]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_endpoint_with_every_persona(mworld, login, name):
    m = in_state(mworld, "agreed")
    client = login(persona(mworld, name))
    ledger, detail, pdf, in_list, api_detail = EXPECTED[name]
    page = client.get("/mediation/")
    assert page.status_code == ledger
    if ledger == 200:
        assert (m.number in page.content.decode()) == (detail == 200)
    assert client.get(f"/mediation/{m.pk}/").status_code == detail
    assert client.get(f"/mediation/{m.pk}/agreement.pdf").status_code == pdf
    api = client.get("/api/mediation/")
    if in_list is None:
        assert api.status_code == 403
    else:
        assert api.status_code == 200 and (m.pk in [r["id"] for r in api.json()["items"]]) == in_list
    assert client.get(f"/api/mediation/{m.pk}").status_code == api_detail
    # Out of scope looks exactly like missing.
    for url in ("/mediation/{}/", "/mediation/{}/agreement.pdf", "/api/mediation/{}",
                "/mediation/{}/parties/unmask/"):
        theirs, missing = client.get(url.format(m.pk)), client.get(url.format(MISSING))
        if theirs.status_code == 404:
            assert theirs.content == missing.content, url


def test_pages_show_parties_masked_and_sealed_notes_only_to_the_committee(mworld, login):
    m = in_state(mworld, "agreed")
    body = login(mworld.wang_fang).get(f"/mediation/{m.pk}/").content.decode()
    assert "张**" in body and "138****5678" in body
    assert "张建国" not in body and PHONE_A not in body and ID_A not in body
    assert "双方陈述意见" not in body and "仅调解组织可见" in body  # session notes sealed from the grid worker
    assert "院墙以原界桩为准" not in body
    committee = login(mworld.xu).get(f"/mediation/{m.pk}/").content.decode()
    assert "双方陈述意见" in committee and "院墙以原界桩为准" in committee and PHONE_A not in committee
    api = login(mworld.xu).get(f"/api/mediation/{m.pk}").json()
    assert [p["name"] for p in api["parties"]] == ["张**", "李**"] and PHONE_A not in str(api)


def test_unmask_page_needs_a_reason_and_audits(mworld, login):
    m = in_state(mworld, "accepted")
    client = login(mworld.xu)
    url = f"/mediation/{m.pk}/parties/unmask/"
    assert PHONE_A not in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""})
    assert "请写明" in refused.content.decode() and PHONE_A not in refused.content.decode()
    assert not AuditEvent.objects.filter(action="mediation.parties_unmask").exists()
    shown = client.post(url, {"reason": "电话通知调解时间"})
    assert PHONE_A in shown.content.decode() and "张建国" in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="mediation.parties_unmask", actor_id=mworld.xu.pk).count() == 1
    grid = login(mworld.wang_fang).post(url, {"reason": "电话通知调解时间"})
    assert PHONE_A not in grid.content.decode() and "没有查看当事人完整信息的权限" in grid.content.decode()


def test_register_page_and_actions_as_forms(mworld, login):
    client = login(mworld.wang_fang)
    form = {"title": "邻居排水沟纠纷", "summary": "排水沟堵塞引发争执。", "dispute_type": "neighbour",
            "source": "grid", "mode": "people", "level": "village", "unit_id": mworld.grid_a1.pk,
            "party_role": ["applicant", "respondent", "third"], "party_name": ["赵大", "钱二", ""],
            "party_phone": ["13700001111", "", ""], "party_id": ["", "", ""]}
    bad = client.post("/mediation/new/", {**form, "party_name": ["赵大", "", ""]})
    assert bad.status_code == 200 and "至少要有两方当事人" in bad.content.decode()
    assert not MediationCase.dangerously_unscoped.exists()
    done = client.post("/mediation/new/", form)
    m = MediationCase.dangerously_unscoped.get()
    assert done.status_code == 302 and done["Location"] == f"/mediation/{m.pk}/"
    assert m.committee_unit == mworld.village and m.registered_by == mworld.wang_fang
    # The grid worker may not act; the village secretary presides.
    assert client.post(f"/mediation/{m.pk}/act/assign/", {"presiding_id": mworld.li_qiang.pk}).status_code == 302
    m.refresh_from_db()
    assert m.presiding is None
    secretary = login(mworld.li_qiang)
    page = secretary.get(f"/mediation/{m.pk}/").content.decode()
    assert 'data-action="assign"' in page and 'data-action="start"' not in page
    secretary.post(f"/mediation/{m.pk}/act/assign/", {"presiding_id": mworld.li_qiang.pk, "version": m.version})
    secretary.post(f"/mediation/{m.pk}/act/start/", {"rights_informed": "1", "facts": "核实排水沟走向。"})
    m.refresh_from_db()
    assert m.status == "mediating"
    refused = secretary.post(f"/mediation/{m.pk}/act/agree/", {"terms": "疏通排水沟", "signed": "1"}, follow=True)
    assert "请先填写调解记录" in refused.content.decode()


def test_ledger_filters(mworld, login):
    a = in_state(mworld, "agreed")
    b = in_state(mworld, "accepted", dispute_type="family", title="婚姻家庭矛盾")
    MediationCase.dangerously_unscoped.filter(pk=b.pk).update(accepted_at=a.accepted_at + dt.timedelta(days=40),
                                                  due_at=a.accepted_at + dt.timedelta(days=70))
    client = login(mworld.zhang_wei)

    def numbers(**q):  # type: ignore[no-untyped-def]
        return {r["number"] for r in client.get("/api/mediation/", q).json()["items"]}

    assert numbers() == {a.number, b.number}
    assert numbers(dispute_type="family") == {b.number}
    assert numbers(status="agreed") == {a.number}
    assert numbers(mode="administrative") == set()
    assert numbers(start="2026-04-01") == {b.number}
    assert numbers(end="2026-03-31") == {a.number}
    assert numbers(unit_id=mworld.village_b.pk) == set()
    assert numbers(unit_id=mworld.grid_c1.pk) == set()  # a unit out of sight filters to nothing
    page = client.get("/mediation/", {"type": "family"}).content.decode()
    assert b.number in page and a.number not in page


def test_the_printed_agreement_embeds_chinese_fonts_is_watermarked_and_audited(mworld, login):
    m = in_state(mworld, "agreed")
    act(mworld, m, "follow_up")
    response = login(mworld.xu).get(f"/mediation/{m.pk}/agreement.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    pdf = response.content
    fonts = _fonts(pdf)
    assert pdf.startswith(b"%PDF") and fonts and all(fonts.values()), fonts  # every font embedded
    assert any("NotoSerifCJK" in name or "Noto-Serif-CJK" in name for name in fonts), fonts
    audit = AuditEvent.objects.filter(action="mediation.agreement_print").get()
    assert audit.actor_id == mworld.xu.pk and audit.detail["agreement"] == m.agreement_number
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "人民调解协议书" in text and "张建国" in text and "院墙以原界桩为准" in text
    assert "打印人：徐秀英" in text
    artifacts = Path(__file__).resolve().parents[2] / "artifacts" / "forms"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "mediation_agreement.pdf").write_bytes(pdf)
    # No agreement yet: nothing to print.
    open_case = in_state(mworld, "mediating")
    assert login(mworld.xu).get(f"/mediation/{open_case.pk}/agreement.pdf").status_code == 404


def test_a_case_is_referred_to_mediation(mworld, login):
    """转调解: the case page links to the form, prefilled from the case; only a case the user may see."""
    from gridgov.cases.catalogue import seed_categories
    from gridgov.cases.intake import case_report
    from gridgov.cases.models import Category, default_deadlines
    from tests.world import T0

    seed_categories(Category, default_deadlines())
    case = case_report(actor=mworld.wang_fang, now=T0, title="邻居噪音扰民", description="楼上夜间施工。",
                       category_code="dispute_neighbour", channel="field", unit_id=mworld.grid_a1.pk).case
    foreign = case_report(actor=None, now=T0, title="驼峰村纠纷", description="外乡的事。",
                          category_code="dispute_neighbour", channel="field", unit_id=mworld.grid_c1.pk).case
    client = login(mworld.wang_fang)
    assert f"/mediation/new/?case={case.pk}" in client.get(f"/cases/{case.pk}/").content.decode()
    form = client.get(f"/mediation/new/?case={case.pk}").content.decode()
    assert case.number in form and "楼上夜间施工" in form
    assert client.get(f"/mediation/new/?case={foreign.pk}").status_code == 404
    post = {"title": "邻居噪音纠纷", "summary": "楼上夜间施工。", "dispute_type": "neighbour", "source": "case",
            "mode": "people", "level": "village", "unit_id": mworld.grid_a1.pk, "source_case_id": foreign.pk,
            "source_case_number": foreign.number, "party_role": ["applicant", "respondent"],
            "party_name": ["赵大", "钱二"], "party_phone": ["", ""], "party_id": ["", ""]}
    refused = client.post("/mediation/new/", post)
    assert "不在您的范围内" in refused.content.decode() and not MediationCase.dangerously_unscoped.exists()
    client.post("/mediation/new/", {**post, "source_case_id": case.pk, "source_case_number": case.number})
    m = MediationCase.dangerously_unscoped.get()
    assert (m.source, m.source_case_id, m.source_case_number) == ("case", case.pk, case.number)
