from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_health_and_readiness(client):
    assert client.get("/ops/health").json() == {"status": "ok"}
    ready = client.get("/ops/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_metrics_only_from_loopback_or_with_token(client, settings):
    client.get("/ops/health")
    response = client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b'gridgov_request_seconds_bucket{le="0.005",method="GET",route="ops_health"}' in response.content
    assert client.get("/ops/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    ok = client.get("/ops/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200


def test_every_response_carries_a_request_id(client):
    response = client.get("/ops/health", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    assert len(client.get("/ops/health")["X-Request-ID"]) == 32


def test_metrics_answer_when_the_database_does_not(client, monkeypatch):
    """The request figures matter most when the database is down: the scrape answers, saying so."""
    from django.db import OperationalError

    from gridgov.interfaces import ops

    def gone(**_):  # type: ignore[no-untyped-def]
        raise OperationalError("database gone")

    monkeypatch.setattr(ops, "overdue_open_count", gone)
    monkeypatch.setattr(ops.cache, "get", lambda *a, **k: None)
    response = client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"gridgov_work_figures_up 0.0" in response.content
    assert b"gridgov_cases_overdue_open" not in response.content
