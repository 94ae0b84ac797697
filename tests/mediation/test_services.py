"""Taking up a dispute and mediating it: what is written, what is sealed, who may act, and bad input
refused in Chinese with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gridgov.mediation import services
from gridgov.mediation.models import MediationCase, MediationEvent, MediationParty, MediationSession
from tests.mediation.conftest import ID_A, PHONE_A, act, in_state, parties, register
from tests.world import T0

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (MediationCase.dangerously_unscoped.count(), MediationParty.dangerously_unscoped.count(),
            MediationEvent.dangerously_unscoped.count(),
            MediationSession.dangerously_unscoped.count(), AuditEvent.objects.count())


def test_register_writes_the_case_parties_history_and_audit(mworld):
    m = register(mworld, actor=mworld.wang_fang, level="village")
    assert m.status == "accepted"
    assert m.number.startswith("140225-2026-TJ")
    assert m.committee_unit == mworld.village  # 吴城村调委会 mediates a dispute of grid A1
    assert m.due_at == T0 + dt.timedelta(days=30)
    ps = list(m.parties.order_by("seq"))
    assert [p.name_masked for p in ps] == ["张**", "李**"]
    assert ps[0].phone_masked == "138****5678" and ps[0].id_masked.startswith("1402")
    assert PHONE_A not in ps[0].phone_cipher and ID_A not in ps[0].id_cipher and "张建国" not in ps[0].name_cipher
    ev = m.events.get()
    assert (ev.action, ev.to_status, ev.actor) == ("register", "accepted", mworld.wang_fang)
    audit = AuditEvent.objects.filter(action="mediation.register").get()
    assert audit.object_id == str(m.pk) and audit.actor_id == mworld.wang_fang.pk
    assert "张建国" not in str(audit.detail) and PHONE_A not in str(audit.detail)


def test_a_referral_from_a_case_keeps_its_number(mworld):
    # A case source is checked by the referral process (tests/mediation/test_referral.py): a real case.
    from gridgov.cases.intake import case_report
    from gridgov.processes.mediation_referral import case_refer_to_mediation
    from tests.builtins import ensure_builtins

    ensure_builtins()
    case = case_report(actor=None, now=T0, title="宅基地边界纠纷", description="两户因院墙位置争执。",
                       category_code="dispute_land", channel="field", unit_id=mworld.grid_a1.pk).case
    m = case_refer_to_mediation(actor=mworld.zhang_wei, now=T0, case_id=case.pk, mode="people", level="township",
                                parties=parties(), presiding_id=mworld.xu.pk)
    assert (m.source, m.source_case_id, m.source_case_number) == ("case", case.pk, case.number)
    assert m.events.get().detail["case"] == case.number


BAD_REGISTER: list[tuple[dict[str, Any], str]] = [
    ({"title": ""}, "请填写纠纷名称"),
    ({"summary": "  "}, "请填写纠纷简要情况"),
    ({"title": "长" * 81}, "不能超过 80 个字"),
    ({"dispute_type": "murder"}, "请选择纠纷类型"),
    ({"source": ""}, "请选择纠纷来源"),
    ({"mode": "people", "level": "justice_office"}, "人民调解应由"),
    ({"mode": "judicial", "level": "village"}, "司法调解应由"),
    ({"level": "grid", "unit_id": "village"}, "网格调解只能用于网格"),
    ({"unit_id": "abc"}, "请选择纠纷所在"),
    ({"unit_id": 987654}, "不存在或不在您的范围内"),
    ({"unit_id": "c1"}, "不存在或不在您的范围内"),
    ({"parties": [{"role": "applicant", "name": "张三"}]}, "至少要有两方当事人"),
    ({"parties": "张三,李四"}, "当事人信息格式不正确"),
    ({"parties": [{"role": "applicant", "name": "张三"}, {"role": "applicant", "name": "李四"}]},
     "至少填写一位申请人和一位被申请人"),
    ({"parties": [{"role": "boss", "name": "张三"}, {"role": "respondent", "name": "李四"}]}, "身份"),
    ({"parties": [{"role": "applicant", "name": "张三", "phone": "12345"},
                  {"role": "respondent", "name": "李四"}]}, "第 1 位当事人"),
    ({"parties": [{"role": "applicant", "name": "张三"},
                  {"role": "respondent", "name": "李四", "id_number": "140225196805032150"}]}, "第 2 位当事人"),
    ({"parties": [{"role": "applicant", "name": "张\x00三"}, {"role": "respondent", "name": "李四"}]},
     "无法处理的字符"),
    ({"source": "case"}, "请填写转调解的事件"),
    ({"source": "department", "source_department_id": 987654}, "移交部门不存在"),
    ({"presiding": "wang_fang"}, "调解主持人须是"),
]


@pytest.mark.parametrize(("change", "message"), BAD_REGISTER)
def test_bad_registration_is_refused_in_chinese_and_writes_nothing(mworld, change, message):
    before = _counts()
    change = dict(change)
    unit_of = {"village": mworld.village.pk, "c1": mworld.grid_c1.pk}
    if change.get("unit_id") in unit_of:
        change["unit_id"] = unit_of[change["unit_id"]]
    presiding: Any = "default"
    if change.pop("presiding", None) == "wang_fang":
        presiding = mworld.wang_fang.pk
    with pytest.raises(ValidationFailed) as exc:
        register(mworld, actor=mworld.zhang_wei, presiding=presiding, **change)
    assert message in exc.value.message
    assert _counts() == before


BAD_ACTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("accepted", "start", {"rights_informed": False}, "告知当事人的权利和义务"),
    ("accepted", "start", {"facts": ""}, "请填写了解核实的情况"),
    ("accepted", "assign", {"presiding_id": "x"}, "请选择调解主持人"),
    ("mediating", "record_session", {"held_on": "2026-13-01"}, "日期格式不正确"),
    ("mediating", "record_session", {"held_on": "2026-02-01"}, "受理之日到今天之间"),
    ("mediating", "record_session", {"place": ""}, "请填写调解地点"),
    ("mediating", "record_session", {"notes": ""}, "请填写调解经过"),
    ("mediating", "extend", {"days": 31}, "1 到 30 天"),
    ("mediating", "extend", {"days": "十"}, "请填写延长的天数"),
    ("mediating", "extend", {"reason": ""}, "请填写延期理由"),
    ("mediating", "agree", {"terms": ""}, "请填写协议内容"),
    ("mediating", "agree", {"signed": False}, "签名"),
    ("mediating", "agree", {"performance_due": "2026-01-01"}, "履行期限不能早于今天"),
    ("mediating", "fail", {"channel": "prayer"}, "请选择引导当事人解决的途径"),
    ("mediating", "fail", {"note": ""}, "请填写调解不成的原因"),
    ("mediating", "terminate", {"reason": ""}, "请填写终止调解的理由"),
    ("agreed", "follow_up", {"fulfilment": "maybe"}, "请选择履行情况"),
    ("agreed", "follow_up", {"fulfilment": "partial", "note": ""}, "请填写回访情况"),
    ("mediating", "record_session", {"colour": "red"}, "不接受这些参数"),
]


@pytest.mark.parametrize(("state", "action", "change", "message"), BAD_ACTIONS)
def test_bad_action_input_is_refused_in_chinese_and_writes_nothing(mworld, state, action, change, message):
    m = in_state(mworld, state)
    before, version = _counts(), m.version
    with pytest.raises(ValidationFailed) as exc:
        act(mworld, m, action, actor=mworld.xu, **change)
    assert message in exc.value.message
    assert _counts() == before
    m.refresh_from_db()
    assert m.version == version


def test_agreement_needs_a_session_and_start_needs_a_presiding_mediator(mworld):
    m = register(mworld, presiding=None)
    with pytest.raises(ValidationFailed, match="请先指定调解主持人"):
        act(mworld, m, "start")
    m = act(mworld, m, "assign")
    m = act(mworld, m, "start")
    with pytest.raises(ValidationFailed, match="请先填写调解记录"):
        act(mworld, m, "agree")


def test_extension_once_moves_the_deadline(mworld):
    m = in_state(mworld, "mediating")
    m = act(mworld, m, "extend", days=15)
    assert (m.extended_days, m.due_at) == (15, T0 + dt.timedelta(days=45))
    ev = m.events.order_by("-seq").first()
    assert (ev.due_before, ev.due_after) == (T0 + dt.timedelta(days=30), T0 + dt.timedelta(days=45))
    with pytest.raises(ValidationFailed, match="只能延长一次"):
        act(mworld, m, "extend")


def test_closing_an_unfulfilled_agreement_needs_an_explanation(mworld):
    m = in_state(mworld, "agreed")
    m = act(mworld, m, "follow_up", fulfilment="partial", note="尚余部分未拆除")
    with pytest.raises(ValidationFailed, match="协议未全部履行"):
        act(mworld, m, "close", note="")
    m = act(mworld, m, "close", note="已引导申请司法确认。")
    assert m.status == "closed" and m.follow_up_count == 1


@pytest.mark.parametrize("who", ["wang_fang", "li_qiang", "liu_yang", "ma", "sun_li"])
def test_who_may_not_mediate_a_township_case(mworld, who):
    """The township 调委会 mediates: a grid worker and the village secretary see it but may not act
    (403); a department handler, another township's mediator and the outsider do not see it (404)."""
    m = register(mworld)
    before = _counts()
    expected: type[DomainError] = PermissionDenied if who in ("wang_fang", "li_qiang") else NotFound
    with pytest.raises(expected):
        act(mworld, m, "start", actor=getattr(mworld, who))
    assert _counts() == before


def test_the_village_secretary_mediates_at_the_village_committee(mworld):
    m = register(mworld, actor=mworld.wang_fang, level="village", presiding=mworld.li_qiang.pk)
    m = act(mworld, m, "start", actor=mworld.li_qiang)
    assert m.status == "mediating"
    assert [a.code for a in services.allowed_actions(mediation=m, actor=mworld.wang_fang)] == []


def test_a_grid_worker_may_not_register_outside_their_grid(mworld):
    before = _counts()
    with pytest.raises(ValidationFailed, match="不在您的范围内"):
        register(mworld, actor=mworld.wang_fang, unit_id=mworld.grid_a2.pk, level="village")
    with pytest.raises(PermissionDenied):
        register(mworld, actor=mworld.liu_yang)
    assert _counts() == before


def test_unmask_parties_needs_the_right_and_a_reason_and_is_audited(mworld):
    m = register(mworld)
    with pytest.raises(PermissionDenied):
        services.mediation_parties_unmask(actor=mworld.wang_fang, now=T0, mediation_id=m.pk, reason="联系当事人")
    with pytest.raises(NotFound):
        services.mediation_parties_unmask(actor=mworld.ma, now=T0, mediation_id=m.pk, reason="联系当事人")
    before = _counts()
    with pytest.raises(ValidationFailed, match="原因"):
        services.mediation_parties_unmask(actor=mworld.xu, now=T0, mediation_id=m.pk, reason="看")
    assert _counts() == before
    shown = services.mediation_parties_unmask(actor=mworld.xu, now=T0, mediation_id=m.pk, reason="电话通知调解时间")
    assert next((p.name, p.phone, p.id_number) for p in shown) == ("张建国", PHONE_A, ID_A)
    audit = AuditEvent.objects.filter(action="mediation.parties_unmask").get()
    assert audit.actor_id == mworld.xu.pk and audit.detail["reason"] == "电话通知调解时间"


def test_a_full_mediation_from_finding_to_closing(mworld):
    m = register(mworld, actor=mworld.wang_fang, presiding=None, parties=[*parties(), {"role": "third"}])
    for action, actor in (("assign", mworld.zhang_wei), ("start", mworld.xu), ("record_session", mworld.xu),
                          ("agree", mworld.xu), ("follow_up", mworld.xu), ("close", mworld.xu)):
        m = act(mworld, m, action, actor=actor)
    assert m.status == "closed" and m.agreement_number.startswith("140225-2026-XY")
    assert [e.action for e in m.events.order_by("seq")] == [
        "register", "assign", "start", "record_session", "agree", "follow_up", "close"]
    assert AuditEvent.objects.filter(action__startswith="mediation.", object_id=str(m.pk)).count() == 7
    assert m.parties.count() == 2  # the blank third row of the form was skipped
