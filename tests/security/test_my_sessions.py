"""Users see their own signed-in sessions and end any of them: the other device is signed out at
once (its API calls too); nobody sees or ends another's sessions."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from gridgov.access.models import StaffSession
from gridgov.audit.models import AuditEvent
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def sign_in(username: str, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_a_user_sees_and_ends_their_own_sessions(world):
    office = sign_in("wangfang", "Office PC")
    phone = sign_in("wangfang", "Phone")
    other = sign_in("zhaolei", "Head's phone")
    page = office.get(reverse("staff:my_sessions")).content.decode()
    assert "Office PC" in page and "Phone" in page and "Head's phone" not in page and "当前设备" in page
    phone_row = StaffSession.objects.get(user=world.wang_fang, user_agent="Phone")
    # Someone else cannot end it (not found, like a missing one).
    assert other.post(reverse("staff:session_end", args=[phone_row.pk])).status_code == 404
    assert phone.get("/units/").status_code == 200
    assert office.post(reverse("staff:session_end", args=[phone_row.pk])).status_code == 302
    assert phone.get("/units/").status_code == 302  # signed out at once
    assert phone.get("/api/units/").status_code in (401, 403)
    assert office.get("/units/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.session_end", actor=world.wang_fang).count() == 1
    assert "Phone<" not in office.get(reverse("staff:my_sessions")).content.decode()


def test_logout_ends_the_session_in_the_list(world):
    client = sign_in("wangfang", "Office PC")
    client.post("/logout/")
    assert StaffSession.objects.get(user=world.wang_fang).ended_at is not None


def test_the_list_follows_the_new_key_after_the_second_factor(world, settings):
    import pyotp

    from gridgov.access.models import TotpDevice
    from gridgov.access.totp import _PURPOSE
    from gridgov.core import fieldcrypto

    settings.GRIDGOV_REQUIRE_TOTP = True
    client = sign_in("zhangwei", "Office PC")
    client.get("/2fa/")
    secret = fieldcrypto.decrypt(TotpDevice.objects.get(user=world.zhang_wei).secret_cipher, purpose=_PURPOSE)
    client.post("/2fa/", {"code": pyotp.TOTP(secret).now(), "next": "/units/"})
    client.get("/units/")
    row = StaffSession.objects.get(user=world.zhang_wei)
    assert row.session_key == client.cookies["sessionid"].value
    assert [s.pk for s in __import__("gridgov.access.sessions", fromlist=["x"]).sessions_of(user=world.zhang_wei)] \
        == [row.pk]
