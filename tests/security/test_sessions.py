"""Sessions end for real at logout (the row is gone, the old cookie reaches nothing, the API included:
the API has no tokens of its own, it runs on the same short-lived session); a full export and an
approval ask for a fresh second factor like an unmasking does."""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from gridgov.access.models import TotpDevice
from gridgov.access.totp import _PURPOSE
from gridgov.audit.models import AuditEvent
from gridgov.core import fieldcrypto
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def test_logout_destroys_the_session_and_the_api_follows_it(world):
    client = Client()
    assert client.post("/login/", {"username": "wangfang", "password": PASSWORD}).status_code == 302
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    assert client.get("/api/units/").status_code == 200
    client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(action="auth.logout", actor=world.wang_fang).exists()
    stale = Client()
    stale.cookies["sessionid"] = key  # someone kept the old cookie
    assert stale.get("/units/").status_code == 302
    assert stale.get("/api/units/").status_code in (401, 403)


def test_a_full_export_asks_for_a_fresh_code(world, settings):
    settings.GRIDGOV_REQUIRE_TOTP = True
    client = Client()
    assert client.post("/login/", {"username": "zhangwei", "password": PASSWORD}).status_code == 302
    client.get("/2fa/")
    secret = fieldcrypto.decrypt(TotpDevice.objects.get(user=world.zhang_wei).secret_cipher, purpose=_PURPOSE)
    client.post("/2fa/", {"code": pyotp.TOTP(secret).now()})
    session = client.session
    session["_gridgov_otp_at"] = session["_gridgov_otp_at"] - 11 * 60  # the code is 11 minutes old
    session.save()
    response = client.get("/households/export.xlsx")
    assert response.status_code == 302 and "step_up=1" in response.url
    assert not AuditEvent.objects.filter(action__in=["household.export", "export.request"]).exists()
