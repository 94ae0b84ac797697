from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.test import Client

from tests.world import World, build_world


@pytest.fixture
def world(db: None) -> World:
    from gridgov.units import locate

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
