"""The JSON API (django-ninja): /api/, schema at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import SessionAuth

from gridgov.core.errors import DomainError

from . import cases as cases_api
from . import households as households_api
from . import units as units_api

api = NinjaAPI(
    title="网格治理平台 API",
    version="1",
    description="GridGov JSON API for the field app and integrations. Every endpoint is scoped to the signed-in actor.",
    auth=SessionAuth(),
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    if exc.details:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.http_status)


api.add_router("/units/", units_api.router)
api.add_router("/cases/", cases_api.router)
api.add_router("/households/", households_api.router)
