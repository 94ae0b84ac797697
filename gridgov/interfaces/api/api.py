"""The JSON API (django-ninja): /api/, schema at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import SessionAuth

from gridgov.access.errors import AccessError
from gridgov.cases.errors import CaseError
from gridgov.core.errors import CommonError, DomainError, NotFound
from gridgov.interfaces.http import ACCESS_ATTR
from gridgov.residents.errors import ResidentError
from gridgov.units.errors import UnitError
from gridgov.visits.errors import VisitError

from . import cases as cases_api
from . import households as households_api
from . import tokens as tokens_api
from . import units as units_api
from . import visits as visits_api

# Every error answers {code, message[, reason, field, details]}; the schema says so for every operation,
# so clients (and the schemathesis test) can rely on it. `code` is coarse (what the status says);
# `reason`, where the raising code names one, is the stable reason of the refusal (CommonError or the
# raising app's enum).
ERROR_STATUSES = {
    "400": "请求内容不符合规则（message 说明原因）",
    "401": "未登录，或接口令牌无效、已过期、已撤销",
    "403": "无权执行此操作",
    "404": "记录不存在或不在您的管辖范围内",
    "409": "与他人的修改冲突，或幂等键已用于其他内容",
    "422": "请求格式不符合接口定义",
}
# The reasons an error body may carry: add an app's enum here when it gains one.
REASON_ENUMS: tuple[type[StrEnum], ...] = (CommonError, AccessError, UnitError, ResidentError, VisitError,
                                          CaseError)


def error_reasons() -> list[str]:
    return [str(r) for enum in REASON_ENUMS for r in enum]


ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorOut",
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Coarse: invalid, not_found, forbidden, conflict, unauthorized…"},
        "reason": {"type": "string", "enum": error_reasons(),
                   "description": ("Stable reason of the refusal, where the service names one (never changes "
                                   "meaning); `message` says it in Chinese")},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "details": {"type": "object"},
    },
    "required": ["code", "message"],
}


def docs_behind_login(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """/api/docs and /api/openapi.json need a signed-in user (staff session or API token) while
    GRIDGOV_API_DOCS_LOGIN is on (the default; a deployment may open them): the page sends a visitor
    to the login page, the schema answers the API's 401."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(settings, "GRIDGOV_API_DOCS_LOGIN", True) and not _signed_in(request):
            if request.path.endswith(".json") or request.headers.get("Authorization"):
                return JsonResponse({"code": "unauthorized", "message": "请先登录。"}, status=401,
                                    json_dumps_params={"ensure_ascii": False})
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    setattr(guarded, ACCESS_ATTR, "scoped")
    return guarded


def _signed_in(request: HttpRequest) -> bool:
    if request.headers.get("Authorization"):
        try:
            return tokens_api.ApiTokenAuth()(request) is not None
        except DomainError:
            return False
    return bool(request.user.is_authenticated)


class ObjectBodyParser(Parser):
    """Every JSON body of this API is an object: `[null, null]` or `3` is refused (400) before any
    operation sees it (the outside test's schemathesis run found a list body answered 200)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("body is not a JSON object")
        return data


class GridGovAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                # ninja keys declared responses by int (409: ConflictOut); the added ones are str: one key
                # each, or the JSON carries "409" twice (which broke /api/docs and strict parsers).
                responses = {str(k): v for k, v in operation.get("responses", {}).items()}
                operation["responses"] = responses
                for status, text in ERROR_STATUSES.items():
                    if status not in responses:
                        responses[status] = {"description": text, "content": {"application/json": {"schema": ref}}}
        return schema


api = GridGovAPI(
    title="网格治理平台 API",
    version="1",
    description=("GridGov JSON API for the field app and integrations. Every endpoint is scoped to the signed-in "
                 "actor. Authenticate with a personal API token (`Authorization: Bearer ggt_…`, made on 「我的登录」, "
                 "short-lived and revocable; no CSRF token needed) or with the staff session cookie (CSRF token "
                 "required on every change)."),
    auth=[tokens_api.ApiTokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_decorator=docs_behind_login,
    parser=ObjectBodyParser(),
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.reason:
        body["reason"] = exc.reason
    if exc.field:
        body["field"] = exc.field
    if exc.details:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.http_status)


@api.exception_handler(DataError)
def _bad_value(request: HttpRequest, exc: DataError) -> HttpResponse:
    # The database refused a value the request carried (a NUL character, a number out of range…);
    # the statement failed, so nothing was written. Found by schemathesis on PostgreSQL.
    body = {"code": "invalid", "message": "请求中含有无法处理的字符或数值，请检查后重试。"}
    return api.create_response(request, body, status=400)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Byte-identical to a DomainError NotFound: missing and out of scope look alike.
    return _domain_error(request, NotFound())


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"code": "unauthorized", "message": "请先登录。"}, status=401)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}.get(
        exc.status_code, "invalid")
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        message = "请求内容应为 JSON 对象，请检查格式。"
    if "CSRF" in message:
        code, message = "csrf_failed", "安全校验失败，请刷新页面后重试。"
    return api.create_response(request, {"code": code, "message": message}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "type": str(e.get("type", "")), "msg": str(e.get("msg", ""))}
              for e in exc.errors]
    field = next((e["loc"][-1] for e in errors if e["loc"]), None)
    body: dict[str, Any] = {"code": "invalid", "message": "请求内容不符合接口格式，请检查各项填写。",
                            "details": {"errors": errors}}
    if field:
        body["field"] = field
    return api.create_response(request, body, status=422)


api.add_router("/auth/", tokens_api.router)
api.add_router("/units/", units_api.router)
api.add_router("/cases/", cases_api.router)
api.add_router("/households/", households_api.router)
api.add_router("/visits/", visits_api.router)

from . import mediation as mediation_api  # noqa: E402 - apart from the imports above so branches merge cleanly

api.add_router("/mediation/", mediation_api.router)

from . import notices as notices_api  # noqa: E402 - apart from the imports above so branches merge cleanly

api.add_router("/notices/", notices_api.router)
