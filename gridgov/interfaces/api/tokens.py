"""Bearer authentication with personal API tokens, and the token's own endpoints (/api/auth/).

A request carrying `Authorization: Bearer ggt_…` is authenticated by the token alone (no session, no
CSRF token needed: a browser never adds this header on its own); a bad token is a 401 and never falls
back to the session. Without the header the staff session is used, with its CSRF check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer

from gridgov.access import tokens
from gridgov.core.clock import now
from gridgov.core.errors import ValidationFailed
from gridgov.interfaces.http import staff_actor


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a personal API token made on 「我的登录」."""

    def __call__(self, request: HttpRequest) -> Any:
        value = request.headers.get(self.header)
        if not value:
            return None
        scheme, _, raw = value.partition(" ")
        if scheme.lower() != "bearer":
            raise tokens.TokenRefused("token_invalid", "身份凭据格式不正确：应为「Bearer 令牌」。")
        return self.authenticate(request, raw)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = tokens.token_authenticate(raw=token, now=now())
        request.user = row.user
        request.api_token = row  # type: ignore[attr-defined]
        return row.user


router = Router(tags=["auth"])


class TokenOut(Schema):
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime
    step_up_until: dt.datetime | None


class StepUpIn(Schema):
    code: str


def _token(request: HttpRequest) -> tokens.ApiToken:
    row = getattr(request, "api_token", None)
    if row is None:
        raise ValidationFailed("此接口只用于接口令牌；网页登录请在网页上操作。")
    return row


def _out(row: tokens.ApiToken) -> TokenOut:
    until = row.stepped_up_at + tokens.STEP_UP_WINDOW if row.stepped_up_at else None
    return TokenOut(name=row.name, prefix=row.prefix, created_at=row.created_at, expires_at=row.expires_at,
                    step_up_until=until)


@router.get("/token", response=TokenOut, summary="The bearer token in use: purpose, expiry, step-up window")
def token_info(request: HttpRequest) -> TokenOut:
    return _out(_token(request))


@router.post("/token/revoke", response={204: None}, summary="Revoke the bearer token in use (signing out the app)")
def token_revoke(request: HttpRequest) -> tuple[int, None]:
    row = _token(request)
    tokens.token_revoke(actor=staff_actor(request), now=now(), token_id=row.pk)
    return 204, None


@router.post("/step-up", response=TokenOut,
             summary="Give a fresh authenticator code: unmasking and the full export open for 10 minutes")
def step_up(request: HttpRequest, payload: StepUpIn) -> TokenOut:
    row = tokens.token_step_up(token=_token(request), now=now(), code=payload.code)
    return _out(row)
