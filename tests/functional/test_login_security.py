"""Login security: one message for every failure, lockout after 5 failures for 15 minutes, a
per-address throttle, everything audited, idle and absolute session timeouts, a new session id
at login."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from gridgov.access import lockout
from gridgov.audit.models import AuditEvent
from gridgov.interfaces import session_policy
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db

INVALID = "用户名或密码不正确。"


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """Move the wall clock of the login form, the signals and the session policy together."""
    state = {"now": T0}

    def read() -> dt.datetime:
        return state["now"]

    with mock.patch("gridgov.interfaces.staff.forms.now", read), \
            mock.patch("gridgov.access.signals.now", read), \
            mock.patch("gridgov.interfaces.session_policy.now", read):
        yield state


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> str:
    response = client.post(reverse("staff:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)
    return response.content.decode() if response.status_code == 200 else f"redirect {response.status_code}"


def test_same_message_for_unknown_user_and_wrong_password(world, client):
    unknown = attempt(client, "nobody", "whatever")
    wrong = attempt(client, "zhangwei", "wrong-password")
    assert INVALID in unknown and INVALID in wrong
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"


def test_five_failures_lock_the_account_for_15_minutes(world, clock):
    client = Client()
    for _ in range(5):
        assert INVALID in attempt(client, "zhangwei", "wrong-password")
    # Even the right password is refused now, with the lock message.
    assert lockout.LOCKED_MESSAGE in attempt(client, "zhangwei", PASSWORD)
    lockouts = AuditEvent.objects.filter(action="auth.lockout", actor_username="zhangwei", detail__by="account")
    assert lockouts.count() == 1
    # Five checked failures and one refused attempt are all audited as failures.
    assert AuditEvent.objects.filter(action="auth.login_failed", actor_username="zhangwei").count() == 6
    assert AuditEvent.objects.filter(action="auth.login_failed", detail__reason="locked").count() == 1
    clock["now"] = T0 + dt.timedelta(minutes=14)
    assert lockout.LOCKED_MESSAGE in attempt(client, "zhangwei", PASSWORD)
    clock["now"] = T0 + dt.timedelta(minutes=16)
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"


def test_four_failures_do_not_lock_and_a_success_clears_them(world, clock):
    client = Client()
    for _ in range(4):
        attempt(client, "zhangwei", "wrong-password")
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"
    other = Client()
    for _ in range(4):
        attempt(other, "zhangwei", "wrong-password")
    assert attempt(other, "zhangwei", PASSWORD) == "redirect 302"
    assert not AuditEvent.objects.filter(action="auth.lockout").exists()


def test_failures_older_than_the_window_do_not_count(world, clock):
    client = Client()
    for _ in range(4):
        attempt(client, "zhangwei", "wrong-password")
    clock["now"] = T0 + dt.timedelta(minutes=20)
    attempt(client, "zhangwei", "wrong-password")
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"


def test_an_unknown_name_locks_exactly_like_a_real_one(world, clock):
    client = Client()
    for _ in range(5):
        attempt(client, "nosuchuser", "x")
    # The lock does not reveal whether the account exists.
    assert lockout.LOCKED_MESSAGE in attempt(client, "nosuchuser", "x")


def test_one_address_failing_across_many_names_is_throttled(world, clock):
    client = Client()
    for i in range(lockout.MAX_FAILURES_PER_IP):
        attempt(client, f"guess{i}", "x", ip="10.9.9.9")
    assert AuditEvent.objects.filter(action="auth.lockout", detail__by="ip").count() == 1
    assert lockout.LOCKED_MESSAGE in attempt(client, "zhangwei", PASSWORD, ip="10.9.9.9")
    # Another address is not affected.
    assert attempt(Client(), "zhangwei", PASSWORD, ip="10.1.1.1") == "redirect 302"


def test_the_support_admin_login_is_locked_too(world, clock):
    world.zhou_min.is_staff = True
    world.zhou_min.save()
    client = Client()
    for _ in range(5):
        client.post("/support/login/", {"username": "zhoumin", "password": "bad"}, REMOTE_ADDR="10.0.0.2")
    response = client.post("/support/login/", {"username": "zhoumin", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert lockout.LOCKED_MESSAGE in response.content.decode()


def test_login_is_audited_and_gets_a_new_session_id(world):
    client = Client()
    client.get(reverse("staff:login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"
    after = client.cookies["sessionid"].value
    assert after and after != before
    assert AuditEvent.objects.filter(action="auth.login", actor=world.zhang_wei).exists()


def test_idle_session_ends_after_30_minutes(world, clock):
    client = Client()
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"
    clock["now"] = T0 + dt.timedelta(minutes=29)
    assert client.get(reverse("staff:unit_tree")).status_code == 200
    clock["now"] = T0 + dt.timedelta(minutes=29 + 31)
    response = client.get(reverse("staff:unit_tree"))
    assert response.status_code == 302 and response.url.startswith(reverse("staff:login"))
    assert "请重新登录" in client.get(response.url).content.decode()
    assert AuditEvent.objects.filter(action="auth.logout", actor=world.zhang_wei).exists()


def test_busy_session_still_ends_after_12_hours(world, clock):
    client = Client()
    assert attempt(client, "zhangwei", PASSWORD) == "redirect 302"
    for minutes in range(20, 12 * 60, 20):
        clock["now"] = T0 + dt.timedelta(minutes=minutes)
        assert client.get(reverse("staff:home")).status_code == 200, minutes
    clock["now"] = T0 + dt.timedelta(hours=12, minutes=1)
    assert client.get(reverse("staff:home")).status_code == 302


def test_timeouts_are_the_documented_ones():
    assert dt.timedelta(minutes=30) == session_policy.IDLE_TIMEOUT
    assert dt.timedelta(hours=12) == session_policy.ABSOLUTE_TIMEOUT
    assert lockout.MAX_FAILURES_PER_ACCOUNT == 5 and dt.timedelta(minutes=15) == lockout.LOCK_FOR


def test_initial_password_must_be_replaced_first(world, login):
    from django.test import Client as _Client

    from gridgov.access.models import User
    from gridgov.access.services import staff_account_create

    staff_account_create(actor=world.zhang_wei, now=T0, unit=world.grid_b1, role_code="grid_worker_full",
                         username="sunwei", full_name="孙伟", password="Dongfang-2026!")
    client = _Client()
    assert attempt(client, "sunwei", "Dongfang-2026!") == "redirect 302"
    response = client.get(reverse("staff:unit_tree"))
    assert response.status_code == 302 and response.url == reverse("staff:password_change")
    assert "初始密码" in client.get(reverse("staff:password_change")).content.decode()
    bad = client.post(reverse("staff:password_change"), {
        "old_password": "wrong", "new_password": "Qingshan-2026", "new_password_again": "Qingshan-2026"})
    assert "当前密码不正确。" in bad.content.decode()
    mismatch = client.post(reverse("staff:password_change"), {
        "old_password": "Dongfang-2026!", "new_password": "Qingshan-2026", "new_password_again": "other"})
    assert "两次输入的新密码不一致。" in mismatch.content.decode()
    done = client.post(reverse("staff:password_change"), {
        "old_password": "Dongfang-2026!", "new_password": "Qingshan-2026", "new_password_again": "Qingshan-2026"})
    assert done.status_code == 302
    user = User.objects.get(username="sunwei")
    assert not user.must_change_password and user.check_password("Qingshan-2026")
    assert AuditEvent.objects.filter(action="account.password_change", actor=user).exists()
    # Still signed in (the session hash was updated) and now free to work.
    assert client.get(reverse("staff:unit_tree")).status_code == 200
