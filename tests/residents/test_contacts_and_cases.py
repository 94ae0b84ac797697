"""Who looks after which households (联系户分配: grid workers and party members), and the cases that
name a household, shown on its page to those who may see them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case
from gridgov.core.errors import ValidationFailed
from gridgov.residents.caretakers import contacts_assign, household_assign_worker, household_link_party_member
from gridgov.residents.households import household_create, household_merge, household_set_status
from gridgov.residents.members import resident_update
from gridgov.residents.models import HouseholdAssignment, HouseholdEvent
from tests.world import T0

pytestmark = pytest.mark.django_db

BOARD_VISIBLE = {  # who may arrange the contacts of grid A1
    "grid_worker": 200, "grid_head": 200, "village_secretary": 200, "township_office": 200, "county_office": 200,
    "outsider": 404, "department_handler": 404,
}


def _party_member(world, ledger):  # type: ignore[no-untyped-def]
    resident_update(actor=None, now=T0, resident_id=ledger.wang_wei.pk, political_status="中共党员")
    return ledger.wang_wei


@pytest.mark.parametrize("persona", list(BOARD_VISIBLE))
def test_contacts_board_by_persona(world, ledger, login, persona):
    client = login(world.personas()[persona])
    url = reverse("staff:household_contacts_unit", args=[world.grid_a1.pk])
    response = client.get(url)
    assert response.status_code == BOARD_VISIBLE[persona]
    if response.status_code == 200:
        shown = {h.pk for h in response.context["board"].households}
        assert shown == {ledger.a1.pk, ledger.a1_b.pk}
    start = client.get(reverse("staff:household_contacts"))
    assert start.status_code == (404 if persona == "department_handler" else (302 if persona in (
        "grid_worker", "grid_head", "outsider") else 200))


def test_a_village_board_lists_its_grids(world, ledger, login):
    response = login(world.li_qiang).get(reverse("staff:household_contacts_unit", args=[world.village.pk]))
    assert {u.pk for u in response.context["grids"]} == {world.grid_a1.pk, world.grid_a2.pk}


def test_assign_a_grid_worker_and_a_party_member_to_several_households(world, ledger, login):
    member = _party_member(world, ledger)
    client = login(world.li_qiang)
    url = reverse("staff:household_contacts_unit", args=[world.grid_a1.pk])
    page = client.get(url)
    assert [u for u, _ in page.context["board"].workers] == [world.wang_fang]
    assert [m for m, _ in page.context["board"].party_members] == [member]
    both = [ledger.a1.pk, ledger.a1_b.pk]
    response = client.post(url, {"action": "worker", "user": world.wang_fang.pk, "households": both}, follow=True)
    assert "已分配 2 户给 王芳" in response.content.decode()
    client.post(url, {"action": "party", "party_member": member.pk, "households": both})
    links = HouseholdAssignment.dangerously_unscoped.filter(ended_at__isnull=True)
    assert {(a.household_id, a.kind) for a in links} == {(h, k) for h in both for k in ("grid_worker", "party_member")}
    assert AuditEvent.objects.filter(action="household.assign").count() == 2
    assert AuditEvent.objects.filter(action="household.party_link").count() == 2
    board = client.get(url).context["board"]
    assert board.workers == [(world.wang_fang, 2)] and board.party_members == [(member, 2)]
    # Again: nothing doubles.
    again = client.post(url, {"action": "party", "party_member": member.pk, "households": both}, follow=True)
    assert "2 户原本就由其联系" in again.content.decode()
    assert HouseholdAssignment.dangerously_unscoped.filter(party_member=member, ended_at__isnull=True).count() == 2
    # End one link from the board: history and audit.
    link = HouseholdAssignment.dangerously_unscoped.get(household=ledger.a1_b, party_member=member)
    client.post(url, {"link": link.pk})
    link.refresh_from_db()
    assert link.ended_at is not None
    assert HouseholdEvent.dangerously_unscoped.filter(household=ledger.a1_b, action="assigned",
                                          changes__ended="党员联系户").exists()
    assert AuditEvent.objects.filter(action="household.assignment_end").count() == 1


def test_a_batch_is_all_or_nothing(world, ledger, login):
    member = _party_member(world, ledger)
    before = (HouseholdAssignment.dangerously_unscoped.count(), HouseholdEvent.dangerously_unscoped.count(),
              AuditEvent.objects.count())
    with pytest.raises(Exception):  # noqa: B017 - a household out of reach refuses the whole batch
        contacts_assign(actor=world.wang_fang, now=T0, household_ids=[ledger.a1.pk, ledger.a2.pk],
                                 party_member_id=member.pk)
    with pytest.raises(ValidationFailed, match="不负责"):
        contacts_assign(actor=world.li_qiang, now=T0, household_ids=[ledger.a1.pk, ledger.a2.pk],
                                 worker=world.wang_fang)
    with pytest.raises(ValidationFailed, match="请勾选"):
        contacts_assign(actor=world.li_qiang, now=T0, household_ids=[], worker=world.wang_fang)
    after = (HouseholdAssignment.dangerously_unscoped.count(), HouseholdEvent.dangerously_unscoped.count(),
             AuditEvent.objects.count())
    assert after == before
    # Through the page: a worker of another grid is not offered, and is refused in Chinese.
    client = login(world.li_qiang)
    url = reverse("staff:household_contacts_unit", args=[world.grid_a1.pk])
    response = client.post(url, {"action": "worker", "user": world.qian_duo.pk, "households": [ledger.a1.pk]},
                           follow=True)
    assert "请选择本网格的网格员" in response.content.decode()
    assert not HouseholdAssignment.dangerously_unscoped.exists()


def test_the_household_page_loads_its_contact_choices_when_the_section_is_opened(world, ledger, login):
    """The grid workers and party members to choose from are not on the page (hundreds of options on
    every view): the section fetches them from its own URL, which answers those who may edit only."""
    member = _party_member(world, ledger)
    household_assign_worker(actor=None, now=T0, household_id=ledger.a1_b.pk, user=world.wang_fang)
    page_url = reverse("staff:household_detail", args=[ledger.a1_b.pk])
    choices_url = reverse("staff:household_assign_choices", args=[ledger.a1_b.pk])
    client = login(world.li_qiang)
    page = client.get(page_url).content.decode()
    assert f'hx-get="{choices_url}"' in page
    assert 'name="party_member"' not in page and f'<option value="{member.pk}">' not in page
    fragment = client.get(choices_url).content.decode()
    assert f'<option value="{world.wang_fang.pk}" selected>王芳</option>' in fragment
    assert f'<option value="{member.pk}">{member.name}</option>' in fragment
    # The forms post to the household's change URL as before.
    response = client.post(reverse("staff:household_change", args=[ledger.a1_b.pk]),
                           {"action": "party_link", "party_member": member.pk}, follow=True)
    assert response.status_code == 200
    assert HouseholdAssignment.dangerously_unscoped.filter(household=ledger.a1_b, party_member=member,
                                               ended_at__isnull=True).exists()
    # Whoever sees the page without the section (or not at all) gets no list.
    shown = {}
    for persona, user in world.personas().items():
        c = login(user)
        has_section = f'hx-get="{choices_url}"' in c.get(page_url).content.decode()
        status = c.get(choices_url).status_code
        assert status == (200 if has_section else 404), persona
        shown[persona] = has_section
    assert any(shown.values()) and not all(shown.values())
    # Nor for a household that has moved out.
    household_set_status(actor=None, now=T0, household_id=ledger.a1_b.pk, status="moved_out",
                                  reason="迁往县城")
    assert client.get(choices_url).status_code == 404


def test_the_load_warning_past_ten_households_for_a_party_member(world, ledger, login):
    member = _party_member(world, ledger)
    ids = [household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address=f"吴城村{i}号").pk
           for i in range(11)]
    response = login(world.li_qiang).post(reverse("staff:household_contacts_unit", args=[world.grid_a1.pk]),
                                          {"action": "party", "party_member": member.pk, "households": ids},
                                          follow=True)
    assert "现在联系 11 户，多于通常的约 10 户" in response.content.decode()


def test_party_link_ends_from_the_household_page(world, ledger, login):
    member = _party_member(world, ledger)
    link = household_link_party_member(actor=None, now=T0, household_id=ledger.a1_b.pk,
                                                party_member_id=member.pk)
    url = reverse("staff:household_change", args=[ledger.a1_b.pk])
    # Another household's link cannot be ended through this one.
    login(world.li_qiang).post(reverse("staff:household_change", args=[ledger.a1.pk]),
                               {"action": "unlink", "link": link.pk})
    assert HouseholdAssignment.dangerously_unscoped.get(pk=link.pk).ended_at is None
    assert login(world.sun_li).post(url, {"action": "unlink", "link": link.pk}).status_code == 404
    login(world.li_qiang).post(url, {"action": "unlink", "link": link.pk})
    assert HouseholdAssignment.dangerously_unscoped.get(pk=link.pk).ended_at is not None


# --- cases naming a household ------------------------------------------------------------------------------
def _case(actor, ledger_household, **kw):  # type: ignore[no-untyped-def]
    return case_report(actor=actor, now=T0, title=kw.pop("title", "邻里纠纷"), description="两户因宅基地边界发生争执。",
                       category_code="livelihood", channel="field", household_id=ledger_household.pk, **kw).case


def test_staff_intake_names_the_household_and_its_page_lists_the_case(world, ledger, login):
    client = login(world.wang_fang)
    form = client.get(reverse("staff:case_new") + f"?household={ledger.a1.pk}")
    assert f'value="{ledger.a1.pk}"' in form.content.decode()
    response = client.post(reverse("staff:case_new"), {
        "title": "院墙倒塌", "description": "户主反映院墙倒塌，需要帮助。", "category": "livelihood",
        "urgency": "ordinary", "channel": "field", "household_id": str(ledger.a1.pk), "idempotency_key": "k1"})
    assert response.status_code == 302
    case = Case.dangerously_unscoped.get(title="院墙倒塌")
    assert case.household_id == ledger.a1.pk and case.unit_id == world.grid_a1.pk  # the household's grid
    assert AuditEvent.objects.get(action="case.report", object_id=str(case.pk)).detail["household"] == ledger.a1.pk
    page = client.get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert case.number in page and "院墙倒塌" in page
    assert "院墙倒塌" not in client.get(reverse("staff:household_detail", args=[ledger.a1_b.pk])).content.decode()
    detail = client.get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert reverse("staff:household_detail", args=[ledger.a1.pk]) in detail


def test_a_household_out_of_reach_cannot_be_named(world, ledger, login):
    before = Case.dangerously_unscoped.count()
    for household_id in (ledger.a2.pk, 987654):
        with pytest.raises(ValidationFailed, match="不在您的范围内"):
            _case(world.wang_fang, type("H", (), {"pk": household_id})())
    response = login(world.wang_fang).post(reverse("staff:case_new"), {
        "title": "院墙倒塌", "description": "户主反映院墙倒塌。", "category": "livelihood", "urgency": "ordinary",
        "channel": "field", "unit_id": str(world.grid_a1.pk), "household_id": str(ledger.c1.pk),
        "idempotency_key": "k2"})
    assert "不在您的范围内" in response.content.decode()
    assert Case.dangerously_unscoped.count() == before


def test_api_intake_takes_the_household(world, ledger, login):
    response = login(world.wang_fang).post("/api/cases/", {
        "title": "院墙倒塌", "description": "户主反映院墙倒塌。", "category": "livelihood",
        "household_id": ledger.a1.pk}, content_type="application/json")
    assert response.status_code == 201
    assert Case.dangerously_unscoped.get(pk=response.json()["case"]["id"]).household_id == ledger.a1.pk


CASES_SEEN = {  # persona → which of the two cases (grid A1's, grid B1's) the household pages show them
    "grid_worker": {"a1"}, "grid_head": {"a1"}, "village_secretary": {"a1"}, "township_office": {"a1", "b1"},
    "county_office": {"a1", "b1"},
}


@pytest.mark.parametrize("persona", list(CASES_SEEN))
def test_household_cases_are_scoped(world, ledger, login, persona):
    cases = {"a1": _case(world.zhang_wei, ledger.a1, title="甲户的事"), "b1": _case(world.zhang_wei, ledger.b1,
                                                                                   title="乙户的事")}
    client = login(world.personas()[persona])
    seen = set()
    for h in (ledger.a1, ledger.b1):
        response = client.get(reverse("staff:household_detail", args=[h.pk]))
        if response.status_code == 200:
            seen |= {k for k, c in cases.items() if c.number in response.content.decode()}
            for c in cases.values():  # a listed case links to its page, with its category and status
                if c.number in response.content.decode():
                    assert (f'<a href="{reverse("staff:case_detail", args=[c.pk])}">{c.number}</a> · {c.title} · '
                            f'{c.category.name} · {c.get_status_display()}') in response.content.decode()
            assert {c["pk"] for c in response.context["cases"]} <= {c.pk for c in cases.values()}
    assert seen == CASES_SEEN[persona]


def test_a_case_seen_only_through_the_merge_target(world, ledger):
    """After 合户 the receiving household's page lists the cases of the household merged into it."""
    from gridgov.access.scope import scope_for
    from gridgov.cases import selectors as case_selectors

    case = _case(world.zhang_wei, ledger.a1_b)
    household_merge(actor=None, now=T0, household_id=ledger.a1_b.pk, into_id=ledger.a1.pk)
    other = _case(world.zhang_wei, ledger.a2, title="路灯不亮")  # another household's case: not listed
    own = _case(world.zhang_wei, ledger.a1, title="院墙倒塌")
    scope = scope_for(world.zhao_lei)
    found = case_selectors.cases_for_household(scope=scope, household_id=ledger.a1.pk)
    assert sorted((r["pk"], r["number"], r["status_name"]) for r in found) == sorted(
        [(case.pk, case.number, "待受理"), (own.pk, own.number, "待受理")])
    assert other.pk not in {r["pk"] for r in found}
    # The merged household's page is not the receiving one's: it lists its own case only.
    assert [r["pk"] for r in case_selectors.cases_for_household(scope=scope, household_id=ledger.a1_b.pk)] == [
        case.pk]


def test_department_handler_sees_no_household_on_a_dispatched_case(world, ledger, login):
    case = _case(world.zhang_wei, ledger.a1)
    from gridgov.cases.transitions import case_act

    now = T0 + dt.timedelta(hours=1)
    case_act(actor=world.zhang_wei, now=now, case_id=case.pk, action="accept")
    case_act(actor=world.zhang_wei, now=now, case_id=case.pk, action="dispatch", department_id=world.department.pk)
    page = login(world.liu_yang).get(reverse("staff:case_detail", args=[case.pk]))
    assert page.status_code == 200
    assert reverse("staff:household_detail", args=[ledger.a1.pk]) not in page.content.decode()
