"""Fixtures of the residents' side. The leak guard that scans every /p/ response lives in
tests/conftest.py so it covers the whole suite."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from PIL import ExifTags, Image

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Category, default_deadlines
from tests.world import World


@pytest.fixture(autouse=True)
def _fresh_cache_and_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    cache.clear()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield
    cache.clear()


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
