"""Staff pages of the ledger, by persona: 王芳 sees grid A1, 李强 his village, 张伟 the township,
孙丽 (outsider) gets 404 exactly like a missing household."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from gridgov.residents.households import household_create
from gridgov.residents.members import resident_update
from gridgov.residents.models import Household, Resident
from gridgov.residents.tags import tag_assign
from tests.world import T0

pytestmark = pytest.mark.django_db

VISIBLE = {
    "grid_worker": {"a1", "a1_b"},
    "grid_head": {"a1", "a1_b"},
    "village_secretary": {"a1", "a1_b", "a2"},
    "township_office": {"a1", "a1_b", "a2", "b1"},
    "county_office": {"a1", "a1_b", "a2", "b1", "c1"},
    "outsider": {"c1"},
    "department_handler": set(),
}


def listed(client) -> set[int]:  # type: ignore[no-untyped-def]
    response = client.get(reverse("staff:household_list"), {"status": "all"})
    if response.status_code == 404:
        return set()
    assert response.status_code == 200
    return {h.pk for h in response.context["page"].rows}


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_list_and_detail_by_persona(world, ledger, login, persona):
    client = login(world.personas()[persona])
    households = {k: getattr(ledger, k) for k in ("a1", "a1_b", "a2", "b1", "c1")}
    assert listed(client) == {households[k].pk for k in VISIBLE[persona]}
    for key, h in households.items():
        expected = 200 if key in VISIBLE[persona] else 404
        assert client.get(reverse("staff:household_detail", args=[h.pk])).status_code == expected, key
        assert client.get(f"/api/households/{h.pk}").status_code == expected, key
        assert client.get(reverse("staff:household_edit", args=[h.pk])).status_code in (
            (200,) if key in VISIBLE[persona] and persona not in ("county_office", "outsider") else (404, 200)), key
    member = Resident.dangerously_unscoped.filter(household=ledger.a1).first()
    for name in ("staff:resident_edit", "staff:resident_move", "staff:resident_unmask"):
        code = client.get(reverse(name, args=[member.pk])).status_code
        assert (code == 404) == ("a1" not in VISIBLE[persona]), (name, code)


def test_out_of_scope_household_looks_exactly_like_missing(world, ledger, login):
    client = login(world.sun_li)
    foreign = client.get(reverse("staff:household_detail", args=[ledger.a1.pk]))
    missing = client.get(reverse("staff:household_detail", args=[999999]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_search_by_name_id_phone_house_number_tag_and_age(world, ledger, login):
    client = login(world.zhang_wei)

    def found(**params):  # type: ignore[no-untyped-def]
        response = client.post(reverse("staff:household_list"), params)
        return {h.pk for h in response.context["page"].rows}

    assert found(q="王伟") == {ledger.a1.pk, ledger.a1_b.pk}  # prefix: 王伟 and 王伟民
    assert found(name="王伟民") == {ledger.a1_b.pk}
    assert found(q=ledger.wang_wei_id) == {ledger.a1.pk}
    assert found(q=ledger.wang_wei_id.lower()) == {ledger.a1.pk}
    assert found(q="138 1234 5678") == {ledger.a1.pk}
    assert found(q="东坊") == {ledger.b1.pk}  # address fragment
    assert found(q="14号") == {ledger.a1_b.pk}
    assert found(age_max="13") == {ledger.a1.pk}  # the grandchild
    assert found(age_min="60") == {ledger.a1_b.pk}
    assert found(unit=str(world.grid_a2.pk)) == {ledger.a2.pk}
    tag_assign(actor=world.zhang_wei, now=T0, tag_code="dibao", household_id=ledger.b1.pk)
    assert found(tag="dibao") == {ledger.b1.pk}
    # 王芳 cannot see sensitive tags: the filter finds nothing rather than revealing who is 低保
    worker = login(world.wang_fang)
    tag_assign(actor=world.zhao_lei, now=T0, tag_code="dibao", household_id=ledger.a1.pk)
    page = worker.get(reverse("staff:household_list"), {"tag": "dibao"}).context["page"]
    assert page.rows == []
    detail = worker.get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "低保户" not in detail
    head = login(world.zhao_lei).get(reverse("staff:household_detail", args=[ledger.a1.pk]))
    assert "低保户" in head.content.decode()


def test_pagination_uses_a_keyset_cursor_without_count(world, ledger, login, django_assert_max_num_queries):
    for i in range(7):
        household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address=f"吴城村{i}号院")
    client = login(world.wang_fang)
    first = client.get(reverse("staff:household_list"), {"limit": "4"}).context["page"]
    assert len(first.rows) == 4 and first.next_after == first.rows[-1].pk
    second = client.get(reverse("staff:household_list"), {"limit": "4", "after": first.next_after}).context["page"]
    assert {h.pk for h in second.rows}.isdisjoint({h.pk for h in first.rows})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("staff:household_list"), {"q": "王伟"})
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


def test_masked_everywhere_and_minor_hidden_from_grid_worker(world, ledger, login):
    page = login(world.wang_fang).get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "1402**********" in page and "138****5678" in page
    assert "王小宝" not in page and "王**" in page  # a child under 14: name masked for the grid worker
    head = login(world.zhao_lei).get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "王小宝" in head


def test_unmask_page_requires_reason_and_right(world, ledger, login):
    url = reverse("staff:resident_unmask", args=[ledger.wang_wei.pk])
    worker = login(world.wang_fang).post(url, {"reason": "核实身份信息"})
    assert worker.status_code == 200 and "没有查看" in worker.content.decode()
    office = login(world.zhang_wei)
    assert "至少" in office.post(url, {"reason": ""}).content.decode()
    shown = office.post(url, {"reason": "核实身份信息"})
    assert ledger.wang_wei_id in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="resident.unmask", actor=world.zhang_wei).count() == 1


def test_create_household_and_member_through_the_forms(world, login):
    client = login(world.wang_fang)
    bad = client.post(reverse("staff:household_create"), {"unit": world.grid_a2.pk, "address": "吴城村"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode()
    assert not Household.dangerously_unscoped.filter(address="吴城村").exists()
    response = client.post(reverse("staff:household_create"), {"unit": world.grid_a1.pk, "address": "吴城村三组",
                                                                "house_number": "7", "phone": "13700001111"})
    assert response.status_code == 302
    household = Household.dangerously_unscoped.get(address="吴城村三组")
    url = reverse("staff:resident_add", args=[household.pk])
    bad = client.post(url, {"name": "陈东", "relation": "head", "id_number": "140225198001010010",
                            "political_status": "masses", "residency": "registered", "health": "healthy"})
    assert "校验位" in bad.content.decode()
    import datetime as dt

    from tests.residents.conftest import make_id

    ok = client.post(url, {"name": "陈东", "relation": "head", "id_number": make_id(dt.date(1980, 1, 1), 15),
                           "political_status": "masses", "residency": "registered", "health": "healthy",
                           "phone": "13700002222"})
    assert ok.status_code == 302
    assert Resident.dangerously_unscoped.get(name="陈东").household_id == household.pk


def test_household_edit_with_stale_version_shows_conflict(world, ledger, login):
    client = login(world.wang_fang)
    url = reverse("staff:household_edit", args=[ledger.a1.pk])
    data = {"unit": world.grid_a1.pk, "address": "新地址", "house_number": "12", "version": ledger.a1.version}
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "address": "另一个地址"})
    assert "已被他人修改" in stale.content.decode()


def test_split_merge_and_move_out_through_the_detail_page(world, ledger, login):
    client = login(world.wang_fang)
    url = reverse("staff:household_change", args=[ledger.a1.pk])
    response = client.post(url, {"action": "split", "members": [ledger.child.pk], "new_head": ledger.child.pk,
                                 "house_number": "12-1"})
    new = Resident.dangerously_unscoped.get(pk=ledger.child.pk).household
    assert new.pk != ledger.a1.pk and response.url == reverse("staff:household_detail", args=[new.pk])
    assert client.post(reverse("staff:household_change", args=[new.pk]),
                       {"action": "merge", "into": ledger.a1.pk}).status_code == 302
    assert Household.dangerously_unscoped.get(pk=new.pk).status == "merged"
    refused = client.post(reverse("staff:household_change", args=[ledger.a1.pk]),
                          {"action": "merge", "into": ledger.a2.pk}, follow=True)
    assert "不在您的范围内" in refused.content.decode()
    client.post(reverse("staff:household_change", args=[ledger.a1_b.pk]), {"action": "status",
                                                                          "status": "dissolved", "reason": "户主去世"})
    assert Household.dangerously_unscoped.get(pk=ledger.a1_b.pk).status == "dissolved"
    assert login(world.sun_li).post(url, {"action": "status", "status": "dissolved",
                                          "reason": "x"}).status_code == 404


def test_assign_grid_worker_and_party_member_on_the_page(world, ledger, login):
    resident_update(actor=None, now=T0, resident_id=ledger.wang_wei.pk, political_status="中共党员")
    client = login(world.li_qiang)
    url = reverse("staff:household_change", args=[ledger.a1_b.pk])
    # The choices are fetched when the page's contacts section is opened.
    choices = client.get(reverse("staff:household_assign_choices", args=[ledger.a1_b.pk])).content.decode()
    assert "王芳" in choices and "钱多" not in choices  # only the workers of grid A1
    client.post(url, {"action": "assign", "user": world.wang_fang.pk})
    client.post(url, {"action": "assign", "user": world.qian_duo.pk})  # not a worker of A1: ignored as not found
    client.post(url, {"action": "party_link", "party_member": ledger.wang_wei.pk})
    from gridgov.residents.models import HouseholdAssignment

    links = HouseholdAssignment.dangerously_unscoped.filter(household=ledger.a1_b, ended_at__isnull=True)
    assert {(a.kind, a.user_id or a.party_member_id) for a in links} == {
        ("grid_worker", world.wang_fang.pk), ("party_member", ledger.wang_wei.pk)}


def test_address_fragment_from_the_search_box_pages_on(world, ledger, login):
    for i in range(5):
        household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address=f"幸福巷{i}号院")
    client = login(world.wang_fang)
    first = client.post(reverse("staff:household_list"), {"q": "幸福巷", "limit": "3"})
    assert len(first.context["page"].rows) == 3
    assert "address=" in first.context["base_query"]
    second = client.get(reverse("staff:household_list") + "?" + first.context["base_query"]
                        + f"&after={first.context['page'].next_after}")
    assert len(second.context["page"].rows) == 2


def test_the_grid_filter_offers_the_grids_in_scope_and_keeps_the_one_chosen(world, ledger, login):
    """The grid filter's options are built in the view: each grid once, the chosen one selected, names escaped."""
    from gridgov.units.models import Unit

    client = login(world.li_qiang)  # village secretary: the village's grids only
    html = client.post(reverse("staff:household_list"), {"unit": str(world.grid_a1.pk)}).content.decode()
    grids = Unit.dangerously_unscoped.filter(parent=world.village, is_active=True)
    assert grids.count() >= 2
    for grid in grids:
        selected = " selected" if grid.pk == world.grid_a1.pk else ""
        assert html.count(f'<option value="{grid.pk}"{selected}>{grid.name}</option>') == 1, grid.name
    assert html.count(" selected>") == 1 + html.count('<option value="active" selected>')
    assert world.grid_b1.name not in html
    # Each household listed links to its page.
    assert f'<a href="{reverse("staff:household_detail", args=[ledger.a1.pk])}">{ledger.a1.pk}</a>' in html
