"""Bench-only endpoints (`make bench`): mounted under /bench/ only when GRIDGOV_BENCH_ENDPOINTS=1,
never in a deployment (`manage.py check --deploy` fails while it is on).

`POST /bench/insert` is the baseline the case intake is measured against: the same stack (granian,
middleware, session, CSRF, connection pool) doing ONE INSERT into a bench table the bench creates.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST

from gridgov.interfaces.http import scoped_view

TABLE = "bench_insert"
CREATE_SQL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), "
              "user_id integer NOT NULL, body text NOT NULL)")


@scoped_view
@require_POST
def bench_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} (user_id, body) VALUES (%s, %s) RETURNING id",  # noqa: S608
                    [request.user.pk, request.body[:2000].decode("utf-8", "replace")])
        row = cur.fetchone()
    return JsonResponse({"id": row[0]}, status=201)


urlpatterns = [path("insert", bench_insert, name="bench_insert")]


@checks.register(checks.Tags.security, deploy=True)
def bench_endpoints_off(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "GRIDGOV_BENCH_ENDPOINTS", False):
        return [checks.Error("GRIDGOV_BENCH_ENDPOINTS is on: bench-only URLs are mounted.",
                             hint="Unset GRIDGOV_BENCH_ENDPOINTS outside benchmarks.", id="gridgov.E_BENCH")]
    return []
