"""Proxies trusted by configuration: the client address comes from X-Real-IP / X-Forwarded-For only
when the peer (REMOTE_ADDR) is in GRIDGOV_TRUSTED_PROXIES; the login throttle and the audit log key
on that address, so a forged header per request changes nothing (the outside test's finding 5)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from gridgov.access import lockout
from gridgov.audit.models import AuditEvent
from gridgov.core.middleware import client_ip
from tests.world import PASSWORD

NGINX = ["127.0.0.1/32", "::1/128"]


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _ip(peer: str, **headers: str) -> str | None:
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=peer, **headers))


def test_headers_from_an_untrusted_peer_are_ignored():
    with override_settings(GRIDGOV_TRUSTED_PROXIES=NGINX):
        assert _ip("203.0.113.7", HTTP_X_REAL_IP="10.0.0.1") == "203.0.113.7"
        assert _ip("203.0.113.7", HTTP_X_FORWARDED_FOR="10.0.0.1") == "203.0.113.7"
    with override_settings(GRIDGOV_TRUSTED_PROXIES=[]):  # nothing configured: even loopback is a client
        assert _ip("127.0.0.1", HTTP_X_REAL_IP="10.0.0.1") == "127.0.0.1"


def test_a_trusted_proxys_headers_name_the_client():
    with override_settings(GRIDGOV_TRUSTED_PROXIES=[*NGINX, "10.8.0.0/16"]):
        assert _ip("127.0.0.1", HTTP_X_REAL_IP="203.0.113.7") == "203.0.113.7"
        assert _ip("::1", HTTP_X_REAL_IP="2001:db8::5") == "2001:db8::5"
        # X-Forwarded-For: the nearest hop that is not itself a trusted proxy (the left part is the client's to forge).
        assert _ip("127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7, 10.8.1.1") == "203.0.113.7"
        # A garbled header falls back to the peer.
        assert _ip("127.0.0.1", HTTP_X_REAL_IP="not-an-address") == "127.0.0.1"
        assert _ip("127.0.0.1", HTTP_X_FORWARDED_FOR="10.8.1.1, junk") == "127.0.0.1"


def test_a_bad_setting_stops_the_start_up():
    env = {**os.environ, "GRIDGOV_TRUSTED_PROXIES": "127.0.0.1/32,nginx", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "GRIDGOV_TRUSTED_PROXIES" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("trusted", [False, True])
def test_a_forged_header_per_request_does_not_escape_the_login_throttle(world, trusted):
    """From an untrusted peer the forged X-Real-IP is ignored: the peer is throttled. Behind a trusted
    proxy the proxy's own header is the address, and the same client is throttled by it."""
    client = Client()
    peer = "127.0.0.1" if trusted else "198.51.100.9"
    with override_settings(GRIDGOV_TRUSTED_PROXIES=NGINX):
        for i in range(lockout.MAX_FAILURES_PER_IP):
            forged = {"HTTP_X_REAL_IP": "203.0.113.50" if trusted else f"10.77.{i // 250}.{i % 250}"}
            client.post(reverse("staff:login"), {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR=peer,
                        **forged)
        lock = AuditEvent.objects.get(action="auth.lockout", detail__by="ip")
        assert lock.ip == ("203.0.113.50" if trusted else "198.51.100.9")
        again = client.post(reverse("staff:login"), {"username": "zhangwei", "password": PASSWORD},
                            REMOTE_ADDR=peer, HTTP_X_REAL_IP="203.0.113.50" if trusted else "10.99.99.99")
        assert lockout.LOCKED_MESSAGE in again.content.decode()
        if trusted:  # another client behind the same proxy is not affected
            other = Client().post(reverse("staff:login"), {"username": "zhangwei", "password": PASSWORD},
                                  REMOTE_ADDR=peer, HTTP_X_REAL_IP="203.0.113.51")
            assert other.status_code == 302


@pytest.mark.django_db
def test_audit_rows_record_the_real_address(world):
    with override_settings(GRIDGOV_TRUSTED_PROXIES=NGINX):
        Client().post("/login/", {"username": "zhaolei", "password": PASSWORD}, REMOTE_ADDR="198.51.100.9",
                      HTTP_X_REAL_IP="10.1.1.1", HTTP_X_FORWARDED_FOR="10.1.1.2")
        Client().post("/login/", {"username": "wangfang", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                      HTTP_X_REAL_IP="203.0.113.8")
    rows = dict(AuditEvent.objects.filter(action="auth.login").values_list("actor_username", "ip"))
    assert rows == {"zhaolei": "198.51.100.9", "wangfang": "203.0.113.8"}
