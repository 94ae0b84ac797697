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


@pytest.fixture(autouse=True)
def _builtin_rows_for_transactional_tests(request):  # type: ignore[no-untyped-def]
    """A transactional test's flush removes the data migrations' rows (unit kinds, roles, categories)
    for every transactional test after it in the same process: load them again, idempotently."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    from gridgov.cases.catalogue import seed_categories
    from gridgov.cases.models import Category, default_deadlines

    for module in ("gridgov.units.migrations.0002_builtin_kinds_themes",
                   "gridgov.access.migrations.0003_builtin_roles"):
        importlib.import_module(module).load(apps, None)
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
