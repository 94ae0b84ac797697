"""Routines (processes/routines.py): each kind creates its occurrences ahead through its workflow's service, once,
with a reminder the day before; bad rules are refused with nothing written; the staff page with the personas."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.clock import LOCAL_TZ
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.deliberation.models import TalkDay
from gridgov.notify.models import Outbox
from gridgov.processes import routines
from gridgov.processes.models import Routine, RoutineOccurrence
from gridgov.visits.models import VisitCampaign
from gridgov.workforce.models import DutyItem, DutyList

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 09:00 in 吴城乡.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL_TZ)


def make(world, kind: str, rule: str, name: str = "支部说事日", **kw):  # type: ignore[no-untyped-def]
    return routines.routine_create(actor=world.li_qiang, now=NOW, unit_id=world.village.pk, kind=kind, name=name,
                                   rule=rule, starts_on="2026-01-01", **kw)


def test_presets_read_as_the_offices_say_them():
    assert routines.preset_rule("monthly", "10") == "FREQ=MONTHLY;BYMONTHDAY=10"
    assert routines.preset_rule("weekly", "4") == "FREQ=WEEKLY;BYDAY=FR"
    assert routines.describe(routines.preset_rule("weekly", "4")) == "每周五"
    assert routines.describe(routines.preset_rule("quarterly", "5")) == "每季度首月5日"
    assert routines.check_rule(routines.preset_rule("quarterly", "5"), dt.date(2026, 1, 1))[:4] == [
        dt.date(2026, 1, 5), dt.date(2026, 4, 5), dt.date(2026, 7, 5), dt.date(2026, 10, 5)]


def test_a_monthly_talk_day_is_created_ahead_once_with_a_reminder_the_day_before(world):
    routine = make(world, "talk_day", routines.preset_rule("monthly", "10"))
    report = routines.routines_run(now=NOW)
    assert report.created == 1 and report.failed == 0
    talk = TalkDay.dangerously_unscoped.get()
    assert talk.held_on == dt.date(2026, 3, 10) and talk.unit == world.village and talk.topic == "支部说事日"
    occurrence = RoutineOccurrence.objects.get()
    assert occurrence.object_type == "deliberation.talkday" and occurrence.object_id == str(talk.pk)
    # Again, and again later in the window: nothing more.
    assert routines.routines_run(now=NOW + dt.timedelta(hours=1)).created == 0
    assert TalkDay.dangerously_unscoped.count() == 1
    # The day before: one reminder to the owner (the secretary), not repeated.
    eve = dt.datetime(2026, 3, 9, 8, 0, tzinfo=LOCAL_TZ)
    assert routines.routines_run(now=eve).reminded == 1
    assert routines.routines_run(now=eve + dt.timedelta(hours=2)).reminded == 0
    message = Outbox.objects.get(topic="routine.reminder")
    assert world.li_qiang.pk in message.payload["user_ids"] and message.payload["title"] == "明天：支部说事日"
    assert routine.occurrences.count() == 1


def test_a_talk_day_already_registered_by_hand_is_used_not_duplicated(world):
    from gridgov.deliberation.services import talk_day_create

    talk_day_create(actor=world.li_qiang, now=NOW, unit_id=world.village.pk, held_on="2026-03-02", topic="临时说事")
    make(world, "talk_day", "FREQ=WEEKLY;BYDAY=MO", name="周一说事")
    report = routines.routines_run(now=NOW)
    assert report.created == 3  # 2, 9 and 16 March
    assert TalkDay.dangerously_unscoped.count() == 3
    assert TalkDay.dangerously_unscoped.get(held_on=dt.date(2026, 3, 2)).topic == "临时说事"


def test_a_weekly_friday_talk(world):
    make(world, "talk_day", routines.preset_rule("weekly", "4"), name="周五说事")
    routines.routines_run(now=NOW)
    assert sorted(TalkDay.dangerously_unscoped.values_list("held_on", flat=True)) == [
        dt.date(2026, 3, 6),
        dt.date(2026, 3, 13),
    ]


def test_a_visit_campaign_on_the_12th(world):
    make(world, "visit_campaign", routines.preset_rule("monthly", "12"), name="五个到户敲门行动", span_days=3)
    assert routines.routines_run(now=NOW).created == 1
    campaign = VisitCampaign.dangerously_unscoped.get()
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2026, 3, 12), dt.date(2026, 3, 14))
    assert campaign.name == "五个到户敲门行动（3月12日）" and campaign.unit == world.village


def test_a_monthly_meeting_as_a_duty_list_to_the_grids(world):
    make(
        world, "duty_list", routines.preset_rule("monthly", "5"), name="网格例会", description="召开网格例会并上传记录"
    )
    assert routines.routines_run(now=NOW).created == 1
    duty = DutyList.dangerously_unscoped.get()
    assert duty.title == "网格例会（3月5日）" and duty.unit == world.village
    assert set(DutyItem.dangerously_unscoped.filter(duty_list=duty).values_list("unit_id", flat=True)) == {
        world.grid_a1.pk,
        world.grid_a2.pk,
    }


def test_an_owner_who_lost_the_right_gets_a_counted_failure_and_nothing_half_written(world):
    from gridgov.access.models import Grant
    from gridgov.access.services import grant_revoke

    make(world, "visit_campaign", routines.preset_rule("monthly", "12"), name="集中走访")
    for grant in Grant.dangerously_unscoped.filter(user=world.li_qiang):
        grant_revoke(actor=None, now=NOW, grant_id=grant.pk)
    report = routines.routines_run(now=NOW)
    assert report.created == 0 and report.failed == 1 and "集中走访" not in report.errors[0]
    assert not RoutineOccurrence.objects.exists() and not VisitCampaign.dangerously_unscoped.exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=MINUTELY;INTERVAL=1", "不能按小时或分钟"),
        ("FREQ=HOURLY", "不能按小时或分钟"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "一次也不会发生"),
        ("随便写", "看不懂"),
    ],
)
def test_a_routine_that_never_happens_or_too_often_is_refused(world, rule, message):
    with pytest.raises(ValidationFailed, match=message):
        make(world, "talk_day", rule)
    assert not Routine.dangerously_unscoped.exists() and not AuditEvent.objects.filter(action="routine.create").exists()


def test_a_grid_worker_may_not_set_routines(world):
    with pytest.raises(PermissionDenied):
        routines.routine_create(
            actor=world.wang_fang,
            now=NOW,
            unit_id=world.grid_a1.pk,
            kind="visit_campaign",
            name="集中走访",
            rule="FREQ=MONTHLY;BYMONTHDAY=1",
            starts_on="2026-01-01",
        )


def test_a_duty_list_routine_needs_sub_units(world):
    with pytest.raises(ValidationFailed, match="没有下级单位"):
        routines.routine_create(
            actor=world.li_qiang,
            now=NOW,
            unit_id=world.grid_a1.pk,
            kind="duty_list",
            name="例会",
            rule="FREQ=MONTHLY;BYMONTHDAY=1",
            starts_on="2026-01-01",
        )


# --- the page --------------------------------------------------------------------------------------


@pytest.fixture
def fixed(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("gridgov.interfaces.staff.routines.now", lambda: NOW)


def test_the_secretary_adds_a_routine_with_a_preset(world, login, fixed):
    client = login(world.li_qiang)
    response = client.post(
        "/routines/",
        {
            "unit_id": world.village.pk,
            "kind": "talk_day",
            "name": "支部说事日",
            "preset": "monthly",
            "day": "10",
            "starts_on": "2026-03-01",
            "span_days": "1",
        },
    )
    assert response.status_code == 302
    routine = Routine.dangerously_unscoped.get()
    assert routine.rule == "FREQ=MONTHLY;BYMONTHDAY=10"
    html = client.get("/routines/").content.decode()
    assert "每月10日" in html and "2026年3月10日" in html


def test_a_refused_routine_comes_back_filled(world, login, fixed):
    client = login(world.li_qiang)
    response = client.post(
        "/routines/",
        {
            "unit_id": world.village.pk,
            "kind": "talk_day",
            "name": "说事",
            "preset": "monthly",
            "day": "32",
            "starts_on": "2026-03-01",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "1 到 31 日" in html and 'value="说事"' in html
    assert not Routine.dangerously_unscoped.exists()


def test_scope_of_the_routine_pages(world, login, fixed):
    routine = make(world, "talk_day", routines.preset_rule("monthly", "10"))
    assert login(world.zhang_wei).get(f"/routines/{routine.pk}/").status_code == 200  # township office above
    assert login(world.sun_li).get(f"/routines/{routine.pk}/").status_code == 404  # outsider: as if missing
    assert f"/routines/{routine.pk}/" not in login(world.sun_li).get("/routines/").content.decode()
    assert f"/routines/{routine.pk}/" in login(world.zhang_wei).get("/routines/").content.decode()
    grid_worker = login(world.wang_fang)
    assert grid_worker.get(f"/routines/{routine.pk}/").status_code == 404  # grid worker: not their unit
    assert (
        grid_worker.post(
            f"/routines/{routine.pk}/", {"name": "改名", "preset": "monthly", "day": "11", "starts_on": "2026-03-01"}
        ).status_code
        == 404
    )
    assert Routine.dangerously_unscoped.get().name == "支部说事日"
