from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.test import Client

from tests.world import World, build_world


@pytest.fixture(autouse=True)
def _builtin_catalogues(request):  # type: ignore[no-untyped-def]
    """Transactional tests start after another one may have flushed every table: load the
    migrations' catalogues (kinds, roles, tags…) again when they are gone."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        from tests.builtins import ensure_builtins

        request.getfixturevalue("transactional_db")
        ensure_builtins()


@pytest.fixture
def world(db: None) -> World:
    from gridgov.units import locate
    from tests.builtins import ensure_builtins

    ensure_builtins()
    locate.invalidate()
    return build_world()


@pytest.fixture
def login(client: Client):  # type: ignore[no-untyped-def]
    """login(user) → a test client signed in as that user."""

    def _login(user):  # type: ignore[no-untyped-def]
        c = Client()
        c.force_login(user)
        return c

    return _login


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """One Debian Chromium for the whole run, shared by every browser test (Playwright's sync API
    allows one driver per process)."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
