"""Two-factor sign-in in the web interface: the gate after the password, the enrol and verify
pages, and the step-up asked before a full export or an unmasking."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from gridgov.access import totp
from gridgov.core.clock import now
from gridgov.core.errors import ValidationFailed
from gridgov.interfaces.http import scoped_view, staff_actor

OTP_AT = "_gridgov_otp_at"
STEP_UP_MESSAGE = "此操作需要先输入动态口令（10 分钟内有效）：网页上输入，或用接口令牌调用 /api/auth/step-up。"


def otp_age_seconds(request: HttpRequest) -> float | None:
    at = request.session.get(OTP_AT)
    return now().timestamp() - at if isinstance(at, int | float) else None


def _exempt(path: str) -> bool:
    open_paths = (reverse("staff:two_factor"), reverse("staff:logout"), reverse("staff:login"), settings.STATIC_URL,
                  "/ops/")
    return path.startswith(open_paths)


class TwoFactorMiddleware:
    """After authentication: an admin or office user reaches nothing but the code page until a
    code has been accepted in this session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and otp_age_seconds(request) is None
                and not _exempt(request.path) and totp.totp_required(user)):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "2fa_required", "message": "请先在网页上输入动态口令。"}, status=403)
            return redirect(f"{reverse('staff:two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


def step_up_missing(request: HttpRequest) -> bool:
    """True when an export or unmasking must first ask for a fresh code."""
    if not getattr(settings, "GRIDGOV_REQUIRE_TOTP", True):
        return False
    token = getattr(request, "api_token", None)
    if token is not None:
        # A bearer request: the code given through POST /api/auth/step-up with this token counts.
        at = token.stepped_up_at
        return at is None or (now() - at) > totp.STEP_UP_WINDOW
    age = otp_age_seconds(request)
    return age is None or age > totp.STEP_UP_WINDOW.total_seconds()


def require_recent_code(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Before a full export or an unmasking: a code from the last ten minutes, whatever the role."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if step_up_missing(request):
            target = request.get_full_path() if request.method == "GET" else request.META.get("HTTP_REFERER", "/")
            return redirect(f"{reverse('staff:two_factor')}?next={target}&step_up=1")
        return view(request, *args, **kwargs)

    return wrapper


def _qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=6, border=4))


@scoped_view
def two_factor(request: HttpRequest) -> HttpResponse:
    user = staff_actor(request)
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("staff:home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("staff:home")
    device = totp.confirmed_device(user)
    context: dict[str, Any] = {"next": next_url, "enrolling": device is None,
                               "step_up": bool(request.GET.get("step_up"))}
    if request.method == "POST":
        try:
            totp.totp_verify(actor=user, now=now(), code=request.POST.get("code", ""), enrolling=device is None)
        except ValidationFailed as exc:
            context["error"] = exc.message
        else:
            request.session.cycle_key()  # a new session id once the second factor is in
            request.session[OTP_AT] = now().timestamp()
            return redirect(next_url)
    if device is None:
        uri = ""
        try:
            uri = totp.totp_begin(actor=user, now=now())
        except ValidationFailed as exc:
            context["error"] = exc.message
        context["qr"] = _qr_svg(uri) if uri else ""
        context["secret"] = uri.split("secret=")[1].split("&")[0] if "secret=" in uri else ""
    return render(request, "staff/two_factor.html", context)
