"""Shared browser fixtures: Debian's Chromium driven by Playwright against Django's live server.

    def test_something(page, live_world, browser_login):
        browser_login(page, live_world.zhang_wei)
        page.goto(f"{live_world.url}/units/")

Screenshots go to artifacts/ (gitignored) via `screenshot(page, "name")`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.world import PASSWORD, World

# The `browser` fixture (one Debian Chromium for the run) lives in the root conftest.py.
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized page with Chinese locale; closed after the test."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    p = context.new_page()
    p.set_default_timeout(10_000)
    try:
        yield p
    finally:
        context.close()


class LiveWorld:
    """The persona world served by the live server: `url` plus every World field."""

    def __init__(self, world: World, url: str) -> None:
        self._world = world
        self.url = url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._world, name)


@pytest.fixture
def live_world(transactional_db: None, live_server: Any) -> LiveWorld:
    """The world, committed for real so the live server's thread sees it."""
    from django.core.cache import cache

    from gridgov.units import locate
    from tests.builtins import ensure_builtins
    from tests.world import build_world

    # Transactional tests flush every table afterwards, including the kinds, themes and roles
    # the data migrations loaded: load them again (the loaders are idempotent).
    ensure_builtins()
    cache.clear()  # no lockout counts left over from other tests
    locate.invalidate()
    return LiveWorld(build_world(), live_server.url)


@pytest.fixture
def browser_login(live_world: LiveWorld) -> Callable[..., None]:
    """browser_login(page, user): sign in through the real login form."""

    def _login(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto(f"{live_world.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_world.url}/")

    return _login


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
