"""Fixtures of the residents' side, and the leak guard: every response under /p/ that any test in
this package produces is scanned for ID numbers, phone numbers (staff work phones only on the grid
page, as printed on the board), staff-only fields and reporter identity; a leak fails the test."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from PIL import ExifTags, Image

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Category, default_deadlines
from tests.world import World

from .leakscan import scan

SCANNED: list[str] = []


@pytest.fixture(autouse=True)
def _fresh_cache_and_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    cache.clear()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def public_leak_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    original, original_post = Client.request, Client.post
    problems: list[str] = []

    def post(self: Client, path: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        # A form sent back with an error shows the sender their own words: not a leak.
        self._own_values = {str(v) for v in (data or {}).values() if isinstance(v, str)}  # type: ignore[attr-defined]
        try:
            return original_post(self, path, data, *args, **kwargs)
        finally:
            self._own_values = set()  # type: ignore[attr-defined]

    def request(self: Client, **kwargs: Any) -> Any:
        response = original(self, **kwargs)
        path = kwargs.get("PATH_INFO", "")
        if path.startswith("/p/"):
            SCANNED.append(path)
            content_type = response.get("Content-Type", "")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if content_type.startswith("text/"):
                found = scan(body.decode(), path=path, board_page=path.startswith("/p/g/"),
                             own=getattr(self, "_own_values", set()))
                problems.extend(found)
            elif content_type.startswith("image/") and (
                    b"Exif" in body[:4096] or Image.open(io.BytesIO(body)).getexif()):
                problems.append(f"{path}: photo carries EXIF")
        return response

    monkeypatch.setattr(Client, "request", request)
    monkeypatch.setattr(Client, "post", post)
    yield problems
    assert not problems, "public responses leak:\n" + "\n".join(problems)


@pytest.fixture
def categories(db: None) -> None:
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())


@pytest.fixture
def pworld(world: World, categories: None) -> World:
    return world


def jpeg_with_gps(width: int = 800, height: int = 600, color: str = "red") -> bytes:
    """A camera-like photo: EXIF with the maker and a GPS position."""
    img = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (39.0, 5.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (113.0, 3.0, 1.0),
    }
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()
