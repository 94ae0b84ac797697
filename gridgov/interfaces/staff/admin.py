"""Django admin at /support/ for support staff (is_staff accounts).

Every list is narrowed by the signed-in user's scope, exactly like the staff pages, and
nothing is written around the services: unit edits go through `unit_update`, grants are
revoked through `grant_revoke`, locks lifted through `account_unlock`. Adding and deleting
are off; the staff site is where units and staff are created.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from gridgov.access import services as access_services
from gridgov.access.models import Department, Grant, Role, User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_log_read
from gridgov.core.clock import now
from gridgov.core.errors import DomainError
from gridgov.interfaces.http import staff_actor
from gridgov.units import services as unit_services
from gridgov.units.models import Theme, Unit, UnitKind

from .forms import SupportLoginForm

admin.site.site_header = "网格治理平台 · 运维后台"
admin.site.site_title = "运维后台"
admin.site.index_title = "运维后台"
admin.site.login_form = SupportLoginForm
admin.site.unregister(Group)


def _site_permission(request: HttpRequest) -> bool:
    """Support staff (`is_staff`) enter the support site; so does an audit admin, whose one duty, reading
    the audit log, is read here (the menu's 审计日志). Every list inside is still gated by the reader's
    permissions (ReadOnlyAdmin), so an audit admin sees the audit log and nothing else."""
    user = request.user
    if not (user.is_active and user.is_authenticated):
        return False
    return bool(user.is_staff) or scope_for(user).can(P.AUDIT_VIEW)


admin.site.has_permission = _site_permission  # type: ignore[method-assign]


def _scope(request: HttpRequest) -> Scope:
    return scope_for(request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Support staff look; they change things only through the actions and services below."""

    view_perm: str = P.UNIT_VIEW

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _scope(request).can(self.view_perm)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _scope(request).can(self.view_perm)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "serial", "division_code", "depth", "is_active"]
    search_fields = ["name", "serial"]
    list_filter = ["kind"]
    fields = ["name", "kind", "parent", "serial", "grid_type", "division_code", "grid_level",
              "household_estimate", "sort_order", "version"]
    readonly_fields = ["kind", "parent", "version"]
    editable = ("name", "serial", "grid_type", "division_code", "grid_level", "household_estimate", "sort_order")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Unit]:
        return Unit.objects.within(_scope(request)).select_related("kind", "parent")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        scope = _scope(request)
        return scope.can(P.UNIT_EDIT, obj.path) if isinstance(obj, Unit) else scope.can(P.UNIT_EDIT)

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The admin's own transaction has rolled back: nothing of this save was written.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in self.editable}
        result = unit_services.unit_update(actor=staff_actor(request), now=now(), unit_id=obj.pk,
                                           expected_version=obj.version, **changes)
        for warning in result.warnings:
            self.message_user(request, warning, messages.WARNING)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Themes and everything else related are edited on the staff site, through the services."""


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    view_perm = P.STAFF_VIEW
    list_display = ["user", "role", "unit", "title", "department", "granted_at"]
    search_fields = ["user__username", "user__full_name", "unit__name"]
    list_filter = ["role"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grant]:
        return (Grant.objects.within(_scope(request)).filter(revoked_at__isnull=True)
                .select_related("user", "role", "unit", "department"))

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return _scope(request).can(P.GRANT_MANAGE)

    @admin.action(description="撤销所选授权", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        done = 0
        for grant in queryset:
            try:
                access_services.grant_revoke(actor=staff_actor(request), now=now(), grant_id=grant.pk)
            except DomainError as exc:
                self.message_user(request, f"{grant}：{exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"已撤销 {done} 项授权。", messages.SUCCESS)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "unit", "kind", "phone", "is_active"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return Department.objects.within(_scope(request)).select_related("unit")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """Accounts holding a grant somewhere in the viewer's scope; the only write is lifting a lock."""

    view_perm = P.USER_MANAGE
    list_display = ["username", "full_name", "work_phone", "is_active", "last_login"]
    search_fields = ["username", "full_name"]
    fields = ["username", "full_name", "work_phone", "is_active", "is_staff", "last_login", "date_joined"]
    actions = ["unlock"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        scope = _scope(request)
        grants = Grant.objects.within(scope).filter(scope.path_q("unit__path", P.USER_MANAGE),
                                                    revoked_at__isnull=True)
        return User.objects.filter(pk__in=grants.values("user_id"))

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return _scope(request).can(P.USER_MANAGE)

    @admin.action(description="解除登录锁定", permissions=["unlock"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                access_services.account_unlock(actor=staff_actor(request), now=now(), user=user)
            except DomainError as exc:
                self.message_user(request, f"{user}：{exc.message}", messages.ERROR)
        self.message_user(request, "已解除所选账号的登录锁定。", messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Audit admins read the log of their subtree; nobody edits it."""

    view_perm = P.AUDIT_VIEW
    list_display = ["at", "action", "actor_username", "role", "unit_path", "outcome", "ip"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_username", "object_id", "request_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        scope = _scope(request)
        q = scope.path_q("unit_path", P.AUDIT_VIEW)
        if any(p.count("/") == 2 for p in scope.paths_for(P.AUDIT_VIEW)):
            # An audit admin at a root unit (the county) also reads the rows tied to no unit: sign-ins,
            # failed sign-ins, lockouts, policy changes.
            q |= Q(unit_path="")
        return AuditEvent.objects.filter(q)

    def _audited(self, request: HttpRequest, obj_id: str = "") -> None:
        scope = _scope(request)
        path = next(iter(scope.paths_for(P.AUDIT_VIEW)), "")
        audit_log_read(actor=staff_actor(request), now=now(), query=dict(request.GET.items()), role=scope.role_at(path),
                       unit_path=path, obj_id=obj_id)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if self.has_view_permission(request):
            self._audited(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if self.has_view_permission(request):
            self._audited(request, obj_id=str(object_id))
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(UnitKind)
class UnitKindAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "base", "builtin"]


@admin.register(Theme)
class ThemeAdmin(ReadOnlyAdmin):
    list_display = ["name", "code"]


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    view_perm = P.USER_MANAGE
    list_display = ["name", "code", "admin_duty", "field_worker"]
