"""Session lifetime for staff: signed out after 30 idle minutes, and 12 hours after signing in
whatever they do. A shared office PC left signed in must not stay open to the next person.
An account still on the initial password its office set, or whose password is older than the
security policy allows (default 90 days), goes to the password page first.

The two timestamps live in the session itself; the clock is `gridgov.core.clock.now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from gridgov.access import sessions
from gridgov.access.passwords import password_expired
from gridgov.core.clock import now
from gridgov.core.middleware import client_ip

IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
# Writing the session on every request would cost a write per page; a minute's slack is harmless.
TOUCH_EVERY = dt.timedelta(seconds=60)

AUTH_AT = "_gridgov_auth_at"
SEEN_AT = "_gridgov_seen_at"


@receiver(user_logged_in)
def _start_clock(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        ts = now().timestamp()
        request.session[AUTH_AT] = ts
        request.session[SEEN_AT] = ts
        sessions.session_started(user=user, now=now(), session=request.session, ip=client_ip(request),
                                 user_agent=request.META.get("HTTP_USER_AGENT", ""))


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware: ends an idle or too-old session before the view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            ts = now().timestamp()
            auth_at = session.get(AUTH_AT)
            seen_at = session.get(SEEN_AT)
            if not isinstance(auth_at, int | float) or not isinstance(seen_at, int | float):
                # A session from before this policy (or a test's force_login): its clock starts now.
                session[AUTH_AT] = ts
                session[SEEN_AT] = ts
            elif ts - seen_at > IDLE_TIMEOUT.total_seconds() or ts - auth_at > ABSOLUTE_TIMEOUT.total_seconds():
                logout(request)  # flushes the session and audits auth.logout
                request.session["_gridgov_expired"] = True
            elif ts - seen_at > TOUCH_EVERY.total_seconds():
                session[SEEN_AT] = ts
            if request.user.is_authenticated:
                sessions.follow_key(session)
            if request.user.is_authenticated and (getattr(request.user, "must_change_password", False)
                                                  or password_expired(request.user, now())):
                # An initial password set by the office is known to the office, and a password past
                # the policy's lifetime (default 90 days) has expired: replace it before anything else.
                allowed = (reverse("staff:password_change"), reverse("staff:logout"), settings.STATIC_URL)
                if not request.path.startswith(allowed):
                    return redirect("staff:password_change")
        return self.get_response(request)
