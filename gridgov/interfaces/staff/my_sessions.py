"""「我的登录」: a staff member sees where they are signed in and ends any session (a phone left in
the office, a shared PC)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access import sessions
from gridgov.core.clock import now
from gridgov.interfaces.http import scoped_view


@scoped_view
def my_sessions(request: HttpRequest) -> HttpResponse:
    current = request.session.get(sessions.SID)
    rows = sessions.sessions_of(user=request.user)
    return render(request, "staff/my_sessions.html", {"rows": rows, "current": current})


@scoped_view
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    row = sessions.session_end(actor=request.user, now=now(), session_id=session_id)
    if row.sid == request.session.get(sessions.SID):
        return redirect("staff:login")
    messages.success(request, "已结束该登录。")
    return redirect("staff:my_sessions")


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("sessions/", my_sessions, name="my_sessions"),
        path("sessions/<int:session_id>/end/", session_end, name="session_end"),
    ]
