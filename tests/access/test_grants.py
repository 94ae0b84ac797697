"""Grants: a role at a unit covers its subtree; bad grants are refused and nothing is written."""

from __future__ import annotations

import pytest

from gridgov.access.models import Grant
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.access.services import grant_create, grant_revoke, user_create
from gridgov.audit.models import AuditEvent
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.world import T0

pytestmark = pytest.mark.django_db


def new_user(username: str = "xinren", name: str = "辛仁"):  # type: ignore[no-untyped-def]
    return user_create(actor=None, now=T0, username=username, full_name=name, password=None)


def test_grant_covers_the_subtree_and_is_audited(world):
    user = new_user()
    grant_create(actor=world.li_qiang, now=T0, user=user, role_code="grid_worker_part", unit=world.grid_a2)
    scope = scope_for(user)
    assert scope.can(P.HOUSEHOLD_EDIT, world.grid_a2.path)
    assert not scope.can(P.HOUSEHOLD_EDIT, world.grid_a1.path)
    row = AuditEvent.objects.get(action="grant.create", detail__user="xinren")
    assert row.actor_id == world.li_qiang.pk
    assert row.role == "village_secretary"


def test_grant_at_a_unit_outside_the_granters_scope_is_refused(world):
    user = new_user()
    with pytest.raises(NotFound):
        grant_create(actor=world.li_qiang, now=T0, user=user, role_code="grid_worker_full", unit=world.grid_b1)
    with pytest.raises(NotFound):
        grant_create(actor=world.zhang_wei, now=T0, user=user, role_code="grid_worker_full", unit=world.grid_c1)
    assert not Grant.dangerously_unscoped.filter(user=user).exists()


def test_a_grid_worker_cannot_grant(world):
    with pytest.raises(PermissionDenied):
        grant_create(actor=world.wang_fang, now=T0, user=new_user(), role_code="grid_worker_full", unit=world.grid_a1)


def test_grid_worker_in_two_townships_is_refused(world):
    with pytest.raises(ValidationFailed, match="吴城乡"):
        grant_create(actor=world.chen_jing, now=T0, user=world.wang_fang, role_code="grid_worker_part",
                     unit=world.grid_c1)
    assert Grant.dangerously_unscoped.filter(user=world.wang_fang).count() == 1
    # Two grids of the same township are fine.
    grant_create(actor=world.zhang_wei, now=T0, user=world.wang_fang, role_code="grid_worker_part",
                 unit=world.grid_b1)


def test_the_three_admin_duties_are_kept_apart(world):
    with pytest.raises(ValidationFailed, match="不同人员"):
        grant_create(actor=None, now=T0, user=world.zhou_min, role_code="audit_admin", unit=world.county)


def test_department_handler_needs_a_department_of_that_unit(world):
    user = new_user()
    with pytest.raises(ValidationFailed, match="部门"):
        grant_create(actor=world.zhang_wei, now=T0, user=user, role_code="department_handler", unit=world.township)
    with pytest.raises(ValidationFailed, match="部门"):
        grant_create(actor=world.chen_jing, now=T0, user=user, role_code="department_handler", unit=world.county,
                     department=world.department)


def test_unknown_role_is_refused(world):
    with pytest.raises(ValidationFailed, match="未知的角色"):
        grant_create(actor=world.zhang_wei, now=T0, user=new_user(), role_code="emperor", unit=world.township)


def test_revoked_grant_ends_the_scope(world):
    grant = Grant.dangerously_unscoped.get(user=world.wang_fang)
    grant_revoke(actor=world.li_qiang, now=T0, grant_id=grant.pk)
    world.wang_fang.refresh_from_db()
    assert scope_for(world.wang_fang).is_empty
    assert AuditEvent.objects.filter(action="grant.revoke").count() == 1


def test_audit_log_is_append_only(world):
    row = AuditEvent.objects.first()
    assert row is not None
    with pytest.raises(RuntimeError):
        row.save()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.update(action="x")


def test_login_and_failed_login_are_audited(world, client):
    assert client.post("/login/", {"username": "wangfang", "password": "wrong-password"}).status_code == 200
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_username == "wangfang"
    assert failed.outcome == "failure"
    assert "wrong-password" not in str(failed.detail)
    response = client.post("/login/", {"username": "wangfang", "password": "Grid-Test-2026"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=world.wang_fang).exists()
