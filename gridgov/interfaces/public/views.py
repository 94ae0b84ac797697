"""Residents' pages: report a problem (from a grid's QR code or the general page), track it, rate it
or say it is not solved, and the public disclosure of a village or grid.

They show no personal data: staff names and work phones only where the grid board already prints
them, and of a case only what `gridgov.cases.public.selectors` de-identifies. Every page works
without scripts; /static/gridgov/public.js only compresses photos and fills in the position.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from gridgov.cases.public import selectors as public_cases
from gridgov.cases.public.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, clean_photo
from gridgov.cases.public.services import (
    PHONE_RETENTION_DAYS,
    REOPEN_WINDOW_DAYS,
    normalize_phone,
    public_report,
    reporter_rate,
    reporter_reopen,
)
from gridgov.core.clock import now
from gridgov.core.errors import Conflict, DomainError, ValidationFailed
from gridgov.core.middleware import client_ip
from gridgov.deliberation.selectors import public_decided
from gridgov.geo.geometry import parse_boundary
from gridgov.interfaces.http import public_view
from gridgov.interfaces.staff.dashboard import tile_config
from gridgov.units.models import Unit
from gridgov.units.selectors import public_board_staff, public_grid

from . import throttle
from .icons import CATEGORY_ICONS
from .links import grid_token, photo_id_from_token, photo_token, tracking_url, unit_id_from_token

BAD_LINK = "二维码无效或已过期，请扫描网格公示牌上的二维码。"


def _ip(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _private(response: HttpResponse) -> HttpResponse:
    """Pages that carry a tracking code: never cached by a proxy, never indexed."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _message(request: HttpRequest, text: str, status: int, title: str = "提示", lookup: bool = True) -> HttpResponse:
    context = {"title": title, "text": text, "lookup": lookup}
    return _private(render(request, "public/message.html", context, status=status))


def _bad_link(request: HttpRequest) -> HttpResponse:
    """A damaged or forged QR link: a plain Chinese page, the same for every wrong token."""
    return _message(request, BAD_LINK, 404, title="二维码无法识别", lookup=False)


# --- report -----------------------------------------------------------------------------------

def _pin_map() -> dict[str, Any] | None:
    """What the general page needs to let a resident drop a pin: the base map and where to centre it.
    None without a base map (a pin on a blank background tells nobody anything) or a single county.
    Leaflet is fetched only when the resident opens the map, so the page stays light."""
    tiles = tile_config()
    if not tiles["layers"]:
        return None
    county = public_cases.fallback_unit()
    if county is None or not county.boundary:
        return None
    centre = parse_boundary(county.boundary).representative_point()
    return {"tiles": tiles, "center": [round(centre.y, 5), round(centre.x, 5)], "zoom": 11,
            "css": static("leaflet/leaflet.css"), "js": static("leaflet/leaflet.js")}


def _form_context(request: HttpRequest, *, unit: Unit | None, values: dict[str, Any] | None = None,
                  error: ValidationFailed | None = None, general: bool = False) -> dict[str, Any]:
    ip = _ip(request)
    values = values or {}
    return {
        "unit": unit,
        "general": general,
        "categories": [(code, words, CATEGORY_ICONS.get(code, CATEGORY_ICONS["other"]))
                       for code, words in public_cases.public_categories()],
        "key": values.get("key") or secrets.token_urlsafe(18),
        "values": values,
        "error": error.message if error else "",
        "error_field": (error.field or "") if error else "",
        "challenge": throttle.new_challenge() if throttle.over(throttle.CHALLENGE_AFTER, ip) else None,
        "max_photos": MAX_PHOTOS,
        "retention_days": PHONE_RETENTION_DAYS,
        "pin_map": _pin_map() if general else None,
    }


def _float(raw: str, label: str) -> float | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed(f"{label}格式不正确，请点「用我现在的位置」或只填地址。", field="location")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{label}格式不正确。", field="location")
    return value


def _photos(request: HttpRequest) -> list[bytes]:
    files = [f for f in request.FILES.getlist("photos") if f.size]
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(f"最多上传 {MAX_PHOTOS} 张照片。", field="photos")
    for i, f in enumerate(files, start=1):
        if (f.size or 0) > MAX_PHOTO_BYTES:
            raise ValidationFailed(f"第 {i} 张照片太大了（超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB），请换一张。",
                                  field="photos")
    return [f.read() for f in files]


def _submit(request: HttpRequest, *, unit: Unit | None, general: bool, template: str,
            extra: dict[str, Any]) -> HttpResponse:
    ip = _ip(request)
    post = request.POST
    values: dict[str, Any] = {k: post.get(k, "") for k in
                              ("key", "category", "description", "lat", "lng", "address", "phone")}
    values["anonymous"] = post.get("anonymous") == "1"

    def again(error: ValidationFailed, status: int) -> HttpResponse:
        context = {**extra, **_form_context(request, unit=unit, values=values, error=error, general=general)}
        return _private(render(request, template, context, status=status))

    if (throttle.hit(throttle.ATTEMPTS_PER_IP, ip) > throttle.ATTEMPTS_PER_IP.limit
            or throttle.over(throttle.REPORT_PER_IP, ip)):
        return again(ValidationFailed(throttle.TOO_MANY), 429)
    if throttle.over(throttle.CHALLENGE_AFTER, ip) and not throttle.solved(
            post.get("challenge_token", ""), post.get("challenge_answer", "")):
        return again(ValidationFailed("请先算一算下面的小题目，再提交。", field="challenge"), 400)
    try:
        phone = normalize_phone(values["phone"])
        if phone and throttle.over(throttle.REPORT_PER_PHONE, phone):
            return again(ValidationFailed(throttle.TOO_MANY_PHONE, field="phone"), 429)
        lat, lng = _float(values["lat"], "纬度"), _float(values["lng"], "经度")
        unit_id = unit.pk if unit is not None else None
        if general and lat is None and lng is None:
            fallback = public_cases.fallback_unit() if values["address"].strip() else None
            unit_id = fallback.pk if fallback is not None else None
        result = public_report(
            now=now(), category_code=values["category"], description=values["description"],
            idempotency_key=values["key"], photos=_photos(request), unit_id=unit_id,
            lat=None if unit is not None else lat, lng=None if unit is not None else lng,
            address=values["address"], phone=phone, anonymous=values["anonymous"], tracking_link=tracking_url,
        )
    except Conflict:
        return again(ValidationFailed("这份内容和刚才提交的不一样，请刷新页面后重新填写。"), 409)
    except DomainError as exc:
        error = exc if isinstance(exc, ValidationFailed) else ValidationFailed(exc.message, field=exc.field)
        return again(error, 503 if exc.http_status == 503 else 400)  # 503: the photo store did not answer
    if result.created:
        throttle.hit(throttle.REPORT_PER_IP, ip)
        throttle.hit(throttle.CHALLENGE_AFTER, ip)
        if phone:
            throttle.hit(throttle.REPORT_PER_PHONE, phone)
    target = reverse("public:track", args=[result.case.tracking_token]) + "?new=1"
    return HttpResponseRedirect(target, status=303)


@public_view
@require_http_methods(["GET", "POST"])
def grid(request: HttpRequest, token: str) -> HttpResponse:
    """What a resident sees after scanning a grid board's QR code: report a problem here, or call
    the grid's staff."""
    unit = public_grid(unit_id_from_token(token))
    if unit is None:
        return _bad_link(request)
    extra = {"staff": public_board_staff(unit), "token": token,
             "village_token": grid_token(unit.parent_id) if unit.parent_id else "",
             "decided": public_decided(unit=unit, now=now())}
    if request.method == "POST":
        return _submit(request, unit=unit, general=False, template="public/grid.html", extra=extra)
    return render(request, "public/grid.html", {**extra, **_form_context(request, unit=unit)})


@public_view
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The general page: the place is a point (from the phone's position or typed) or an address."""
    if request.method == "POST":
        return _submit(request, unit=None, general=True, template="public/report.html", extra={})
    return render(request, "public/report.html", _form_context(request, unit=None, general=True))


# --- track ------------------------------------------------------------------------------------

def _tracked(request: HttpRequest, code: str) -> tuple[Any, HttpResponse | None]:
    ip = _ip(request)
    if throttle.hit(throttle.TRACK_PER_IP, ip) > throttle.TRACK_PER_IP.limit:
        return None, _message(request, throttle.TOO_MANY, 429)
    if throttle.over(throttle.TRACK_MISS_PER_IP, ip):
        return None, _message(request, throttle.TOO_MANY_MISSES, 429)
    case = public_cases.case_by_tracking_code(code)
    if case is None:
        throttle.hit(throttle.TRACK_MISS_PER_IP, ip)
        return None, _message(request, "查询码不正确，请核对后再试。", 404, title="没有找到")
    return case, None


def _track_page(request: HttpRequest, code: str, case: Any, *, error: str = "", status: int = 200,
                values: dict[str, str] | None = None) -> HttpResponse:
    shown = public_cases.tracked_case(case)
    view = public_cases.public_view_of(shown, now=now(), for_reporter=True)
    own = shown.pk == case.pk
    context = {
        "code": code, "code_groups": " ".join(code[i:i + 4] for i in range(0, len(code), 4)),
        "case": view, "merged": not own, "can_answer": own and view.can_rate,
        "new": request.GET.get("new") == "1", "done": request.GET.get("done", ""), "error": error,
        "values": values or {}, "ratings": [(k, v[1]) for k, v in public_cases.RATING_LEVELS.items()],
        "reopen_days": REOPEN_WINDOW_DAYS,
    }
    return _private(render(request, "public/track.html", context, status=status))


@public_view
@require_http_methods(["GET", "POST"])
def track_lookup(request: HttpRequest) -> HttpResponse:
    """Type a tracking code (from the SMS or the paper slip) to open its page."""
    if request.method == "POST":
        code = "".join((request.POST.get("code") or "").split())
        if not public_cases.TRACKING_CODE.match(code):
            return _private(render(request, "public/lookup.html", {"error": "查询码不正确，请核对后再试。"},
                                   status=400))
        return HttpResponseRedirect(reverse("public:track", args=[code]), status=303)
    return _private(render(request, "public/lookup.html", {}))


@public_view
@require_http_methods(["GET"])
def track(request: HttpRequest, code: str) -> HttpResponse:
    case, refused = _tracked(request, code)
    if refused is not None:
        return refused
    return _track_page(request, code, case)


def _answer(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    ip = _ip(request)
    case, refused = _tracked(request, code)
    if refused is not None:
        return refused
    if throttle.hit(throttle.ANSWER_PER_IP, ip) > throttle.ANSWER_PER_IP.limit:
        return _track_page(request, code, case, error=throttle.TOO_MANY, status=429)
    values = {"rating": request.POST.get("rating", ""), "comment": request.POST.get("comment", ""),
              "reason": request.POST.get("reason", "")}
    try:
        if kind == "rate":
            reporter_rate(now=now(), code=code, level=values["rating"], comment=values["comment"])
        else:
            reporter_reopen(now=now(), code=code, reason=values["reason"])
    except DomainError as exc:
        return _track_page(request, code, public_cases.case_by_tracking_code(code), error=exc.message,
                           status=exc.http_status, values=values)
    done = "rated" if kind == "rate" else "reopened"
    return HttpResponseRedirect(reverse("public:track", args=[code]) + f"?done={done}", status=303)


@public_view
@require_POST
def track_rate(request: HttpRequest, code: str) -> HttpResponse:
    return _answer(request, code, "rate")


@public_view
@require_POST
def track_reopen(request: HttpRequest, code: str) -> HttpResponse:
    return _answer(request, code, "reopen")


def _jpeg(data: bytes) -> HttpResponse:
    # Re-encoded on the way out as well: whatever path stored the photo, no EXIF leaves the server.
    try:
        body = clean_photo(data)
    except ValidationFailed:
        raise Http404("照片无法显示。")
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@public_view
@require_http_methods(["GET"])
def track_photo(request: HttpRequest, code: str, n: int) -> HttpResponse:
    case, refused = _tracked(request, code)
    if refused is not None:
        return refused
    shown = public_cases.tracked_case(case)
    if shown.status not in ("resolved", "closed"):
        raise Http404()
    photos = public_cases.public_photos(shown)
    if not 1 <= n <= len(photos):
        raise Http404()
    with photos[n - 1].file.open("rb") as fh:
        return _jpeg(fh.read())


# --- disclosure -------------------------------------------------------------------------------

@public_view
@require_http_methods(["GET"])
def disclosure(request: HttpRequest, token: str) -> HttpResponse:
    """办理公开: finished cases an office chose to publish, and the unit's public statistics."""
    unit = public_cases.reporting_unit(unit_id_from_token(token))
    if unit is None:
        return _bad_link(request)
    cases = public_cases.disclosed_cases(unit, now=now())
    context = {
        "unit": unit, "token": token, "stats": public_cases.public_stats(unit),
        "cases": [(c, [photo_token(i) for i in c.photo_ids]) for c in cases],
    }
    return render(request, "public/disclosure.html", context)


@public_view
@require_http_methods(["GET"])
def disclosure_photo(request: HttpRequest, token: str, photo: str) -> HttpResponse:
    unit = public_cases.reporting_unit(unit_id_from_token(token))
    attachment_id = photo_id_from_token(photo)
    att = (public_cases.disclosed_photo(unit, attachment_id)
           if unit is not None and attachment_id is not None else None)
    if att is None:
        raise Http404()
    with att.file.open("rb") as fh:
        return _jpeg(fh.read())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its cookie (a page left open for days, a browser that drops cookies): a plain
    Chinese page instead of Django's English one. Nothing was written."""
    return _message(request, "页面已过期，没有提交成功。请返回上一页，刷新后重新填写提交。", 403, title="没有提交成功",
                    lookup=False)
