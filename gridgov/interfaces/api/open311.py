"""Open311 GeoReport v2 at /open311/v2/ so 311 clients and hotline bridges can submit and poll.

JSON only (`.json` endpoints). Services are the active categories; a request is a case,
its id the case number. Submitting needs an api_key configured in
settings.GRIDGOV_OPEN311_KEYS ({key: client name}); reading is public and, like every
public page, shows no personal data: no reporter, no description, location rounded to ~100 m.
Errors use the spec's format: a list of {"code", "description"}.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gridgov.cases import intake, selectors
from gridgov.cases.models import Case, Category
from gridgov.cases.states import STATUSES, StatusType
from gridgov.core.clock import now
from gridgov.core.errors import Conflict, DomainError, NotFound
from gridgov.interfaces.http import public_view

MAX_RESULTS = 200


def _errors(status: int, description: str) -> JsonResponse:
    return JsonResponse([{"code": status, "description": description}], status=status, safe=False,
                        json_dumps_params={"ensure_ascii": False})


def _ok(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _service(c: Category) -> dict[str, Any]:
    return {"service_code": c.code, "service_name": c.name, "description": c.name, "metadata": False,
            "type": "realtime", "keywords": "", "group": c.parent.name if c.parent_id and c.parent else c.name}


@public_view
@require_GET
def services_list(request: HttpRequest) -> JsonResponse:
    return _ok([_service(c) for c in selectors.categories()])


@public_view
@require_GET
def service_definition(request: HttpRequest, code: str) -> JsonResponse:
    if code not in {c.code for c in selectors.categories()}:
        return _errors(404, "service_code not found")
    return _ok({"service_code": code, "attributes": []})


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _public_request(case: Case) -> dict[str, Any]:
    sd = STATUSES[case.status]
    closed = sd.type in (StatusType.DONE, StatusType.REJECTED)
    holder = case.holder_department.name if case.holder_department else (
        case.holder_unit.name if case.holder_unit else "")
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": sd.public.label,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "agency_responsible": holder,
        "service_notice": "",
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.resolve_due) if not closed else None,
        "address": "",
        "lat": round(case.lat, 3) if case.lat is not None else None,
        "long": round(case.lng, 3) if case.lng is not None else None,
        "media_url": "",
    }


def _client(api_key: str) -> str | None:
    keys: dict[str, str] = getattr(settings, "GRIDGOV_OPEN311_KEYS", {}) or {}
    for key, client in keys.items():
        if api_key and hmac.compare_digest(api_key, key):
            return client
    return None


def _float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _submit(request: HttpRequest) -> JsonResponse:
    data = request.POST
    client = _client(data.get("api_key", ""))
    if client is None:
        return _errors(403, "api_key is missing or not valid")
    code = data.get("service_code", "")
    if not code:
        return _errors(400, "service_code is required")
    lat, lng = _float(data.get("lat")), _float(data.get("long"))
    if (data.get("lat") and lat is None) or (data.get("long") and lng is None):
        return _errors(400, "lat/long must be numbers")
    description = data.get("description", "")
    name = f"{data.get('last_name', '')}{data.get('first_name', '')}".strip()
    title = description.strip().splitlines()[0][:40] if description.strip() else ""
    try:
        result = intake.case_report(
            actor=None, now=now(), title=title or "市民诉求", description=description,
            category_code=code, channel="open311", lat=lat, lng=lng, address=data.get("address_string", ""),
            reporter_name=name, reporter_phone=data.get("phone", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""), key_namespace=f"open311:{client}",
        )
    except Conflict as exc:
        return _errors(409, exc.message)
    except DomainError as exc:
        spec_names = {"category": "service_code", "location": "lat/long", "reporter_phone": "phone"}
        field = spec_names.get(exc.field or "", exc.field or "")
        return _errors(exc.http_status, f"{field}: {exc.message}" if field else exc.message)
    case = result.case
    body = [{"service_request_id": case.number, "service_notice": "已受理登记，可凭编号查询办理进度。",
             "account_id": None, "token": None}]
    return _ok(body, status=201 if result.created else 200)


def _search(request: HttpRequest) -> JsonResponse:
    # Reading requests needs a client's key too: open to anyone, the list and the detail by number
    # (numbers run in sequence) would let anybody enumerate every case of the county (issue #5).
    if _client(request.GET.get("api_key", "")) is None:
        return _errors(403, "api_key is missing or not valid")
    numbers = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
    status = request.GET.get("status", "")
    if status not in ("", "open", "closed"):
        return _errors(400, "status must be open or closed")
    bounds: dict[str, dt.datetime | None] = {"start_date": None, "end_date": None}
    for param in bounds:
        raw = request.GET.get(param)
        if raw:
            try:
                moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return _errors(400, f"{param} must be a w3 datetime")
            if moment.tzinfo is None:
                return _errors(400, f"{param} must include a time zone")
            bounds[param] = moment
    if not numbers and bounds["start_date"] is None:
        # The spec's default window: the last 90 days.
        bounds["start_date"] = now() - dt.timedelta(days=90)
    rows = selectors.public_case_search(
        numbers=numbers, codes=codes, closed={"open": False, "closed": True}.get(status),
        start=bounds["start_date"], end=bounds["end_date"], limit=MAX_RESULTS)
    return _ok([_public_request(c) for c in rows])


@public_view
@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_collection(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        return _submit(request)
    return _search(request)


@public_view
@require_GET
def request_detail(request: HttpRequest, number: str) -> JsonResponse:
    if _client(request.GET.get("api_key", "")) is None:
        return _errors(403, "api_key is missing or not valid")
    try:
        case = selectors.public_case_get(number=number)
    except NotFound:
        return _errors(404, "service_request_id not found")
    return _ok([_public_request(case)])


app_name = "open311"
urlpatterns = [
    path("services.json", services_list, name="services"),
    path("services/<slug:code>.json", service_definition, name="service"),
    path("requests.json", requests_collection, name="requests"),
    path("requests/<str:number>.json", request_detail, name="request"),
]
