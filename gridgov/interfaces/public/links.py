"""Signed links printed as QR codes on grid boards and cards.

A link names its grid through a signature, so a forged or altered link is refused and units
cannot be enumerated by trying numbers.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "gridgov.public.grid-link"


def grid_token(unit_id: int) -> str:
    # No timestamp: a printed board keeps working for years, and a grid always has the same code.
    return signing.Signer(salt=_SALT).sign_object({"u": unit_id}, compress=True)


def unit_id_from_token(token: str) -> int | None:
    """The grid a token names, or None for a forged, altered or malformed token."""
    if len(token) > 200:
        return None
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    unit_id = data.get("u") if isinstance(data, dict) else None
    return unit_id if isinstance(unit_id, int) else None


def grid_url(unit_id: int) -> str:
    """The absolute link residents reach by scanning the grid's QR code."""
    return settings.GRIDGOV_PUBLIC_BASE_URL + reverse("public:grid", args=[grid_token(unit_id)])


def tracking_url(code: str) -> str:
    """The absolute link to a case's tracking page (sent by SMS, shown after reporting)."""
    return settings.GRIDGOV_PUBLIC_BASE_URL + reverse("public:track", args=[code])


def disclosure_url(unit_id: int) -> str:
    return settings.GRIDGOV_PUBLIC_BASE_URL + reverse("public:disclosure", args=[grid_token(unit_id)])


_PHOTO_SALT = "gridgov.public.disclosed-photo"


def photo_token(attachment_id: int) -> str:
    """A disclosed result photo's name in a public URL: signed, so attachment numbers (which run in
    sequence) are neither shown nor worth guessing."""
    return signing.Signer(salt=_PHOTO_SALT).sign_object({"a": attachment_id}, compress=True)


def photo_id_from_token(token: str) -> int | None:
    if len(token) > 200:
        return None
    try:
        data = signing.Signer(salt=_PHOTO_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    attachment_id = data.get("a") if isinstance(data, dict) else None
    return attachment_id if isinstance(attachment_id, int) else None
