"""API contract (issue 16, item 7): schemathesis with every check it has (`--checks all`: server
errors, status codes, content types, response headers and bodies, negative data rejected, positive data
accepted, missing headers, unsupported methods, Allow headers, use after free, resource availability,
ignored auth, object-level authorization) on every operation of /api/openapi.json, through the coverage
and generation phases, authenticated only by a throwaway API token of the township office. Zero failures
outside KNOWN_OPEN below (six operations with known schema-valid rejections: issue #16 does not hold yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from gridgov.interfaces.api.api import api
from tests.world import T0

# Operations whose remaining failures are known and not fixed yet (docs/security.md, "Not yet"): each is
# a request the schema allows and a rule of the endpoint refuses (400/422) — "schema-valid request
# rejected" only. Any other failure, and any failure of the other operations, fails this test.
KNOWN_OPEN = {
    "POST /api/cases/": "unknown category code or place: 400 from the intake's rules",
    "POST /api/households/": "latitude without longitude: 400 (both-or-none not in the schema)",
    "POST /api/visits/": "household id that does not exist: 400 with field household_id",
    "POST /api/households/search": "a phone or ID number the search cannot use: 400 (their patterns not in the schema)",
    "GET /api/mediation/": "a keyset cursor that names no row: 400 (a cursor is opaque digits in the schema)",
    "POST /api/cases/{case_id}/attachments": "multipart body without the file part: 422 (schema does not require it)",
}

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())
EXAMPLES = 10
APP = WSGIHandler()


@pytest.fixture
def bearer(world: Any) -> Iterator[dict[str, Any]]:
    """A throwaway token of the township office (张伟), and a way to mint another for the revoke
    operation (which ends the token it is called with). Requests keep the test's connection."""
    from gridgov.access.models import ApiToken
    from gridgov.access.tokens import token_create
    from gridgov.cases.intake import case_report
    from gridgov.core.clock import now

    for i in range(3):
        case_report(actor=world.wang_fang, now=T0, title=f"积水{i}", description="路口积水。",
                    category_code="sanitation", channel="field", unit_id=world.grid_a1.pk)
    raw = token_create(actor=world.zhang_wei, now=now(), name="schemathesis", second_factor=True)[1]

    def mint() -> str:
        ApiToken.objects.filter(name="schemathesis-revoke").update(revoked_at=now())
        return "Bearer " + token_create(actor=world.zhang_wei, now=now(), name="schemathesis-revoke",
                                        second_factor=True)[1]

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"token": f"Bearer {raw}", "mint": mint}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"))
schema.app = APP  # every request, the checks' own included, goes to the Django app over WSGI


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, print_blob=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case: Any, bearer: dict[str, Any]):
    token = bearer["mint"]() if case.path.endswith("/revoke") else bearer["token"]
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = headers
    response = case.call(headers={"Authorization": token})
    try:
        case.validate_response(response, checks=ALL_CHECKS, headers={"Authorization": token})
    except FailureGroup as failures:
        label = f"{case.method.upper()} {case.path}"
        rejected_only = all(getattr(f, "title", "") == "Schema-valid request rejected" for f in failures.exceptions)
        if label in KNOWN_OPEN and rejected_only and response.status_code in (400, 422):
            pytest.xfail(KNOWN_OPEN[label])
        raise
