"""The general page lets a resident drop a pin on a base map instead of typing an address; the map
and Leaflet are fetched only when asked for, so the page stays under its weight."""

from __future__ import annotations

import json
import re

import pytest

from .test_report import _static_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def tianditu(settings):
    settings.GRIDGOV_MAP_TILES = "tianditu"
    settings.GRIDGOV_TIANDITU_KEY = "test-key"


def test_without_a_base_map_there_is_no_pin(pworld, client):
    html = client.get("/p/r/").content.decode()
    assert "pin-config" not in html and 'id="pin"' not in html


def test_with_a_base_map_the_pin_is_offered_and_leaflet_waits(pworld, client, tianditu):
    html = client.get("/p/r/").content.decode()
    config = json.loads(re.search(r'<script id="pin-config" type="application/json">(.*?)</script>', html, re.S)
                        .group(1))  # type: ignore[union-attr]
    lat, lng = config["center"]
    assert 39.0 <= lat <= 40.0 and 113.0 <= lng <= 114.0  # inside the county
    assert config["js"].endswith("leaflet/leaflet.js") and config["tiles"]["layers"]
    assert "leaflet" not in "".join(re.findall(r"<(?:script|link)[^>]*(?:src|href)=[^>]*>", html))
    assets = re.findall(r'(?:href|src)="/static/([^"]+)"', html)
    assert len(html.encode()) + sum(_static_bytes(a) for a in assets) < 100 * 1024
    # The grid page (reached by QR) knows its grid: no map there.
    from gridgov.interfaces.public.links import grid_token

    assert "pin-config" not in client.get(f"/p/g/{grid_token(pworld.grid_a1.pk)}/").content.decode()
