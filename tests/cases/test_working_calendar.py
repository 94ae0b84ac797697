"""The working calendar, maintained by the county office (cases/calendar.py, staff/work_calendar.py): a 2027
calendar entered by hand, its notice and CSV forms, bad input refused with nothing written, the personas'
rights on the page, and an open case's deadline spanning 2026-12-31 → 2027 recomputed by the sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases import calendar
from gridgov.cases.deadlines import work_calendar
from gridgov.cases.intake import case_report
from gridgov.cases.models import CalendarOverride, CalendarRevision, CalendarYear, Case, CaseEvent
from gridgov.cases.sweep import case_sweep
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

# The office's 2027 arrangement, typed as the notice reads (元旦 extended to Monday 4 January by local decision
# of this test; 春节 with a make-up Saturday).
NOTICE_2027 = ("一、元旦：1月1日（周五）至4日（周一）放假，共4天。\n"
               "二、春节：2月5日（农历腊月二十九、周五）至13日（周六）放假调休，共9天。2月20日（星期六）上班。")
SAVED = dt.datetime(2026, 12, 30, 10, 0, tzinfo=LOCAL_TZ)


def d(month: int, day: int, year: int = 2027) -> dt.date:
    return dt.date(year, month, day)


def test_the_notice_lines_become_ranges():
    entries = calendar.parse_notice(
        "一、元旦：1月1日放假，共1天。二、春节：2月15日至23日放假调休，共9天。2月14日（星期六）、2月28日（星期六）上班。",
        2026)
    assert entries == [
        calendar.Entry(d(1, 1, 2026), d(1, 1, 2026), False, "元旦"),
        calendar.Entry(d(2, 15, 2026), d(2, 23, 2026), False, "春节"),
        calendar.Entry(d(2, 14, 2026), d(2, 14, 2026), True, "春节调休上班"),
        calendar.Entry(d(2, 28, 2026), d(2, 28, 2026), True, "春节调休上班"),
    ]


def test_csv_lines_become_ranges():
    entries = calendar.parse_csv("开始日期,结束日期,类型,说明\n"
                                 "2027-02-05,2027-02-13,放假,春节\n2027/2/20,,上班,春节调休\n")
    assert entries == [calendar.Entry(d(2, 5), d(2, 13), False, "春节"),
                       calendar.Entry(d(2, 20), d(2, 20), True, "春节调休")]


@pytest.mark.parametrize(("text", "message"), [
    ("二、春节：2月5日至13日放假调休，共8天。", "共8天"),
    ("二、春节：2月30日放假，共1天。", "2月30日 不是有效日期"),
    ("二、春节：2月13日至2月5日放假。", "早于开始日期"),
])
def test_a_notice_that_does_not_add_up_is_refused(text, message):
    with pytest.raises(ValidationFailed, match=message):
        calendar.parse_notice(text, 2027)


@pytest.mark.parametrize(("entries", "message"), [
    ([calendar.Entry(d(2, 5), d(2, 13), False), calendar.Entry(d(2, 10), d(2, 15), False)], "重叠"),
    ([calendar.Entry(d(2, 5), d(2, 13), False), calendar.Entry(d(2, 6), d(2, 6), True)], "既是放假日"),
    ([calendar.Entry(d(2, 17), d(2, 17), True)], "本来就上班"),
    ([calendar.Entry(d(12, 31, 2026), d(1, 2), False)], "不在 2027 年内"),
])
def test_impossible_ranges_are_refused(chen_jing_world, entries, message):
    world = chen_jing_world
    with pytest.raises(ValidationFailed, match=message):
        calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027, entries=entries)
    assert not CalendarYear.objects.exists() and not CalendarRevision.objects.exists()
    assert not CalendarOverride.objects.exists()


@pytest.fixture
def chen_jing_world(world, categories):  # type: ignore[no-untyped-def]
    return world


def test_only_the_county_office_may_save(chen_jing_world):
    with pytest.raises(PermissionDenied):
        calendar.calendar_year_save(actor=chen_jing_world.zhang_wei, now=SAVED, year=2027,
                                    entries=calendar.parse_notice(NOTICE_2027, 2027))
    assert not CalendarYear.objects.exists()


def test_saving_2027_sets_the_days_and_is_audited(chen_jing_world):
    world = chen_jing_world
    calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027,
                                entries=calendar.parse_notice(NOTICE_2027, 2027))
    cal = work_calendar()
    assert not cal.is_working_day(d(1, 4))  # Monday, a holiday now
    assert not cal.is_working_day(d(2, 11))
    assert cal.is_working_day(d(2, 20))  # the make-up Saturday
    assert cal.is_working_day(d(2, 15))
    assert not cal.is_working_day(d(2, 21))
    grids = {g.month: g.working_days for g in calendar.month_grids(2027, cal)}
    assert grids[1] == 21 - 2  # 21 weekdays in January 2027, less Friday 1 and Monday 4
    assert grids[2] == 20 - 6 + 1  # 20 weekdays, 6 of them in the holiday (5, 8–12), one make-up Saturday
    audit = AuditEvent.objects.get(action="case.calendar_save")
    assert audit.detail["year"] == 2027 and audit.detail["holidays"] == 2 and audit.detail["workdays"] == 1
    assert CalendarRevision.objects.get().applied_at is None


def _report(world, when: dt.datetime) -> Case:  # type: ignore[no-untyped-def]
    return case_report(actor=world.wang_fang, now=when, title="村口垃圾堆放", description="村口路边有大量生活垃圾。",
                       category_code="sanitation", channel="field", unit_id=world.grid_a1.pk).case


def test_a_deadline_across_the_year_end_is_recomputed_by_the_sweep(chen_jing_world):
    world = chen_jing_world
    reported = dt.datetime(2026, 12, 30, 9, 0, tzinfo=LOCAL_TZ)
    case = _report(world, reported)
    # 7 working days on the package's calendar: 31 Dec, 4–8 Jan, 11 Jan.
    assert local(case.resolve_due) == dt.datetime(2027, 1, 11, 9, 0, tzinfo=LOCAL_TZ)
    calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027,
                                entries=calendar.parse_notice(NOTICE_2027, 2027))
    # A case reported after the change is due on the new calendar at once (the reference stamp changed).
    later = _report(world, SAVED + dt.timedelta(minutes=5))
    assert local(later.resolve_due).date() == d(1, 12)
    run = SAVED + dt.timedelta(minutes=10)
    report = case_sweep(now=run)
    assert report.recomputed == 1
    case.refresh_from_db()
    # 4 January is a holiday now: 31 Dec, 5–8 Jan, 11 and 12 Jan.
    assert local(case.resolve_due) == dt.datetime(2027, 1, 12, 9, 0, tzinfo=LOCAL_TZ)
    event = CaseEvent.dangerously_unscoped.get(case=case, action=calendar.RECOMPUTE_ACTION)
    assert local(event.resolve_due_before).date() == d(1, 11) and local(event.resolve_due_after).date() == d(1, 12)
    assert event.actor is None and "工作日历调整" in event.note
    assert AuditEvent.objects.filter(action="case.calendar_recompute", object_id=str(case.pk)).count() == 1
    later.refresh_from_db()
    assert local(later.resolve_due).date() == d(1, 12)  # untouched: it was computed on the new calendar
    assert CalendarRevision.objects.get().applied_at == run
    # Idempotent: a second sweep moves nothing.
    assert case_sweep(now=run + dt.timedelta(minutes=5)).recomputed == 0
    case.refresh_from_db()
    assert local(case.resolve_due).date() == d(1, 12)
    assert CaseEvent.dangerously_unscoped.filter(case=case, action=calendar.RECOMPUTE_ACTION).count() == 1


def test_a_sweep_killed_midway_does_not_move_a_case_twice(chen_jing_world):
    world = chen_jing_world
    case = _report(world, dt.datetime(2026, 12, 30, 9, 0, tzinfo=LOCAL_TZ))
    calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027,
                                entries=calendar.parse_notice(NOTICE_2027, 2027))
    run = SAVED + dt.timedelta(minutes=10)
    assert calendar.calendar_recompute(now=run) == 1
    # As if the run died after the batch committed but before the revision was marked applied.
    CalendarRevision.objects.update(applied_at=None)
    assert calendar.calendar_recompute(now=run) == 0
    case.refresh_from_db()
    assert local(case.resolve_due).date() == d(1, 12)


# --- the page, with the named personas ------------------------------------------------------------


@pytest.fixture
def fixed(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("gridgov.interfaces.staff.work_calendar.now", lambda: SAVED)
    monkeypatch.setattr("gridgov.interfaces.staff.views.now", lambda: SAVED)


def _rows(*rows: tuple[str, str, str, str]) -> dict[str, str]:
    data = {"rows": str(len(rows))}
    for i, (start, end, kind, note) in enumerate(rows):
        data |= {f"start_{i}": start, f"end_{i}": end, f"kind_{i}": kind, f"note_{i}": note}
    return data


def test_county_office_enters_2027_by_ranges_and_sees_the_year(chen_jing_world, login, fixed):
    client = login(chen_jing_world.chen_jing)
    page = client.get("/calendar/?year=2027")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2027年的放假安排尚未确认" in html and "保存并确认 2027 年日历" in html
    response = client.post("/calendar/", {"year": "2027", **_rows(
        ("2027-01-01", "2027-01-04", "holiday", "元旦"), ("2027-02-05", "2027-02-13", "holiday", "春节"),
        ("2027-02-20", "", "workday", "春节调休"))})
    assert response.status_code == 302
    html = client.get("/calendar/?year=2027").content.decode()
    assert "已确认" in html and "1月 · 工作日 <strong>19</strong> 天" in html
    assert "2月 · 工作日 <strong>15</strong> 天" in html
    assert CalendarYear.objects.get(year=2027).confirmed_by == chen_jing_world.chen_jing


def test_a_refused_form_comes_back_filled_and_writes_nothing(chen_jing_world, login, fixed):
    client = login(chen_jing_world.chen_jing)
    notice = "二、春节：2月5日至13日放假调休，共9天。2月6日（星期六）上班。"
    response = client.post("/calendar/", {"year": "2027", "notice": notice,
                                          **_rows(("2027-10-01", "2027-10-07", "holiday", "国庆节"))})
    assert response.status_code == 400
    html = response.content.decode()
    assert "2月6日 既是放假日" in html
    assert notice in html and 'value="2027-10-07"' in html and 'value="国庆节"' in html
    assert not CalendarYear.objects.exists() and not CalendarOverride.objects.exists()
    assert not AuditEvent.objects.filter(action="case.calendar_save").exists()


def test_township_office_reads_but_may_not_save(chen_jing_world, login, fixed):
    client = login(chen_jing_world.zhang_wei)
    html = client.get("/calendar/?year=2027").content.decode()
    assert "全年日历" in html and "保存并确认" not in html
    response = client.post("/calendar/", {"year": "2027", **_rows(("2027-01-01", "", "holiday", "元旦"))})
    assert response.status_code == 403
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize("persona", ["grid_worker", "village_secretary"])
def test_field_staff_are_refused(chen_jing_world, login, fixed, persona):
    assert login(chen_jing_world.personas()[persona]).get("/calendar/").status_code == 403


def test_the_outsider_office_reads_the_shared_calendar_but_may_not_save(chen_jing_world, login, fixed):
    # The calendar is the deployment's, not a unit's: an office of another township reads it like any office.
    client = login(chen_jing_world.sun_li)
    assert client.get("/calendar/").status_code == 200
    assert client.post("/calendar/", {"year": "2027", **_rows(("2027-01-01", "", "holiday", ""))}).status_code == 403


def test_from_1_december_offices_are_warned_until_next_year_is_confirmed(chen_jing_world, login, monkeypatch):
    world = chen_jing_world
    monkeypatch.setattr("gridgov.interfaces.staff.views.now", lambda: dt.datetime(2026, 11, 30, 9, tzinfo=LOCAL_TZ))
    assert "calendar-unconfirmed" not in login(world.zhang_wei).get("/").content.decode()
    monkeypatch.setattr("gridgov.interfaces.staff.views.now", lambda: dt.datetime(2026, 12, 1, 9, tzinfo=LOCAL_TZ))
    html = login(world.zhang_wei).get("/").content.decode()
    assert "2027年的放假和调休安排尚未确认" in html
    assert "calendar-unconfirmed" not in login(world.wang_fang).get("/").content.decode()  # not an office
    calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027,
                                entries=calendar.parse_notice(NOTICE_2027, 2027))
    assert "calendar-unconfirmed" not in login(world.zhang_wei).get("/").content.decode()


def test_the_dashboard_warns_offices_too(chen_jing_world, login, monkeypatch):
    world = chen_jing_world
    monkeypatch.setattr("gridgov.interfaces.staff.dashboard.now", lambda: dt.datetime(2026, 12, 1, 9, tzinfo=LOCAL_TZ))
    assert "2027年的放假和调休安排尚未确认" in login(world.zhang_wei).get("/dashboard/").content.decode()
    calendar.calendar_year_save(actor=world.chen_jing, now=SAVED, year=2027,
                                entries=calendar.parse_notice(NOTICE_2027, 2027))
    assert "calendar-unconfirmed" not in login(world.zhang_wei).get("/dashboard/").content.decode()
