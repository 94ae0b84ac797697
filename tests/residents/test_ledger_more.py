from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.residents.caretakers import household_assign_worker, household_link_party_member
from gridgov.residents.households import household_set_status, household_update
from gridgov.residents.members import resident_add, resident_set_status, resident_update
from gridgov.residents.models import Household, HouseholdAssignment, Resident
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_every_ledger_page_by_every_persona_shows_no_full_id_or_phone(world, ledger, login):
    """The autouse guard in conftest fails any response carrying a sealed plaintext to a user
    without resident.unmask; here every GET page and API of the ledger is walked by every persona."""
    resident_update(actor=None, now=T0, resident_id=ledger.child.pk, phone="0352-7654321")
    member = ledger.wang_wei
    urls = [
        reverse("staff:household_list"), reverse("staff:household_detail", args=[ledger.a1.pk]),
        reverse("staff:household_edit", args=[ledger.a1.pk]), reverse("staff:resident_add", args=[ledger.a1.pk]),
        reverse("staff:resident_edit", args=[member.pk]), reverse("staff:resident_move", args=[member.pk]),
        reverse("staff:resident_unmask", args=[member.pk]), reverse("staff:household_export"),
        "/api/households/", f"/api/households/{ledger.a1.pk}", "/api/openapi.json",
    ]
    for persona, user in world.personas().items():
        client = login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 302, 403, 404), (persona, url, response.status_code)
        client.post(reverse("staff:household_list"), {"q": "13812345678"})
        client.post(reverse("staff:household_list"), {"q": ledger.wang_wei_id})


def test_tags_through_the_page_and_sensitive_history_hidden(world, ledger, login):
    head = login(world.zhao_lei)
    url = reverse("staff:household_tag_add", args=[ledger.a1.pk])
    assert head.post(url, {"tag": "left_behind_child", "resident": ledger.child.pk}).status_code == 302
    assert head.post(url, {"tag": "dibao"}).status_code == 302
    worker_page = login(world.wang_fang).get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "留守儿童" not in worker_page and "低保户" not in worker_page
    head_page = head.get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "留守儿童" in head_page and "低保户" in head_page
    # the grid worker cannot end a tag they cannot see
    assignment = ledger.a1.tags.get(tag__code="dibao")
    end = reverse("staff:household_tag_end", args=[ledger.a1.pk, assignment.pk])
    assert login(world.wang_fang).post(end).status_code == 404
    assert head.post(end).status_code == 302
    # a tag for a person of another household is refused
    other = Resident.dangerously_unscoped.get(household=ledger.a1_b)
    head.post(url, {"tag": "veteran", "resident": other.pk})
    assert not other.tags.exists()


def test_grid_worker_assignment_and_party_member_link(world, ledger):
    a = household_assign_worker(actor=world.li_qiang, now=T0, household_id=ledger.a1.pk,
                                         user=world.wang_fang)
    assert a.kind == "grid_worker"
    with pytest.raises(ValidationFailed, match="不负责"):
        household_assign_worker(actor=world.li_qiang, now=T0, household_id=ledger.a1.pk,
                                         user=world.qian_duo)  # worker of A2
    resident_update(actor=None, now=T0, resident_id=ledger.wang_wei.pk, political_status="中共党员")
    link = household_link_party_member(actor=world.li_qiang, now=T0, household_id=ledger.a1_b.pk,
                                                party_member_id=ledger.wang_wei.pk)
    assert link.party_member_id == ledger.wang_wei.pk
    with pytest.raises(ValidationFailed, match="不是党员"):
        household_link_party_member(actor=world.li_qiang, now=T0, household_id=ledger.a1.pk,
                                             party_member_id=ledger.child.pk)
    with pytest.raises(NotFound):
        household_link_party_member(actor=world.wang_fang, now=T0, household_id=ledger.a2.pk,
                                             party_member_id=ledger.wang_wei.pk)
    assert HouseholdAssignment.dangerously_unscoped.filter(ended_at__isnull=True).count() == 2


def test_status_changes_free_the_id_number_for_a_new_registration(world, ledger):
    household_set_status(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk,
                                  status="moved_out", reason="全家迁往县城")
    assert Household.dangerously_unscoped.get(pk=ledger.a1_b.pk).status == "moved_out"
    moved = Resident.dangerously_unscoped.get(household=ledger.a1_b)
    assert moved.status == "moved_out"
    with pytest.raises(ValidationFailed, match="已迁出"):
        household_update(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, address="x")
    from gridgov.residents import protected

    resident_add(actor=world.zhang_wei, now=T0, household_id=ledger.b1.pk, name=moved.name,
                          id_number=protected.reveal_id(moved.id_cipher), relation="其他")
    resident_set_status(actor=world.wang_fang, now=T0, resident_id=ledger.child.pk, status="deceased",
                                 reason="")
    assert Resident.dangerously_unscoped.get(pk=ledger.child.pk).status == "deceased"


def test_grid_worker_cannot_open_a_minors_edit_form(world, ledger, login):
    assert login(world.wang_fang).get(reverse("staff:resident_edit", args=[ledger.child.pk])).status_code == 403
    assert login(world.zhao_lei).get(reverse("staff:resident_edit", args=[ledger.child.pk])).status_code == 200


def test_a_grid_worker_cannot_overwrite_health_they_may_not_see(world, ledger, login):
    from gridgov.core.errors import PermissionDenied
    from gridgov.residents.members import resident_update
    from tests.world import T0

    with pytest.raises(PermissionDenied):
        resident_update(actor=world.wang_fang, now=T0, resident_id=ledger.wang_wei.pk,
                                        health="disabled", disability="肢体二级")
    api = login(world.wang_fang).patch(f"/api/households/residents/{ledger.wang_wei.pk}",
                                       {"version": ledger.wang_wei.version, "disability": "肢体二级"},
                                       content_type="application/json")
    assert api.status_code == 403
    ledger.wang_wei.refresh_from_db()
    assert ledger.wang_wei.disability == ""
    # The grid head, who sees sensitive facts, may record them.
    resident_update(actor=world.zhao_lei, now=T0, resident_id=ledger.wang_wei.pk,
                                    disability="肢体二级")
