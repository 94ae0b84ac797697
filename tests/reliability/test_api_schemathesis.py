"""API robustness (issue 7): schemathesis generates requests for every operation of /api/openapi.json
and sends them, signed in as the township office (张伟), to the real Django app over WSGI. No answer
may be a 5xx, and every answer must match the schema (body, status code, content type).

The Open311 endpoints (/open311/v2/) are plain Django views with no OpenAPI schema; their bad-input
cases are in tests/cases/test_open311.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gridgov.interfaces.api.api import api
from tests.world import T0

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Enough to find a crash on each operation and keep CI fast (18 operations: about a minute on a quiet machine).
EXAMPLES = 15
APP = WSGIHandler()


@pytest.fixture
def office(world: Any) -> Iterator[dict[str, Any]]:
    """Cookies and headers of a signed-in township office session, with a CSRF token. As Django's test
    client does, requests do not close the test's database connection (it holds the test transaction)."""
    from gridgov.cases.intake import case_report

    # Something to find: a few cases and ids in range of what the generator tries.
    for i in range(3):
        case_report(actor=world.wang_fang, now=T0, title=f"积水{i}", description="路口积水。",
                    category_code="sanitation", channel="field", unit_id=world.grid_a1.pk)
    from gridgov.access.tokens import token_create
    from gridgov.core.clock import now

    c = Client()
    c.force_login(world.zhang_wei)
    token = _get_new_csrf_string()
    bearer = token_create(actor=world.zhang_wei, now=now(), name="schemathesis")[1]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        def mint() -> str:
            # A throwaway token for POST /api/auth/token/revoke (which ends the token it is called with).
            from gridgov.access.models import ApiToken

            ApiToken.objects.filter(name="schemathesis-revoke").update(revoked_at=now())
            return "Bearer " + token_create(actor=world.zhang_wei, now=now(), name="schemathesis-revoke")[1]

        yield {"cookies": {"sessionid": c.cookies["sessionid"].value, "csrftoken": token},
               "headers": {"X-CSRFToken": token}, "bearer": f"Bearer {bearer}", "mint": mint}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"))


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, print_blob=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_answers_every_generated_request_without_5xx_and_within_its_schema(case: Any, office: dict[str, Any]):
    headers = dict(office["headers"])
    if any(k.lower() == "authorization" for k in case.headers or {}):
        # The schema offers the bearer scheme: where schemathesis chose it, send the office's real
        # token (a made-up one is rightly a 401; that case is in tests/security/test_api_tokens.py).
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        headers["Authorization"] = office["mint"]() if case.path.endswith("/revoke") else office["bearer"]
    response = case.call(app=APP, headers=headers, cookies=office["cookies"])
    # The session (or token) must really be signed in, or every answer would be a documented 401 or 403.
    assert response.status_code != 401, response.text
    assert "安全校验失败" not in response.text
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_a_nul_character_in_a_filter_is_a_400_not_a_server_error(world, login):
    # Found by schemathesis on PostgreSQL (text cannot hold NUL): a Chinese message, nothing written.
    from django.db import connection

    from gridgov.cases.models import Case

    client = login(world.zhang_wei)
    r = client.get("/api/cases/", {"status": "a\x00b"})
    assert r.status_code in (200, 400), r.content
    if r.status_code == 400:
        assert r.json()["code"] == "invalid" and "字符" in r.json()["message"]
    before = Case.dangerously_unscoped.count()
    r = client.post("/api/cases/", data={"title": "积\x00水", "description": "路口积水。", "category": "sanitation",
                                         "unit_id": world.grid_a1.pk}, content_type="application/json")
    if connection.vendor == "postgresql":  # SQLite stores NUL characters
        assert r.status_code == 400, r.content
        assert Case.dangerously_unscoped.count() == before


def test_an_age_beyond_any_life_is_an_empty_search_not_a_server_error(world, login):
    # Found by schemathesis: age_max=59142 left the calendar (ValueError: year out of range).
    client = login(world.zhang_wei)
    for body in ({"age_max": 59142}, {"age_min": 59142}):
        r = client.post("/api/households/search", body, content_type="application/json")
        assert r.status_code == 200 and isinstance(r.json()["items"], list), r.content
    negative = client.post("/api/households/search", {"age_min": -40}, content_type="application/json")
    assert negative.status_code == 400 and negative.json()["field"] == "age_min"
    assert client.get("/api/households/", {"age_max": "99999"}).status_code == 200
