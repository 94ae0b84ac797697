"""The audited events (等保 level 3, 安全审计): each carries time, actor, role, IP, event, object,
outcome and request id; the audit log's own reading is audited; an audit write failure fails the
operation; the three admins are kept apart (the system admin reads no residents and no audit log,
the audit admin only the audit log)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from gridgov.access.models import Grant
from gridgov.access.services import grant_create
from gridgov.audit.models import AuditEvent
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db

HEADERS = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_REQUEST_ID": "req-audit-0001"}


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def test_every_row_carries_time_actor_role_ip_event_object_outcome_and_request_id(world, ledger):
    client = Client(**HEADERS)
    assert client.post("/login/", {"username": "zhaolei", "password": PASSWORD}).status_code == 302
    client.get(reverse("staff:household_detail", args=[ledger.a1.pk]))
    view = AuditEvent.objects.get(action="household.view")
    assert view.at is not None and view.actor == world.zhao_lei and view.actor_username == "zhaolei"
    assert view.role == "grid_head" and view.ip == "10.1.2.3" and view.request_id == "req-audit-0001"
    assert (view.object_type, view.object_id) == ("residents.household", str(ledger.a1.pk))
    assert view.outcome == "success" and view.unit_path == ledger.a1.unit.path
    login = AuditEvent.objects.get(action="auth.login")
    assert login.ip == "10.1.2.3" and login.request_id == "req-audit-0001" and login.actor == world.zhao_lei
    failed = Client(**HEADERS).post("/login/", {"username": "zhaolei", "password": "wrong"})
    assert failed.status_code == 200
    row = AuditEvent.objects.get(action="auth.login_failed")
    assert row.outcome == "failure" and row.ip == "10.1.2.3" and row.actor_username == "zhaolei"


@pytest.mark.parametrize("action", [
    "auth.login", "auth.login_failed", "account.create", "grant.create", "household.view", "resident.unmask",
    "household.export", "case.print", "policy.update", "audit.query",
])
def test_the_audited_events_list_is_written_by_the_code(action):
    """Each event of the list has a writer in the code (the behaviour is tested where it lives)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gridgov"
    found = subprocess.run(["grep", "-rl", f'"{action}"', str(root)], capture_output=True, text=True).stdout
    assert found.strip(), action


def test_reading_the_audit_log_is_audited_and_sign_ins_are_visible_to_the_audit_admin(world, login):
    Client(**HEADERS).post("/login/", {"username": "zhangwei", "password": "wrong"})
    world.wu_gang.is_staff = True
    world.wu_gang.save(update_fields=["is_staff"])
    auditor = login(world.wu_gang)
    page = auditor.get("/support/audit/auditevent/?action=auth.login_failed")
    assert page.status_code == 200 and "auth.login_failed" in page.content.decode()
    query = AuditEvent.objects.get(action="audit.query")
    assert query.actor == world.wu_gang and query.role == "audit_admin"
    assert query.detail["query"] == {"action": "auth.login_failed"}
    row = AuditEvent.objects.filter(action="auth.login_failed").first()
    assert auditor.get(f"/support/audit/auditevent/{row.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="audit.query", object_id=str(row.pk)).exists()


def test_an_audit_write_failure_fails_the_operation(world):
    grants = Grant.dangerously_unscoped.count()
    # The row is written by insert_one (audit_record) or one bulk INSERT (audit_record_many): fail both.
    full = DatabaseError("disk full")
    with mock.patch("gridgov.audit.services.insert_one", side_effect=full), \
            mock.patch("gridgov.audit.services.AuditEvent.objects.bulk_create", side_effect=full), \
            pytest.raises(DatabaseError):
        grant_create(actor=world.zhang_wei, now=T0, user=world.qian_duo, role_code="grid_worker_full",
                     unit=world.grid_b1)
    assert Grant.dangerously_unscoped.count() == grants


def test_the_three_admins_are_kept_apart(world, ledger, login):
    for user in (world.zhou_min, world.wu_gang, world.zheng_hong):
        client = login(user)
        assert client.get(reverse("staff:household_list")).status_code == 404
        assert client.get(reverse("staff:household_detail", args=[ledger.a1.pk])).status_code == 404
        assert client.get(reverse("staff:resident_unmask", args=[ledger.wang_wei.pk])).status_code == 404
        assert client.get("/api/households/").json()["items"] == []
        assert client.get(reverse("staff:household_export")).status_code == 404
    for user in (world.zhou_min, world.zheng_hong, world.zhang_wei):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        assert login(user).get("/support/audit/auditevent/").status_code == 403
    # Only the security admin manages the policies.
    assert login(world.zhou_min).get(reverse("staff:security_policy")).status_code == 404
    assert login(world.zheng_hong).get(reverse("staff:security_policy")).status_code == 200
    # One person cannot hold two admin duties.
    from gridgov.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="须由不同人员担任"):
        grant_create(actor=None, now=T0, user=world.zhou_min, role_code="audit_admin", unit=world.county)
