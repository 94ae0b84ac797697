"""Open311 GeoReport v2 at /open311/v2/ so 311 clients and hotline bridges can submit and poll.

Both formats of the spec: `.xml` and `.json`, and XML when the path has no extension (the spec's
default). Services are the active categories; a request is a case, its id the case number.
Every request except the service list needs an api_key of GRIDGOV_OPEN311_KEYS (settings, from the
environment as JSON: {"key": "client name"} or {"key": {"name": "client", "township": "<division
code>"}}): submitting, and reading too (privacy: numbers run in sequence, so an open list would let
anyone enumerate a county's cases); what is read carries no personal data (no reporter, no
description, no address, location rounded to ~100 m). A report with `address_string` and no point is
placed through the township's address table (the ledger's households, `cases.geocode`), else routed
to the township office of the client's key. Errors always use the spec's format, a list of
{code, description}, in Chinese (the parameter named first), 404 and 405 included.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import xml.etree.ElementTree as ET
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from gridgov.cases import geocode, intake, selectors
from gridgov.cases.models import Case, Category
from gridgov.cases.states import STATUSES, StatusType
from gridgov.core.clock import now
from gridgov.core.errors import Conflict, DomainError, NotFound
from gridgov.interfaces.http import public_view
from gridgov.units.models import Unit

MAX_RESULTS = 200


# The XML element of each list's items (GeoReport v2): <services><service>, <service_requests><request>.
_XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error"}


def _fmt(request: HttpRequest, fmt: str | None) -> str:
    return "json" if fmt == ".json" else "xml"


def _xml(root: str, data: Any) -> bytes:
    def fill(element: ET.Element, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                fill(ET.SubElement(element, key), item)
        elif isinstance(value, list):
            for item in value:
                fill(ET.SubElement(element, _XML_ITEM.get(element.tag, "item")), item)
        elif value is None:
            return
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        else:
            element.text = str(value)

    top = ET.Element(root)
    fill(top, data)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def _respond(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode()
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    return HttpResponse(_xml(root, data), status=status, content_type="text/xml; charset=utf-8")


def _errors(status: int, description: str, fmt: str = "json") -> HttpResponse:
    return _respond(fmt, "errors", [{"code": status, "description": description}], status=status)


def _ok(data: Any, status: int = 200, fmt: str = "json", root: str = "service_requests") -> HttpResponse:
    return _respond(fmt, root, data, status=status)


NO_KEY = "api_key：缺少接口密钥或密钥无效。"


def _service(c: Category) -> dict[str, Any]:
    return {"service_code": c.code, "service_name": c.name, "description": c.name, "metadata": False,
            "type": "realtime", "keywords": "", "group": c.parent.name if c.parent_id and c.parent else c.name}


def _methods(request: HttpRequest, fmt: str, allowed: tuple[str, ...]) -> HttpResponse | None:
    if request.method in allowed:
        return None
    response = _errors(405, f"不支持 {request.method} 方法，请使用 {'、'.join(allowed)}。", fmt)
    response["Allow"] = ", ".join(allowed)
    return response


@public_view
def services_list(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    f = _fmt(request, fmt)
    refused = _methods(request, f, ("GET",))
    if refused is not None:
        return refused
    return _ok([_service(c) for c in selectors.categories()], fmt=f, root="services")


@public_view
def service_definition(request: HttpRequest, code: str, fmt: str | None = None) -> HttpResponse:
    f = _fmt(request, fmt)
    refused = _methods(request, f, ("GET",))
    if refused is not None:
        return refused
    if code not in {c.code for c in selectors.categories()}:
        return _errors(404, "service_code：没有这个事件类别。", f)
    return _ok({"service_code": code, "attributes": []}, fmt=f, root="service_definition")


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


def _keys() -> dict[str, dict[str, str]]:
    """GRIDGOV_OPEN311_KEYS as {key: {"name": client, "township": division code or ""}}."""
    raw: dict[str, Any] = getattr(settings, "GRIDGOV_OPEN311_KEYS", {}) or {}
    keys: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            keys[str(key)] = {"name": str(value.get("name", "")), "township": str(value.get("township", ""))}
        else:
            keys[str(key)] = {"name": str(value), "township": ""}
    return keys


def _client_entry(api_key: str) -> dict[str, str] | None:
    for key, entry in _keys().items():
        if api_key and hmac.compare_digest(api_key.encode(), key.encode()):
            return entry
    return None


def _client(api_key: str) -> str | None:
    entry = _client_entry(api_key)
    return entry["name"] if entry is not None else None


def _township(entry: dict[str, str]) -> Unit | None:
    return geocode.township_by_code(entry.get("township", ""))


def _float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _submit(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    entry = _client_entry(data.get("api_key", ""))
    if entry is None:
        return _errors(403, NO_KEY, fmt)
    client = entry["name"]
    code = data.get("service_code", "")
    if not code:
        return _errors(400, "service_code：请填写事件类别。", fmt)
    lat, lng = _float(data.get("lat")), _float(data.get("long"))
    if (data.get("lat") and lat is None) or (data.get("long") and lng is None):
        return _errors(400, "lat/long：经纬度应为数字。", fmt)
    address = (data.get("address_string", "") or "").strip()
    unit_id: int | None = None
    if lat is None and lng is None:
        if not address:
            return _errors(400, "lat/long：请提供经纬度或地址（address_string）。", fmt)
        township = _township(entry)
        grid = geocode.grid_for_address(address, within=township)
        if grid is not None:
            unit_id = grid.pk
        elif township is not None:
            unit_id = township.pk  # routed to the township office, which places it
        else:
            return _errors(400, "address_string：无法根据地址确定所在网格，请提供经纬度。", fmt)
    description = data.get("description", "")
    name = f"{data.get('last_name', '')}{data.get('first_name', '')}".strip()
    title = description.strip().splitlines()[0][:40] if description.strip() else ""
    try:
        result = intake.case_report(
            actor=None, now=now(), title=title or "市民诉求", description=description,
            category_code=code, channel="open311", lat=lat, lng=lng, unit_id=unit_id, address=address,
            reporter_name=name, reporter_phone=data.get("phone", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""), key_namespace=f"open311:{client}",
        )
    except Conflict as exc:
        return _errors(409, exc.message, fmt)
    except DomainError as exc:
        spec_names = {"category": "service_code", "location": "lat/long", "reporter_phone": "phone",
                      "unit_id": "address_string"}
        field = spec_names.get(exc.field or "", exc.field or "")
        return _errors(exc.http_status, f"{field}：{exc.message}" if field else exc.message, fmt)
    case = result.case
    body = [{"service_request_id": case.number, "service_notice": "已受理登记，可凭编号查询办理进度。",
             "account_id": None, "token": None}]
    return _ok(body, status=201 if result.created else 200, fmt=fmt)


STATUS_VALUES = {"open": False, "closed": True}


def _search(request: HttpRequest, fmt: str) -> HttpResponse:
    # Reading requests needs a client's key too: open to anyone, the list and the detail by number
    # (numbers run in sequence) would let anybody enumerate every case of the county (issue #5).
    if _client(request.GET.get("api_key", "")) is None:
        return _errors(403, NO_KEY, fmt)
    numbers = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
    # The spec: status may be a comma-separated list (open,closed).
    statuses = {v.strip() for v in request.GET.get("status", "").split(",") if v.strip()}
    if statuses - set(STATUS_VALUES):
        return _errors(400, "status：只能是 open、closed，或用逗号分隔的两者。", fmt)
    closed = STATUS_VALUES[next(iter(statuses))] if len(statuses) == 1 else None
    bounds: dict[str, dt.datetime | None] = {"start_date": None, "end_date": None}
    for param in bounds:
        raw = request.GET.get(param)
        if raw:
            try:
                moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return _errors(400, f"{param}：时间格式不正确，应为 2026-03-01T08:00:00+08:00 这样的格式。", fmt)
            if moment.tzinfo is None:
                return _errors(400, f"{param}：时间须带时区，如 +08:00。", fmt)
            bounds[param] = moment
    if not numbers and bounds["start_date"] is None:
        # The spec's default window: the last 90 days.
        bounds["start_date"] = now() - dt.timedelta(days=90)
    rows = selectors.public_case_search(
        numbers=numbers, codes=codes, closed=closed,
        start=bounds["start_date"], end=bounds["end_date"], limit=MAX_RESULTS)
    return _ok([_public_request(c) for c in rows], fmt=fmt)


@public_view
@csrf_exempt
def requests_collection(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    f = _fmt(request, fmt)
    refused = _methods(request, f, ("GET", "POST"))
    if refused is not None:
        return refused
    if request.method == "POST":
        return _submit(request, f)
    return _search(request, f)


@public_view
@csrf_exempt
def request_detail(request: HttpRequest, number: str, fmt: str | None = None) -> HttpResponse:
    f = _fmt(request, fmt)
    refused = _methods(request, f, ("GET",))
    if refused is not None:
        return refused
    if _client(request.GET.get("api_key", "")) is None:
        return _errors(403, NO_KEY, f)
    try:
        case = selectors.public_case_get(number=number)
    except NotFound:
        return _errors(404, "service_request_id：没有这个编号的诉求。", f)
    return _ok([_public_request(case)], fmt=f)


@public_view
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /open311/v2/: the spec's error, not the site's page."""
    return _errors(404, "没有这个接口地址，请核对 Open311 路径（如 services.xml、requests.json）。",
                   "json" if rest.endswith(".json") else "xml")


_FMT = r"(?P<fmt>\.json|\.xml)?"
app_name = "open311"
urlpatterns = [
    re_path(rf"^services{_FMT}$", services_list, name="services"),
    re_path(rf"^services/(?P<code>[-\w]+?){_FMT}$", service_definition, name="service"),
    re_path(rf"^requests{_FMT}$", requests_collection, name="requests"),
    re_path(rf"^requests/(?P<number>[^/]+?){_FMT}$", request_detail, name="request"),
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),
]
