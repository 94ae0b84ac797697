"""Personal API tokens (接口令牌, 等保 level 3: "API tokens short-lived and revocable").

A staff member makes one on 「我的登录」 for an API client (a grid worker's phone app); the security
admin may make one for an integration account. The token is shown once; only its SHA-256 is kept.
It lives for the security policy's `api_token_hours` (default 8, at most 24), and is refused (401)
once it is expired or revoked — by its owner, by the security admin, or because the owner's
password changed or the account was disabled. It acts with exactly the owner's grants; unmasking
and the full export still need a fresh authenticator code, given through the token's step-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction

from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, DomainError, NotFound, PermissionDenied, ValidationFailed

from .errors import AccessError
from .models import ApiToken, Grant, User
from .roles import P
from .scope import scope_for
from .totp import STEP_UP_WINDOW, totp_required

__all__ = ["STEP_UP_WINDOW", "ApiToken", "TokenRefused", "token_authenticate", "token_create", "token_revoke"]

PREFIX = "ggt_"
# Writing last_used_at on every request would cost a write per call; once a minute is enough.
LAST_USED_EVERY = dt.timedelta(seconds=60)
MAX_LIVE_PER_USER = 10


class TokenRefused(DomainError):
    """The bearer token is unknown, expired, revoked or no longer valid for its account."""

    http_status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _lifetime(hours: int | None) -> dt.timedelta:
    from .policy import policy

    limit = int(policy().api_token_hours)
    if hours is None:
        return dt.timedelta(hours=limit)
    if not 1 <= int(hours) <= limit:
        raise ValidationFailed(f"有效期应在 1 到 {limit} 小时之间。", field="hours", reason=CommonError.OUT_OF_RANGE)
    return dt.timedelta(hours=int(hours))


def _manageable_by_security_admin(actor: User | None, user_id: int) -> bool:
    """The security admin manages the tokens of accounts holding a grant within their scope."""
    scope = scope_for(actor)
    if not scope.can(P.POLICY_MANAGE):
        return False
    return Grant.objects.within(scope).filter(user_id=user_id, revoked_at__isnull=True).exists()


@transaction.atomic
def token_create(*, actor: User, now: dt.datetime, name: str, user: Any | None = None,
                 hours: int | None = None, second_factor: bool = False) -> tuple[ApiToken, str]:
    """Make a token for oneself, or (security admin) for an account in scope. Returns the row and
    the token itself, which is never stored and must be shown to the user once. `second_factor`:
    the session it is made from passed the authenticator code (kept on the token; without it the
    token is refused while the policy requires the code of its owner)."""
    owner = actor if user is None else user
    if owner.pk != actor.pk and not _manageable_by_security_admin(actor, owner.pk):
        raise NotFound()
    owner = User.objects.select_for_update().get(pk=owner.pk)
    if not owner.is_active:
        raise ValidationFailed("该账号已停用，不能发放接口令牌。", reason=AccessError.ACCOUNT_INACTIVE)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed("请填写令牌用途（60 字以内），例如「手机 App」。", field="name",
                               reason=CommonError.REQUIRED)
    lifetime = _lifetime(hours)
    live = ApiToken.objects.filter(user_id=owner.pk, revoked_at__isnull=True, expires_at__gt=now).count()
    if live >= MAX_LIVE_PER_USER:
        raise ValidationFailed(f"有效的接口令牌已达 {MAX_LIVE_PER_USER} 个，请先撤销不用的令牌。",
                               reason=AccessError.TOO_MANY_TOKENS)
    raw = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=owner, name=name, prefix=raw[:10], token_hash=digest(raw),
                                  auth_hash=owner.get_session_auth_hash(), created_at=now, created_by=actor,
                                  expires_at=now + lifetime, second_factor=bool(second_factor))
    audit_record(action="api_token.create", actor=actor, now=now, obj=row,
                 detail={"owner": owner.get_username(), "name": name, "prefix": row.prefix,
                         "expires_at": row.expires_at.isoformat(), "second_factor": row.second_factor})
    return row, raw


def tokens_of(*, user: Any, now: dt.datetime) -> list[ApiToken]:
    """The user's tokens still in force (newest first)."""
    return list(ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True, expires_at__gt=now)[:50])


def tokens_managed(*, actor: User | None, now: dt.datetime) -> list[ApiToken]:
    """For the security admin: every live token of an account in scope."""
    scope = scope_for(actor)
    if not scope.can(P.POLICY_MANAGE):
        raise NotFound()
    users = Grant.objects.within(scope).filter(revoked_at__isnull=True).values("user_id")
    return list(ApiToken.objects.filter(user_id__in=users, revoked_at__isnull=True, expires_at__gt=now)
                .select_related("user")[:200])


@transaction.atomic
def token_revoke(*, actor: User, now: dt.datetime, token_id: int) -> ApiToken:
    """Revoke a token: its owner, or the security admin for an account in scope. Others: not found."""
    row = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if row is None or (row.user_id != actor.pk and not _manageable_by_security_admin(actor, row.user_id)):
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_by = actor
        row.revoke_reason = "owner" if row.user_id == actor.pk else "security_admin"
        row.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(action="api_token.revoke", actor=actor, now=now, obj=row,
                     detail={"owner_id": row.user_id, "prefix": row.prefix, "reason": row.revoke_reason})
    return row


def tokens_revoke_all(*, user: Any, now: dt.datetime, reason: str, actor: User | None | None = None) -> int:
    """Revoke every live token of an account (password changed, account disabled). Call inside the
    transaction of that change; audited once with the count."""
    count = ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True, expires_at__gt=now).update(
        revoked_at=now, revoked_by=actor, revoke_reason=reason)
    if count:
        audit_record(action="api_token.revoke_all", actor=actor, now=now, obj=user,
                     detail={"count": count, "reason": reason})
    return count


def _refuse(row: ApiToken | None, now: dt.datetime, code: str, message: str) -> TokenRefused:
    if row is not None and cache.add(f"gridgov:api-token-refused:{row.pk}", 1, 60):
        # A known token used after its end may have leaked: audited (once a minute per token).
        audit_record(action="api_token.refused", actor=None, now=now, obj=row, outcome=AuditEvent.Outcome.DENIED,
                     username=row.user.get_username(), detail={"prefix": row.prefix, "why": code})
    return TokenRefused(code, message)


def token_authenticate(*, raw: str, now: dt.datetime) -> ApiToken:
    """The live token for a bearer value, with its user loaded; raises TokenRefused otherwise."""
    from .passwords import password_expired

    raw = (raw or "").strip()
    if not raw.startswith(PREFIX) or not 20 <= len(raw) <= 100:
        raise TokenRefused("token_invalid", "接口令牌无效，请在「我的登录」重新获取。")
    row = ApiToken.objects.select_related("user").filter(token_hash=digest(raw)).first()
    if row is None:
        raise TokenRefused("token_invalid", "接口令牌无效，请在「我的登录」重新获取。")
    user = row.user
    if row.revoked_at is not None:
        raise _refuse(row, now, "token_revoked", "接口令牌已被撤销，请重新获取。")
    if row.expires_at <= now:
        raise _refuse(row, now, "token_expired", "接口令牌已过期，请重新获取。")
    if not user.is_active:
        raise _refuse(row, now, "token_revoked", "账号已停用，接口令牌已失效。")
    if not hmac.compare_digest(row.auth_hash, user.get_session_auth_hash()):
        raise _refuse(row, now, "token_revoked", "密码已修改，接口令牌已失效，请重新获取。")
    if user.must_change_password or password_expired(user, now):
        raise TokenRefused("password_expired", "密码需要更换：请先在网页上修改密码。")
    if not row.second_factor and totp_required(user):
        # Minted without the second factor (two-factor sign-in was off, or the account had no admin or
        # office role then): the policy now asks more than the token stands on.
        raise _refuse(row, now, "token_second_factor", "接口令牌是在未输入动态口令时获取的，现在需要动态口令："
                                                       "请在网页上登录并输入动态口令后重新获取。")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def token_step_up(*, token: ApiToken, now: dt.datetime, code: str) -> ApiToken:
    """A fresh authenticator code given through the API: unmasking and the full export are open to
    this token for the step-up window (10 minutes), as after the web page's code."""
    from . import totp

    if totp.confirmed_device(token.user) is None:
        raise PermissionDenied("请先在网页上绑定动态口令设备。", reason=AccessError.NO_TOTP_DEVICE)
    # A wrong code is audited (auth.2fa_failed) and that row is committed before the error.
    totp.totp_verify(actor=token.user, now=now, code=code)
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(stepped_up_at=now)
        audit_record(action="api_token.step_up", actor=token.user, now=now, obj=token,
                     detail={"prefix": token.prefix})
    token.stepped_up_at = now
    return token
