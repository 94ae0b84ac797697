"""转调解 through the referral process (gridgov/processes/mediation_referral.py): the case is checked
(exists, in the actor's scope, still being handled, not referred yet) before the mediation is written,
on the service, on the staff page and on the API; `mediation_register` refuses a case source without it.
An outsider's referral looks exactly like a referral of a case that does not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict, NotFound, ValidationFailed
from gridgov.mediation.models import MediationCase, MediationEvent, MediationParty
from gridgov.processes.mediation_referral import NOT_FOUND, case_refer_to_mediation
from tests.mediation.conftest import parties, register
from tests.world import T0, World

pytestmark = pytest.mark.django_db

MISSING = 987654321


def _counts() -> tuple[int, ...]:
    return (MediationCase.dangerously_unscoped.count(), MediationParty.dangerously_unscoped.count(),
            MediationEvent.dangerously_unscoped.count(),
            AuditEvent.objects.filter(action="mediation.register").count())


def _case(w: World, unit: Any = None, actor: Any = None) -> Any:
    from gridgov.cases.intake import case_report
    from tests.builtins import ensure_builtins

    ensure_builtins()
    return case_report(actor=actor, now=T0, title="邻居噪音扰民", description="楼上夜间施工，多次协商未果。",
                       category_code="dispute_neighbour", channel="field",
                       unit_id=(unit or w.grid_a1).pk).case


def refer(w: World, actor: Any, **kw: Any) -> MediationCase:
    args: dict[str, Any] = {"mode": "people", "level": "village", "parties": parties()}
    args.update(kw)
    return case_refer_to_mediation(actor=actor, now=T0 + dt.timedelta(hours=1), **args)


def test_a_referral_takes_up_the_case_with_its_number_and_text(mworld):
    case = _case(mworld)
    m = refer(mworld, mworld.wang_fang, case_id=case.pk)
    assert (m.source, m.source_case_id, m.source_case_number) == ("case", case.pk, case.number)
    # Title, text, place and dispute type come from the case when not given.
    assert (m.title, m.summary, m.unit_id, m.dispute_type) == (
        "邻居噪音扰民", "楼上夜间施工，多次协商未果。", mworld.grid_a1.pk, "neighbour")
    assert m.events.get().detail["case"] == case.number
    audit = AuditEvent.objects.get(action="mediation.register")
    assert audit.detail["case"] == case.number and audit.actor_id == mworld.wang_fang.pk


def test_a_referral_by_number_alone(mworld):
    case = _case(mworld)
    m = refer(mworld, mworld.li_qiang, case_number=case.number, title="噪音纠纷")
    assert (m.source_case_id, m.title) == (case.pk, "噪音纠纷")


@pytest.mark.parametrize("how", ["id", "number", "missing_id", "missing_number"])
def test_an_outsiders_referral_is_refused_as_not_found_and_writes_nothing(mworld, how):
    case = _case(mworld)
    before = _counts()
    kw = {"id": {"case_id": case.pk}, "number": {"case_number": case.number},
          "missing_id": {"case_id": MISSING}, "missing_number": {"case_number": "140225-2026-S99999"}}[how]
    # 孙丽 (驼峰乡 township office) may register mediations, but 吴城乡's case is out of her sight.
    actor = mworld.sun_li if how in ("id", "number") else mworld.wang_fang
    with pytest.raises(NotFound) as exc:
        refer(mworld, actor, unit_id=mworld.grid_c1.pk, **kw)
    assert exc.value.message == NOT_FOUND  # the same words for a case out of scope and a missing one
    assert _counts() == before


def test_a_case_is_referred_once(mworld):
    case = _case(mworld)
    first = refer(mworld, mworld.wang_fang, case_id=case.pk)
    before = _counts()
    with pytest.raises(Conflict) as exc:
        refer(mworld, mworld.zhang_wei, case_id=case.pk)
    assert f"已转调解（调解编号 {first.number}）" in exc.value.message
    assert _counts() == before


def test_an_ended_case_is_not_referred(mworld):
    from gridgov.cases.transitions import case_act

    case = _case(mworld)
    case_act(actor=mworld.zhao_lei, now=T0 + dt.timedelta(minutes=5), case_id=case.pk, action="reject",
             reason="不属于网格事项")
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        refer(mworld, mworld.wang_fang, case_id=case.pk)
    assert "不予受理" in exc.value.message and "不能再转调解" in exc.value.message
    assert _counts() == before


def test_the_mediation_service_alone_refuses_a_case_source(mworld):
    """mediation_register takes no unchecked case: a case source needs the referral process's check."""
    case = _case(mworld)
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        register(mworld, actor=mworld.zhang_wei, source="case", source_case_id=case.pk,
                 source_case_number=case.number)
    assert "请从事件页面办理转调解" in exc.value.message
    assert _counts() == before


def test_the_staff_page_refuses_a_second_referral_keeping_what_was_typed(mworld, login):
    case = _case(mworld)
    refer(mworld, mworld.wang_fang, case_id=case.pk)
    post = {"title": "再次转调解", "summary": "楼上夜间施工。", "dispute_type": "neighbour", "source": "case",
            "mode": "people", "level": "village", "unit_id": mworld.grid_a1.pk, "source_case_id": case.pk,
            "source_case_number": case.number, "party_role": ["applicant", "respondent"],
            "party_name": ["赵大", "钱二"], "party_phone": ["", ""], "party_id": ["", ""]}
    page = login(mworld.wang_fang).post("/mediation/new/", post)
    body = page.content.decode()
    assert page.status_code == 200 and "已转调解" in body and "再次转调解" in body
    assert MediationCase.dangerously_unscoped.count() == 1


def test_the_api_refers_a_case_and_refuses_outsiders_and_repeats(mworld, login):
    case = _case(mworld)
    body = {"case_id": case.pk, "mode": "people", "level": "village",
            "parties": [{"role": "applicant", "name": "赵大"}, {"role": "respondent", "name": "钱二"}]}
    outsider = login(mworld.sun_li).post("/api/mediation/referrals", body, content_type="application/json")
    missing = login(mworld.wang_fang).post("/api/mediation/referrals", body | {"case_id": MISSING},
                                           content_type="application/json")
    assert outsider.status_code == missing.status_code == 404
    assert outsider.json() == missing.json() and outsider.json()["code"] == "not_found"
    assert not MediationCase.dangerously_unscoped.exists()
    made = login(mworld.wang_fang).post("/api/mediation/referrals", body, content_type="application/json")
    assert made.status_code == 201, made.content
    out = made.json()
    assert (out["source"], out["title"], out["unit_id"]) == ("case", "邻居噪音扰民", mworld.grid_a1.pk)
    assert MediationCase.dangerously_unscoped.get().source_case_number == case.number
    again = login(mworld.zhang_wei).post("/api/mediation/referrals", body, content_type="application/json")
    assert again.status_code == 409 and "已转调解" in again.json()["message"]
