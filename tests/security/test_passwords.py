"""Passwords expire (policy, default 90 days) and must be replaced before anything else; the first
admins (the create_admin command, Django's createsuperuser, the demo's admin accounts) must replace
their password at first sign-in, and the forced change enforces the admin rule."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from gridgov.access.models import Grant, User
from gridgov.access.policy import policy_update
from gridgov.audit.models import AuditEvent
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    state = {"now": T0}

    def read() -> dt.datetime:
        return state["now"]

    with mock.patch("gridgov.interfaces.staff.forms.now", read), \
            mock.patch("gridgov.access.signals.now", read), \
            mock.patch("gridgov.interfaces.staff.views.now", read), \
            mock.patch("gridgov.interfaces.session_policy.now", read):
        yield state


def sign_in(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("staff:login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def change(client: Client, old: str, new: str) -> str:
    response = client.post(reverse("staff:password_change"),
                           {"old_password": old, "new_password": new, "new_password_again": new})
    return "saved" if response.status_code == 302 else response.content.decode()


def test_a_password_older_than_90_days_must_be_replaced_before_anything_else(world, clock):
    User.objects.filter(pk=world.wang_fang.pk).update(password_changed_at=T0)
    clock["now"] = T0 + dt.timedelta(days=89)
    client = sign_in("wangfang")
    assert client.get(reverse("staff:unit_tree")).status_code == 200
    client.logout()
    clock["now"] = T0 + dt.timedelta(days=91)
    client = sign_in("wangfang")
    response = client.get(reverse("staff:unit_tree"))
    assert response.status_code == 302 and response.url == reverse("staff:password_change")
    assert client.get("/households/").url == reverse("staff:password_change")
    assert client.get("/api/units/").status_code == 302
    page = client.get(reverse("staff:password_change")).content.decode()
    assert "已超过 90 天未更换" in page
    assert "密码需包含" in change(client, PASSWORD, "lowercaseonly")
    assert "新密码不能与当前密码相同" in change(client, PASSWORD, PASSWORD)
    assert change(client, PASSWORD, "Wang-fang-new-7") == "saved"
    user = User.objects.get(pk=world.wang_fang.pk)
    assert user.password_changed_at == T0 + dt.timedelta(days=91)
    event = AuditEvent.objects.get(action="account.password_change", actor=user)
    assert event.detail == {"reason": "expired"}
    assert client.get(reverse("staff:unit_tree")).status_code == 200


def test_the_lifetime_is_the_security_admins_policy(world, clock):
    policy_update(actor=world.zheng_hong, now=T0, password_max_age_days=30)
    User.objects.filter(pk=world.wang_fang.pk).update(password_changed_at=T0)
    clock["now"] = T0 + dt.timedelta(days=31)
    client = sign_in("wangfang")
    assert client.get(reverse("staff:unit_tree")).url == reverse("staff:password_change")


def test_an_account_that_never_changed_its_password_counts_from_its_creation(world, clock):
    User.objects.filter(pk=world.wang_fang.pk).update(password_changed_at=None, date_joined=T0)
    clock["now"] = T0 + dt.timedelta(days=91)
    client = sign_in("wangfang")
    assert client.get(reverse("staff:unit_tree")).url == reverse("staff:password_change")


def test_create_admin_makes_a_first_admin_who_must_change_the_password(world):
    out = io.StringIO()
    call_command("create_admin", username="admin1", full_name="高洁", role="system_admin", unit=world.county.pk,
                 stdout=out)
    password = out.getvalue().split("一次性密码：")[1].split()[0]
    user = User.objects.get(username="admin1")
    assert user.must_change_password and user.check_password(password) and len(password) >= 12
    assert Grant.dangerously_unscoped.filter(user=user, role__code="system_admin", unit=world.county).exists()
    assert AuditEvent.objects.filter(action="account.create", object_id=str(user.pk)).exists()
    client = sign_in("admin1", password)
    assert client.get(reverse("staff:unit_tree")).url == reverse("staff:password_change")
    assert "初始密码" in client.get(reverse("staff:password_change")).content.decode()
    # The forced change applies the admin rule: 12 characters, 3 of 4 classes, not common, not the username.
    assert "至少需要 12 个字符" in change(client, password, "Maple-tree7")
    assert "密码需包含" in change(client, password, "abcdefghijklmnop")
    assert "太常见" in change(client, password, "Password1234")  # in Django's common list
    assert "不能包含用户名" in change(client, password, "Admin1-admin1")
    assert User.objects.get(pk=user.pk).check_password(password)  # nothing written by the refusals
    assert change(client, password, "Gao-jie-admin-2026") == "saved"
    assert not User.objects.get(pk=user.pk).must_change_password
    assert client.get(reverse("staff:unit_tree")).status_code == 200


def test_create_admin_refuses_a_short_password_and_writes_nothing(world, monkeypatch):
    monkeypatch.setenv("GRIDGOV_ADMIN_PASSWORD", "Maple-tree7")
    users = User.objects.count()
    with pytest.raises(CommandError, match="12"):
        call_command("create_admin", username="admin2", full_name="高洁", role="audit_admin", unit=world.county.pk,
                     stdout=io.StringIO())
    assert User.objects.count() == users
    with pytest.raises(CommandError):
        call_command("create_admin", username="admin3", full_name="高洁", role="county_office",
                     unit=world.county.pk, stdout=io.StringIO())


def test_createsuperuser_accounts_must_change_their_password_too(db):
    user = User.objects.create_superuser("root", password="Whatever-long-2026")
    assert user.must_change_password


def test_demo_admin_accounts_have_policy_valid_passwords_and_change_them_first():
    from gridgov.access.world import DEMO_FIRST_CHANGE_ROLES, DEMO_PASSWORD, demo_accounts

    call_command("seed_world", preset="wucheng", seed=1, units_only=True, stdout=io.StringIO())
    accounts = demo_accounts()
    assert accounts
    for account in accounts:
        user = User.objects.get(username=account.username)
        validate_password(DEMO_PASSWORD, user)  # 12 characters for the admin and office roles
        assert user.must_change_password == (account.role_code in DEMO_FIRST_CHANGE_ROLES)
    assert {a.role_code for a in accounts if User.objects.get(username=a.username).must_change_password} \
        == DEMO_FIRST_CHANGE_ROLES


@pytest.mark.parametrize("name", ["admin", "Office", "shared", "guest", "wangge"])
def test_shared_account_names_are_refused(world, name):
    from gridgov.access.services import staff_account_create
    from gridgov.core.errors import ValidationFailed

    users = User.objects.count()
    with pytest.raises(ValidationFailed, match="共用账号"):
        staff_account_create(actor=world.zhang_wei, now=T0, unit=world.grid_b1, role_code="grid_worker_full",
                             username=name, full_name="某某", password="Dongfang-2026!")
    assert User.objects.count() == users


def test_an_account_needs_the_name_of_its_person(world):
    from gridgov.access.services import staff_account_create
    from gridgov.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="姓名"):
        staff_account_create(actor=world.zhang_wei, now=T0, unit=world.grid_b1, role_code="grid_worker_full",
                             username="sunwei", full_name=" ", password="Dongfang-2026!")


def test_argon2_hashes_passwords_outside_tests():
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                          "print(settings.PASSWORD_HASHERS[0])"], capture_output=True, text=True, env=env,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]), check=True)
    assert out.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"
