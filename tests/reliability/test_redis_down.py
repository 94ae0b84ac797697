"""Redis down: the app degrades, it does not fall over (issue #23). With the cache unreachable a grid worker signs
in and works (sessions come from the database), a resident reports a problem (the throttles fail open), each
failure is counted in gridgov_cache_errors_total, and /ops/ready answers "degraded" with 200 so a load balancer
keeps every app server; a database that does not answer is "down" (503)."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.core.redis_cache import CACHE_ERRORS
from gridgov.interfaces.public.links import grid_token
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db

# Nothing listens on port 1 of loopback: every connection is refused at once, as with Redis stopped.
DEAD_REDIS = {"default": {"BACKEND": "gridgov.core.redis_cache.DegradingRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
UNDEGRADED = {"default": {"BACKEND": "gridgov.core.redis_cache.ReusingRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
CACHED_SESSIONS = "gridgov.core.cached_sessions"


@pytest.fixture
def categories(db: None) -> None:
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())


def _fresh_caches() -> None:
    for alias in list(caches):
        caches[alias].close()
    del caches["default"]


def errors_counted() -> float:
    return sum(s.value for m in CACHE_ERRORS.collect() for s in m.samples if s.name.endswith("_total"))


def test_sign_in_and_work_with_redis_down(world) -> None:
    with override_settings(CACHES=DEAD_REDIS, SESSION_ENGINE=CACHED_SESSIONS):
        _fresh_caches()
        before = errors_counted()
        client = Client()
        response = client.post("/login/", {"username": "wangfang", "password": PASSWORD})
        assert response.status_code == 302
        home = client.get("/")
        assert home.status_code == 200 and "王芳" in home.content.decode()
        assert client.get("/cases/").status_code == 200
        assert errors_counted() > before


def test_without_the_degrading_cache_sign_in_fails_so_the_test_can_fail(world) -> None:
    with override_settings(CACHES=UNDEGRADED, SESSION_ENGINE=CACHED_SESSIONS):
        _fresh_caches()
        client = Client(raise_request_exception=False)
        assert client.post("/login/", {"username": "wangfang", "password": PASSWORD}).status_code == 500


def test_a_resident_reports_with_redis_down(world, categories) -> None:
    path = f"/p/g/{grid_token(world.grid_a1.pk)}/"
    with override_settings(CACHES=DEAD_REDIS, SESSION_ENGINE=CACHED_SESSIONS):
        _fresh_caches()
        client = Client()
        page = client.get(path)
        assert page.status_code == 200
        key = re.search(r'name="key" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
        before = Case.dangerously_unscoped.count()
        response = client.post(path, {"key": key, "category": "sanitation", "description": "村口垃圾三天没人清运了"})
        assert response.status_code == 303  # on to the tracking page
        assert Case.dangerously_unscoped.count() == before + 1


def test_ready_says_degraded_without_redis_and_down_without_the_database(client) -> None:
    with override_settings(CACHES=DEAD_REDIS):
        _fresh_caches()
        ready = client.get("/ops/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "error"}}
    _fresh_caches()
    with mock.patch.object(connection, "cursor", side_effect=RuntimeError("database gone")):
        down = client.get("/ops/ready")
    assert down.status_code == 503 and down.json()["status"] == "down"
