"""The 回访 worklist and the possible-duplicates panel (cases/worklists.py) with the named personas and a fixed
clock: who sees which case, why it is listed, and what drops off."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.scope import scope_for
from gridgov.cases import worklists
from gridgov.cases.sweep import case_sweep
from tests.residents.conftest import household, make_id

pytestmark = pytest.mark.django_db


def listed(world, persona, now):  # type: ignore[no-untyped-def]
    rows = worklists.follow_up_worklist(scope=scope_for(world.personas()[persona]), now=now)
    return {r.case.pk: r.reason for r in rows}


def test_resolved_cases_without_a_phone_or_unanswered_are_on_the_worklist(kit):
    w = kit.world
    no_phone = kit.to_state("resolved")
    with_phone = kit.to_state("resolved", reporter_name="王大爷", reporter_phone="13912345678")
    now = kit.tick()
    rows = listed(w, "township_office", now)
    assert rows == {no_phone.pk: "待群众评价（无联系电话）"}
    later = now + dt.timedelta(days=4)
    rows = listed(w, "township_office", later)
    assert rows[with_phone.pk] == "待群众评价，已 4 天未回复" and no_phone.pk in rows
    assert set(listed(w, "grid_worker", later)) == {no_phone.pk, with_phone.pk}  # her grid's cases
    assert listed(w, "outsider", later) == {}


def test_auto_closed_cases_stay_on_the_worklist_n_days(kit):
    w = kit.world
    case = kit.to_state("resolved", reporter_name="王大爷", reporter_phone="13912345678")
    closing = kit.now + dt.timedelta(days=14)
    assert case_sweep(now=closing).closed == 1
    assert listed(w, "township_office", closing + dt.timedelta(days=1)) == {case.pk: "无人评价，已自动归档"}
    assert listed(w, "township_office", closing + dt.timedelta(days=8)) == {}
    rows = worklists.follow_up_worklist(scope=scope_for(w.zhang_wei), now=closing + dt.timedelta(days=8), days=15)
    assert [r.case.pk for r in rows] == [case.pk]


def test_a_case_closed_by_the_resident_or_asked_is_not_listed(kit):
    from gridgov.cases.public.services import follow_up_record

    w = kit.world
    asked = kit.to_state("resolved")
    closed = kit.to_state("closed")
    follow_up_record(actor=w.zhang_wei, now=kit.tick(), case_id=asked.pk, method="visit", outcome="unsatisfied",
                     comment="路口还有垃圾")
    rows = listed(w, "township_office", kit.tick())
    assert asked.pk not in rows and closed.pk not in rows


def test_the_worklist_page_for_each_persona(kit, login, monkeypatch):
    w = kit.world
    case = kit.to_state("resolved")
    moment = kit.tick()
    monkeypatch.setattr("gridgov.interfaces.staff.cases.now", lambda: moment)
    html = login(w.zhang_wei).get("/cases/follow-ups/").content.decode()
    assert case.number in html and "无联系电话" in html
    assert case.number in login(w.wang_fang).get("/cases/follow-ups/").content.decode()
    outsider = login(w.sun_li).get("/cases/follow-ups/")
    assert outsider.status_code == 200 and case.number not in outsider.content.decode()
    assert login(w.liu_yang).get("/cases/follow-ups/").status_code == 403  # department handler: no case.view


# --- possible duplicates ---------------------------------------------------------------------------


def test_duplicates_by_household_address_place_and_title(kit):
    w = kit.world
    home = household(w, w.grid_a1, "吴城村一组", "王伟", make_id(dt.date(1975, 4, 12), 31), no="12")
    case = kit.report(title="村口垃圾堆放", household_id=home.pk, address="吴城村一组12号", lat=39.60, lng=113.70)
    same_home = kit.report(title="院墙倒塌", category="other", household_id=home.pk)
    same_address = kit.report(title="下水道堵塞", category="other", address="吴城村一组12号")
    near = kit.report(title="路边有垃圾", lat=39.6005, lng=113.7005)
    similar = kit.report(title="村口的垃圾堆放")
    unrelated = kit.report(title="路灯不亮", category="other")
    found = {d.case.pk: d.reasons for d in worklists.possible_duplicates(scope=scope_for(w.zhang_wei), case=case)}
    assert found[same_home.pk] == ("同一户",)
    assert found[same_address.pk] == ("同一地址",)
    assert found[near.pk][0].startswith("相距约")
    assert "标题相近" in found[similar.pk]
    assert unrelated.pk not in found and case.pk not in found
    # The outsider's scope holds none of them.
    assert worklists.possible_duplicates(scope=scope_for(w.sun_li), case=case) == []


def test_the_case_page_shows_duplicates_to_the_holder_only(kit, login):
    w = kit.world
    first = kit.report(title="村口垃圾堆放")
    second = kit.report(title="村口垃圾堆放严重")
    # Held by grid A1 (reported there): its grid head holds it; the township office sees it but does not hold it.
    holder = login(w.zhao_lei).get(f"/cases/{second.pk}/").content.decode()
    assert 'id="duplicates"' in holder and first.number in holder and "标题相近" in holder
    township = login(w.zhang_wei).get(f"/cases/{second.pk}/").content.decode()
    assert 'id="duplicates"' not in township
    assert login(w.sun_li).get(f"/cases/{second.pk}/").status_code == 404
    closed = kit.to_state("closed")
    assert 'id="duplicates"' not in login(w.zhao_lei).get(f"/cases/{closed.pk}/").content.decode()
