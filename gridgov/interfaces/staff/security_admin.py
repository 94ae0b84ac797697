"""The security admin's pages (安全管理员, policy.manage): the security policy as data (password
lifetime, export approval threshold, hourly view alert, resident retention, API token lifetime),
resetting a lost authenticator, and the API tokens of the accounts in scope. Nobody else reaches
them (404, like a page that does not exist)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access import role_admin, tokens, totp
from gridgov.access.models import Grant
from gridgov.access.policy import BOUNDS, policy, policy_update
from gridgov.access.roles import ALL_PERMISSIONS, P
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, NotFound
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.two_factor import otp_age_seconds


def _require_security_admin(request: HttpRequest) -> None:
    if not actor_scope(request).can(P.POLICY_MANAGE):
        raise NotFound()


@scoped_view
def security_policy(request: HttpRequest) -> HttpResponse:
    _require_security_admin(request)
    current = policy()
    values = {field: getattr(current, field) for field in BOUNDS}
    error = ""
    if request.method == "POST":
        values = {field: request.POST.get(field, "") for field in BOUNDS}
        try:
            policy_update(actor=staff_actor(request), now=now(), **values)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "安全策略已保存。")
            return redirect("staff:security_policy")
    fields = [{"name": f, "label": b.label, "low": b.low, "high": b.high, "value": values[f]}
              for f, b in BOUNDS.items()]
    return render(request, "staff/security/policy.html", {"fields": fields, "error": error, "policy": current})


@scoped_view
def totp_reset(request: HttpRequest) -> HttpResponse:
    """Remove a staff member's lost authenticator: they enrol again at their next sign-in."""
    _require_security_admin(request)
    scope = actor_scope(request)
    error = ""
    username = (request.POST.get("username") or "").strip()
    if request.method == "POST":
        grant: Any = Grant.objects.within(scope).filter(user__username=username, revoked_at__isnull=True) \
            .select_related("user").first()
        if grant is None:
            error = f"在您的管理范围内没有找到用户 {username}。" if username else "请填写用户名。"
        else:
            try:
                totp.totp_reset(actor=staff_actor(request), now=now(), user=grant.user)
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, f"已重置 {grant.user.display_name} 的动态口令，下次登录时重新绑定。")
                return redirect("staff:security_totp_reset")
    return render(request, "staff/security/totp_reset.html", {"error": error, "username": username})


@scoped_view
def roles(request: HttpRequest) -> HttpResponse:
    """The roles' permission sets (not the three admin duties), one form per role."""
    _require_security_admin(request)
    error = ""
    if request.method == "POST":
        try:
            role = role_admin.role_update(actor=staff_actor(request), now=now(), role_code=request.POST.get("role", ""),
                                          permissions=request.POST.getlist("permissions"))
        except DomainError as exc:
            if exc.code == "not_found":
                raise
            error = exc.message
        else:
            messages.success(request, f"已保存「{role.name}」的权限。")
            return redirect("staff:security_roles")
    perms = sorted(ALL_PERMISSIONS - role_admin.ADMIN_ONLY)
    return render(request, "staff/security/roles.html", {"roles": role_admin.editable_roles(), "perms": perms,
                                                         "error": error})


@scoped_view
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Every live API token of the accounts in scope: revoke any, or make one for an integration
    account (shown once, on this answer)."""
    _require_security_admin(request)
    scope = actor_scope(request)
    context: dict[str, Any] = {"error": "", "username": "", "name": ""}
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip()
        name = (request.POST.get("name") or "").strip()
        context.update(username=username, name=name)
        grant: Any = Grant.objects.within(scope).filter(user__username=username, revoked_at__isnull=True) \
            .select_related("user").first()
        if grant is None:
            context["error"] = f"在您的管理范围内没有找到用户 {username}。" if username else "请填写用户名。"
        else:
            try:
                # Stands on the security admin's own second factor (docs/security.md: not yet decided).
                row, raw = tokens.token_create(actor=staff_actor(request), now=now(), name=name, user=grant.user,
                                               second_factor=otp_age_seconds(request) is not None)
            except DomainError as exc:
                if exc.code == "not_found":
                    raise
                context["error"] = exc.message
            else:
                context.update(new_token=raw, new_row=row, username="", name="")
    context["tokens"] = tokens.tokens_managed(actor=staff_actor(request), now=now())
    response = render(request, "staff/security/api_tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@scoped_view
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    _require_security_admin(request)
    tokens.token_revoke(actor=staff_actor(request), now=now(), token_id=token_id)
    messages.success(request, "已撤销该接口令牌。")
    return redirect("staff:security_api_tokens")


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("security/", security_policy, name="security_policy"),
        path("security/totp-reset/", totp_reset, name="security_totp_reset"),
        path("security/roles/", roles, name="security_roles"),
        path("security/api-tokens/", api_tokens, name="security_api_tokens"),
        path("security/api-tokens/<int:token_id>/revoke/", api_token_revoke, name="security_api_token_revoke"),
    ]
