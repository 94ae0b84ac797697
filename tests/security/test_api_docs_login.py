"""/api/docs and /api/openapi.json are behind login in deployments (GRIDGOV_API_DOCS_LOGIN, default
on): the outside test read both without signing in while the README said to sign in first."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from gridgov.access.tokens import token_create
from gridgov.core.clock import now

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_get_the_login_page_or_a_401(world):
    client = Client()
    docs = client.get("/api/docs")
    assert docs.status_code == 302 and "/login/" in docs["Location"]
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 401 and schema.json() == {"code": "unauthorized", "message": "请先登录。"}
    forged = client.get("/api/openapi.json", HTTP_AUTHORIZATION="Bearer ggt_made-up")
    assert forged.status_code == 401


def test_a_signed_in_user_reads_the_docs_and_the_schema(world, login):
    client = login(world.zhang_wei)
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.content.decode()
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/cases/" in schema.json()["paths"]
    raw = token_create(actor=world.zhang_wei, now=now(), name="docs")[1]
    assert Client().get("/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


@override_settings(GRIDGOV_API_DOCS_LOGIN=False)
def test_a_deployment_may_open_them(world):
    assert Client().get("/api/openapi.json").status_code == 200
    assert Client().get("/api/docs").status_code == 200


def test_the_schema_has_one_key_per_status(world, login):
    """Two household PATCH operations declared 409 as an int and the error table added "409": the JSON
    carried the key twice. Parsed strictly, every status of every operation appears once."""
    import json

    def strict(pairs):  # type: ignore[no-untyped-def]
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    body = login(world.zhang_wei).get("/api/openapi.json").content.decode()
    schema = json.loads(body, object_pairs_hook=strict)
    patch = schema["paths"]["/api/households/{household_id}"]["patch"]["responses"]
    assert "ConflictOut" in json.dumps(patch["409"])
