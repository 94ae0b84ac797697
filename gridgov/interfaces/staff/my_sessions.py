"""「我的登录」: a staff member sees where they are signed in and ends any session (a phone left in
the office, a shared PC), and makes and revokes personal API tokens for an API client (the phone app).
A new token is shown once, on the answer to the POST that made it (not stored, not cached)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from gridgov.access import sessions, tokens
from gridgov.access.policy import policy
from gridgov.core.clock import now
from gridgov.core.errors import ValidationFailed
from gridgov.interfaces.http import scoped_view, staff_actor
from gridgov.interfaces.staff.reveal import render_no_store
from gridgov.interfaces.two_factor import otp_age_seconds


def _page(request: HttpRequest, **extra: Any) -> HttpResponse:
    current = request.session.get(sessions.SID)
    rows = sessions.sessions_of(user=request.user)
    context = {"rows": rows, "current": current, "tokens": tokens.tokens_of(user=request.user, now=now()),
               "token_hours": policy().api_token_hours, **extra}
    return render_no_store(request, "staff/my_sessions.html", context)


@scoped_view
def my_sessions(request: HttpRequest) -> HttpResponse:
    return _page(request)


@scoped_view
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        row, raw = tokens.token_create(actor=staff_actor(request), now=now(), name=request.POST.get("name", ""),
                                       second_factor=otp_age_seconds(request) is not None)
    except ValidationFailed as exc:
        return _page(request, token_error=exc.message, token_name=request.POST.get("name", ""))
    return _page(request, new_token=raw, new_row=row)


@scoped_view
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    tokens.token_revoke(actor=staff_actor(request), now=now(), token_id=token_id)
    messages.success(request, "已撤销该接口令牌，使用它的设备需重新获取。")
    return redirect("staff:my_sessions")


@scoped_view
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    row = sessions.session_end(actor=staff_actor(request), now=now(), session_id=session_id)
    if row.sid == request.session.get(sessions.SID):
        return redirect("staff:login")
    messages.success(request, "已结束该登录。")
    return redirect("staff:my_sessions")


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("sessions/", my_sessions, name="my_sessions"),
        path("sessions/<int:session_id>/end/", session_end, name="session_end"),
        path("sessions/tokens/", token_create, name="token_create"),
        path("sessions/tokens/<int:token_id>/revoke/", token_revoke, name="token_revoke"),
    ]
