"""The two reference chains, walked end to end with deadlines on the real calendar.

2024 plan (seed 003): village grid → area grid → township office → county office → department →
feedback → reporter acceptance, with 申报单/交办单/催办单/反馈单 numbered per county and year.
索溪峪 (seed 001): a resident scans the grid board's QR and reports → the grid head cannot settle
it and escalates → the centre dispatches to a station → the result goes back to the resident.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gridgov.access.services import department_create, grant_create, user_create
from gridgov.cases.intake import case_report
from gridgov.cases.models import CalendarOverride, Case, CaseEvent
from gridgov.cases.transitions import case_act
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.notify.models import Outbox
from gridgov.notify.services import recipients
from gridgov.units.services import unit_create

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=CST)


def person(username: str, name: str, role: str, unit, now, **kw):  # type: ignore[no-untyped-def]
    user = user_create(actor=None, now=now, username=username, full_name=name, password=None, validate=False)
    grant_create(actor=None, now=now, user=user, role_code=role, unit=unit, **kw)
    return user


def test_2024_plan_chain_up_to_county_department_and_back(kit):
    w = kit.world
    t = at(2026, 4, 28, 9)
    # Township area grids (乡片区网格) sit between the township and its villages: a fresh area, village
    # and grid with their own people, so the chain has all five levels.
    area = unit_create(actor=None, now=t, parent=w.township, name="吴城乡东片区", kind_code="area", grid_level=2).unit
    village = unit_create(actor=None, now=t, parent=area, name="新庄村", kind_code="village", grid_level=3).unit
    grid = unit_create(actor=None, now=t, parent=village, name="新庄村第一网格", kind_code="grid", serial="X1",
                       grid_level=4).unit
    worker = person("xz_worker", "孟网格员", "grid_worker_full", grid, t)
    grid_head = person("xz_head", "许网格长", "grid_head", grid, t)
    secretary = person("xz_secretary", "韩书记", "village_secretary", village, t)
    area_head = person("pianzhang", "周片长", "area_head", area, t)
    bureau = department_create(actor=None, now=t, unit=w.county, name="县自然资源局", kind="land")
    handler = person("ziranju", "马局办", "department_handler", w.county, t, department=bureau)

    c = case_report(actor=worker, now=t, title="村民占用耕地建房", description="三组有人在耕地上打地基。",
                    category_code="illegal_building", channel="field", unit_id=grid.pk,
                    reporter_name="刘大爷", reporter_phone="13800000001", idempotency_key="k-2024-1").case
    assert c.number.startswith("140225-2026-S")
    c = case_act(actor=grid_head, now=at(2026, 4, 28, 10), case_id=c.pk, action="accept")
    # 违法建设 may be resolved no lower than the township: the grid cannot self-handle it.
    with pytest.raises(ValidationFailed, match="乡镇"):
        case_act(actor=worker, now=at(2026, 4, 28, 11), case_id=c.pk, action="self_handle", result="已劝阻")
    c = case_act(actor=grid_head, now=at(2026, 4, 28, 11), case_id=c.pk, action="escalate")
    assert c.holder_unit == village
    # Skipping a level is for emergencies only.
    with pytest.raises(ValidationFailed, match="紧急"):
        case_act(actor=secretary, now=at(2026, 4, 28, 12), case_id=c.pk, action="escalate",
                 to_unit_id=w.township.pk)
    c = case_act(actor=secretary, now=at(2026, 4, 28, 12), case_id=c.pk, action="escalate")
    assert c.holder_unit == area
    c = case_act(actor=area_head, now=at(2026, 4, 28, 14), case_id=c.pk, action="escalate")
    assert c.holder_unit == w.township
    c = case_act(actor=w.zhang_wei, now=at(2026, 4, 29, 9), case_id=c.pk, action="escalate",
                 note="乡本级不能解决，报县网格办")
    assert c.holder_unit == w.county
    # The county office dispatches on Thursday 30 April: ordinary = 7 working days.
    # 1-5 May are days off (5 May substituted from Saturday 9 May, which is a working day: 调休).
    c = case_act(actor=w.chen_jing, now=at(2026, 4, 30, 10), case_id=c.pk, action="dispatch",
                 department_id=bureau.pk)
    assert c.status == "dispatched" and c.holder_department == bureau and c.holder_unit is None
    assert c.respond_due == at(2026, 5, 6, 10)
    assert c.resolve_due == at(2026, 5, 13, 10)  # 6,7,8,9(调休),11,12,13
    dispatch_form = CaseEvent.dangerously_unscoped.get(case=c, action="dispatch").detail["form_number"]
    assert dispatch_form == "140225-2026-J00001"
    # The township office still sees the case (it lies in its grids) but may not act for the county.
    with pytest.raises(PermissionDenied):
        case_act(actor=w.zhang_wei, now=at(2026, 5, 6, 8), case_id=c.pk, action="urge")
    c = case_act(actor=handler, now=at(2026, 5, 6, 9), case_id=c.pk, action="acknowledge")
    assert c.responded_at == at(2026, 5, 6, 9)
    c = case_act(actor=w.chen_jing, now=at(2026, 5, 11, 9), case_id=c.pk, action="urge", note="请加快办理")
    assert c.urge_count == 1
    assert CaseEvent.dangerously_unscoped.get(case=c, action="urge").detail["form_number"] == "140225-2026-C00001"
    c = case_act(actor=handler, now=at(2026, 5, 11, 15), case_id=c.pk, action="request_extension", days=2,
                 reason="需要测绘")
    c = case_act(actor=w.chen_jing, now=at(2026, 5, 11, 16), case_id=c.pk, action="approve_extension")
    assert c.resolve_due == at(2026, 5, 15, 10)
    c = case_act(actor=handler, now=at(2026, 5, 14, 16), case_id=c.pk, action="feedback",
                 result="已下达停工通知并拆除地基，恢复耕地。")
    assert c.status == "feedback" and c.holder_unit == w.county
    assert CaseEvent.dangerously_unscoped.get(case=c, action="feedback").detail["form_number"] == "140225-2026-F00001"
    c = case_act(actor=w.chen_jing, now=at(2026, 5, 15, 9), case_id=c.pk, action="review")
    sms = Outbox.objects.get(kind="sms", topic="case.resolved")
    assert recipients(sms.payload) == ("13800000001",) and "13800000001" not in str(sms.payload)
    # The reporter accepts the result with the tracking code from the 申报单.
    c = case_act(actor=None, now=at(2026, 5, 16, 9), case_id=c.pk, action="confirm", reporter_token=c.tracking_token,
                 rating=5, note="满意")
    assert c.status == "closed" and c.rating == 5
    actions = list(CaseEvent.dangerously_unscoped.filter(case=c).values_list("action", flat=True))
    assert actions == ["report", "accept", "escalate", "escalate", "escalate", "escalate", "dispatch", "acknowledge",
                       "urge", "request_extension", "approve_extension", "feedback", "review", "confirm"]


def test_suoxiyu_loop_resident_qr_report_to_station_and_back(kit):
    w = kit.world
    t = at(2026, 2, 13, 10)  # Friday before the Spring Festival
    station = department_create(actor=None, now=t, unit=w.township, name="吴城乡国土所", kind="land")
    station_head = person("guotusuo", "黄所长", "department_handler", w.township, t, department=station)
    # The resident scans the grid board: no account, a point inside grid A1.
    result = case_report(actor=None, now=t, title="疑似违章建房", description="散步时看到河边有人在加盖房屋。",
                         category_code="illegal_building", channel="public", lat=39.05, lng=113.05,
                         reporter_name="游客张", reporter_phone="13900000002", idempotency_key="qr-1")
    c = result.case
    assert c.unit == w.grid_a1 and c.holder_unit == w.grid_a1
    # One working day to respond: Saturday 14 Feb is a make-up workday (调休).
    assert c.respond_due == at(2026, 2, 14, 10)
    # Seven working days: 14 Feb, then the holiday 15–23 Feb, then 24,25,26,27, Sat 28 (调休), 2 Mar.
    assert c.resolve_due == at(2026, 3, 2, 10)
    c = case_act(actor=w.zhao_lei, now=at(2026, 2, 13, 11), case_id=c.pk, action="escalate", note="需国土所甄别")
    c = case_act(actor=w.li_qiang, now=at(2026, 2, 13, 14), case_id=c.pk, action="escalate")
    assert c.holder_unit == w.township and c.status == "handling"
    c = case_act(actor=w.zhang_wei, now=at(2026, 2, 14, 9), case_id=c.pk, action="dispatch", department_id=station.pk,
                 resolve_days=3)
    assert c.resolve_due == at(2026, 2, 26, 9)  # 24, 25, 26 Feb
    c = case_act(actor=station_head, now=at(2026, 2, 24, 9), case_id=c.pk, action="acknowledge")
    c = case_act(actor=station_head, now=at(2026, 2, 25, 15), case_id=c.pk, action="feedback",
                 result="经核查为合法翻建，已取得审批。")
    c = case_act(actor=w.zhang_wei, now=at(2026, 2, 25, 17), case_id=c.pk, action="review")
    assert c.status == "resolved"
    sms = Outbox.objects.get(kind="sms", topic="case.resolved")
    assert recipients(sms.payload) == ("13900000002",) and c.number in sms.payload["text"]
    c = case_act(actor=None, now=at(2026, 2, 26, 8), case_id=c.pk, action="confirm", reporter_token=c.tracking_token,
                 rating=4)
    assert c.status == "closed" and c.result.startswith("经核查")


def test_local_override_moves_the_deadline(kit):
    w = kit.world
    CalendarOverride.objects.create(date=dt.date(2026, 5, 13), is_workday=False, note="县庆放假")
    c = kit.to_state("handling")
    c = case_act(actor=w.zhang_wei, now=at(2026, 4, 30, 10), case_id=c.pk, action="dispatch",
                 department_id=w.department.pk)
    assert c.resolve_due == at(2026, 5, 14, 10)


def test_emergency_deadlines_are_clock_hours_and_may_skip_a_level_recorded(kit):
    w = kit.world
    t = at(2026, 10, 1, 20)  # National Day: emergencies do not wait
    c = case_report(actor=w.wang_fang, now=t, title="山体滑坡", description="后山滑坡威胁三户。",
                    category_code="hazard_geology", channel="field", unit_id=w.grid_a1.pk, urgency="emergency").case
    assert c.respond_due == at(2026, 10, 1, 22) and c.resolve_due == at(2026, 10, 2, 20)
    c = case_act(actor=w.zhao_lei, now=at(2026, 10, 1, 20, 5), case_id=c.pk, action="escalate",
                 to_unit_id=w.township.pk)
    assert c.holder_unit == w.township
    ev = CaseEvent.dangerously_unscoped.get(case=c, action="escalate")
    assert ev.detail["skipped"] == ["吴城村"]
    assert Case.dangerously_unscoped.get(pk=c.pk).owner_unit == w.township
