"""CSRF on every state change: every URL of the site (staff pages, support admin, the residents'
pages, every API operation) refuses a signed-in POST, PATCH, PUT or DELETE that carries no CSRF
token. The only exemption is the Open311 intake (an anonymous API for hotline systems, no cookie)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.architecture.test_outsider_404 import OBJECTS

pytestmark = pytest.mark.django_db

EXEMPT_PREFIX = "open311/"  # the anonymous Open311 intake for hotline systems: no session, no cookie


def routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def fill(route: str, values: dict[str, Any]) -> str:
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "1")), route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route.lstrip("/")


def refused_for_csrf(response: Any) -> bool:
    body = response.content.decode("utf-8", "replace")
    return response.status_code == 403 and ("页面已过期" in body or "CSRF" in body)


def test_every_state_change_needs_a_csrf_token(world):
    values = {name: make(world) for name, make in OBJECTS.items()}
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.zhang_wei)
    anonymous = Client(enforce_csrf_checks=True)
    checked, missed = 0, []
    for route in routes(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIX) or "(?P<" in route:
            continue  # regex routes are the support admin's own (csrf_protect on every admin view)
        url = fill(route, values)
        for method in ("post", "patch", "put", "delete"):
            response = getattr(client, method)(url, data="{}", content_type="application/json") \
                if method != "post" else client.post(url, {"name": "x"})
            if response.status_code in (404, 405):
                continue  # no such method here: nothing to protect
            checked += 1
            if not refused_for_csrf(response):
                missed.append(f"{method.upper()} {url} → {response.status_code}")
        if url.startswith("/p/"):
            response = anonymous.post(url, {"description": "x"})
            if response.status_code not in (404, 405) and not refused_for_csrf(response):
                missed.append(f"anonymous POST {url} → {response.status_code}")
    assert checked > 60
    assert not missed, "state changes accepted without a CSRF token:\n" + "\n".join(missed)


def test_the_csrf_check_can_fail(world):
    """With the token, the same kind of request goes through (the refusals above come from CSRF)."""
    client = Client()
    client.force_login(world.zhang_wei)
    assert not refused_for_csrf(client.post("/password/", {"old_password": "x"}))
