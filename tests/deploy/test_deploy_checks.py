"""`manage.py check --deploy` refuses what would put a deployment at risk: a loopback public address (every QR
board and tracking SMS would point at the server itself), missing field keys, DEBUG on, a placeholder secret."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from gridgov.core import checks, fieldcrypto

GOOD_KEY = "k" * 60


def ids(messages: list) -> set[str]:
    return {m.id for m in messages}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "https://[::1]/",
                                 "http://0.0.0.0", "http://grid.localhost", "not a url"])
def test_loopback_or_bad_public_address_is_an_error(url: str) -> None:
    with override_settings(GRIDGOV_PUBLIC_BASE_URL=url):
        assert ids(checks.check_public_base_url()) == {"gridgov.E001"}


def test_a_real_public_address_passes_and_plain_http_is_warned() -> None:
    with override_settings(GRIDGOV_PUBLIC_BASE_URL="https://grid.example.gov.cn"):
        assert checks.check_public_base_url() == []
    with override_settings(GRIDGOV_PUBLIC_BASE_URL="http://10.1.2.3"):
        assert ids(checks.check_public_base_url()) == {"gridgov.W001"}


def test_missing_field_key_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDGOV_FIELD_KEY", raising=False)
    monkeypatch.setenv("GRIDGOV_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
    with override_settings(TESTING=False):
        assert ids(checks.check_field_keys()) == {"gridgov.E002"}
    monkeypatch.setenv("GRIDGOV_FIELD_KEY", base64.b64encode(os.urandom(32)).decode())
    with override_settings(TESTING=False):
        assert checks.check_field_keys() == []
    fieldcrypto.reset_keys()


def test_debug_and_placeholder_secret_are_errors() -> None:
    with override_settings(DEBUG=True):
        assert ids(checks.check_debug()) == {"gridgov.E003"}
    with override_settings(DEBUG=False):
        assert checks.check_debug() == []
    with override_settings(SECRET_KEY="change-me-to-50-random-characters"):
        assert ids(checks.check_secret_key()) == {"gridgov.E004"}
    with override_settings(SECRET_KEY=GOOD_KEY):
        assert checks.check_secret_key() == []


def test_check_deploy_stops_on_a_loopback_public_address() -> None:
    with override_settings(GRIDGOV_PUBLIC_BASE_URL="http://127.0.0.1:8000", SECRET_KEY=GOOD_KEY), \
            pytest.raises(SystemCheckError, match=r"gridgov\.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR", verbosity=0)
