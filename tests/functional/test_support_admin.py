"""The support admin at /support/: scoped lists, and every change through a service."""

from __future__ import annotations

import pytest

from gridgov.access.models import Grant
from gridgov.audit.models import AuditEvent
from gridgov.units.models import Unit, UnitEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(world, login):  # type: ignore[no-untyped-def]
    """login as a support-staff member (is_staff) with their grants."""

    def _support(user):  # type: ignore[no-untyped-def]
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        return login(user)

    return _support


def unit_form(unit: Unit, **overrides: object) -> dict:
    data = {"name": unit.name, "serial": unit.serial, "grid_type": unit.grid_type,
            "division_code": unit.division_code or "", "grid_level": unit.grid_level or "",
            "household_estimate": unit.household_estimate or "", "sort_order": unit.sort_order}
    data.update(overrides)
    return data


def test_non_staff_are_sent_to_the_support_login(world, login):
    response = login(world.zhang_wei).get("/support/access/grant/")
    assert response.status_code == 302 and "/support/login/" in response.url


def test_unit_list_is_scoped(world, support):
    html = support(world.sun_li).get("/support/units/unit/").content.decode()
    assert "驼峰村第一网格" in html and "吴城乡" not in html
    client = support(world.sun_li)
    # A unit of another township is not there at all: the admin redirects with "does not exist".
    response = client.get(f"/support/units/unit/{world.township.pk}/change/")
    assert response.status_code == 302
    assert Unit.dangerously_unscoped.get(pk=world.township.pk).name == "吴城乡"


def test_unit_edit_goes_through_the_service(world, support):
    client = support(world.zhang_wei)
    response = client.post(f"/support/units/unit/{world.grid_b1.pk}/change/",
                           unit_form(world.grid_b1, name="东坊村一组"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Unit.dangerously_unscoped.get(pk=world.grid_b1.pk).name == "东坊村一组"
    assert UnitEvent.objects.filter(unit=world.grid_b1, action="updated").exists()
    assert AuditEvent.objects.filter(action="unit.update", object_id=str(world.grid_b1.pk),
                                     actor=world.zhang_wei).exists()


def test_bad_unit_edit_in_admin_writes_nothing(world, support):
    client = support(world.zhang_wei)
    before = (AuditEvent.objects.count(), UnitEvent.objects.count())
    response = client.post(f"/support/units/unit/{world.grid_b1.pk}/change/",
                           unit_form(world.grid_b1, serial="B1", division_code="140225204000"), follow=True)
    html = response.content.decode()
    assert "140225204000" in html and ("已被" in html or "已被其他单位使用" in html)
    assert (AuditEvent.objects.count(), UnitEvent.objects.count()) == before
    assert Unit.dangerously_unscoped.get(pk=world.grid_b1.pk).division_code is None


def test_grid_head_cannot_edit_units_in_admin(world, support):
    client = support(world.zhao_lei)
    client.post(f"/support/units/unit/{world.grid_a1.pk}/change/", unit_form(world.grid_a1, name="改名"))
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).name == "吴城村第一网格"


def test_revoke_action_goes_through_the_service(world, support):
    grant = Grant.dangerously_unscoped.get(user=world.qian_duo, revoked_at__isnull=True)
    foreign = Grant.dangerously_unscoped.get(user=world.sun_li, revoked_at__isnull=True)
    client = support(world.zhang_wei)
    html = client.get("/support/access/grant/").content.decode()
    assert "钱多" in html and "孙丽" not in html
    client.post("/support/access/grant/", {"action": "revoke", "_selected_action": [grant.pk, foreign.pk]})
    assert Grant.dangerously_unscoped.get(pk=grant.pk).revoked_at is not None
    assert Grant.dangerously_unscoped.get(pk=foreign.pk).revoked_at is None  # outside the queryset: never touched
    assert AuditEvent.objects.filter(action="grant.revoke", object_id=str(grant.pk)).exists()


def test_unlock_action_is_audited(world, support):
    client = support(world.zhang_wei)
    client.post("/support/access/user/", {"action": "unlock", "_selected_action": [world.wang_fang.pk]})
    assert AuditEvent.objects.filter(action="account.unlock", object_id=str(world.wang_fang.pk)).exists()


def test_audit_log_only_for_audit_admins(world, support, login):
    assert support(world.zhang_wei).get("/support/audit/auditevent/").status_code == 403
    html = support(world.wu_gang).get("/support/audit/auditevent/").content.decode()
    assert "grant.create" in html


def test_the_audit_admin_reads_the_audit_log_from_the_menu_without_support_staff_status(world, login):
    assert not world.wu_gang.is_staff
    auditor = login(world.wu_gang)
    home = auditor.get("/").content.decode()
    assert 'href="/support/audit/auditevent/"' in home and "审计日志" in home
    page = auditor.get("/support/audit/auditevent/")
    assert page.status_code == 200 and "grant.create" in page.content.decode()
    # Inside, only the audit log: the other lists need permissions the audit admin does not hold.
    assert auditor.get("/support/units/unit/").status_code == 403
    assert auditor.get("/support/access/user/").status_code == 403
    # Others without support staff status are still sent to the support sign-in, audit log or not.
    for who in (world.zhang_wei, world.zheng_hong, world.wang_fang):
        assert not who.is_staff
        response = login(who).get("/support/audit/auditevent/")
        assert response.status_code == 302 and "/support/login/" in response["Location"]


def test_service_refusal_in_admin_is_shown_and_rolled_back(world, support):
    client = support(world.zhang_wei)
    before = (AuditEvent.objects.count(), UnitEvent.objects.count())
    response = client.post(f"/support/units/unit/{world.grid_a1.pk}/change/",
                           unit_form(world.grid_a1, serial="A2", name="改名"), follow=True)
    assert "同一上级下已有编号为 A2 的网格。" in response.content.decode()
    assert (AuditEvent.objects.count(), UnitEvent.objects.count()) == before
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).name == "吴城村第一网格"
