"""Deployment checks (`manage.py check --deploy`): settings that would put a deployment at risk or print
unusable QR codes. Each is an Error, so `check --deploy --fail-level ERROR` stops a bad installation before it
serves anyone. Messages are for the county's IT team (English, like Django's own checks)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

PLACEHOLDER_SECRETS = {"", "change-me-to-50-random-characters"}


def _is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in {"localhost", "localhost.localdomain", ""} or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_public_base_url(**_: Any) -> list[CheckMessage]:
    url = str(getattr(settings, "GRIDGOV_PUBLIC_BASE_URL", "") or "")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [Error(f"GRIDGOV_PUBLIC_BASE_URL ({url!r}) is not an http(s) address.",
                      hint="Set it to the address residents reach, e.g. https://grid.example.gov.cn",
                      id="gridgov.E001")]
    if _is_loopback_host(parts.hostname):
        return [Error(f"GRIDGOV_PUBLIC_BASE_URL points at this machine ({url}): every printed QR board and "
                      "tracking SMS would lead residents nowhere.",
                      hint="Set it in /etc/gridgov/gridgov.env to the address residents reach.", id="gridgov.E001")]
    if parts.scheme != "https":
        return [Warning(f"GRIDGOV_PUBLIC_BASE_URL ({url}) is not https: residents' reports would travel in clear.",
                        id="gridgov.W001")]
    return []


def check_field_keys(**_: Any) -> list[CheckMessage]:
    from gridgov.core import fieldcrypto

    fieldcrypto.reset_keys()
    try:
        fieldcrypto.keys()
    except ImproperlyConfigured as exc:
        return [Error(f"Personal data cannot be protected: {exc}",
                      hint="Generate 32 random bytes, base64, for GRIDGOV_FIELD_KEY and GRIDGOV_INDEX_KEY; keep them "
                           "outside the database and in the key backup (docs/backup.md).", id="gridgov.E002")]
    finally:
        fieldcrypto.reset_keys()
    return []


def check_debug(**_: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return [Error("DEBUG is on: error pages would show settings and personal data to anyone.",
                      hint="Remove DEBUG from the environment (or set DEBUG=0).", id="gridgov.E003")]
    return []


def check_secret_key(**_: Any) -> list[CheckMessage]:
    if settings.SECRET_KEY in PLACEHOLDER_SECRETS or len(settings.SECRET_KEY) < 50:
        return [Error("SECRET_KEY is empty, short or the example's placeholder: sessions could be forged.",
                      hint="Set 50 or more random characters in /etc/gridgov/gridgov.env.", id="gridgov.E004")]
    return []


DEPLOY_CHECKS = (check_public_base_url, check_field_keys, check_debug, check_secret_key)


def register_deploy_checks() -> None:
    for check in DEPLOY_CHECKS:
        register(check, Tags.security, deploy=True)
