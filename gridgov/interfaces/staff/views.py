"""Staff pages: thin views that translate requests into one selector or service call."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gridgov.access import selectors as access_selectors
from gridgov.access import services as access_services
from gridgov.access.passwords import ComplexityValidator, password_expired
from gridgov.access.policy import policy
from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.cases import calendar as work_calendar
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, NotFound
from gridgov.core.errors import PermissionDenied as DomainPermissionDenied
from gridgov.insights import today
from gridgov.interfaces.http import actor_scope, public_view, scoped_view, staff_actor, url_for_id
from gridgov.units import selectors as unit_selectors
from gridgov.units import services as unit_services
from gridgov.units.models import GridType, Unit

from .forms import (
    DepartmentForm,
    GrantForm,
    LoginForm,
    PasswordChangeForm,
    UnitCreateForm,
    UnitEditForm,
    UnitMoveForm,
    apply_domain_error,
    pretty_geojson,
)


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.session.pop("_gridgov_expired", False)
        return context


LoginView.gridgov_access = "public"  # type: ignore[attr-defined]


@public_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("staff:login")


@scoped_view
def home(request: HttpRequest) -> HttpResponse:
    """今日工作: the signed-in user's own figures for today, each linking to its list (insights/today.py)."""
    scope = actor_scope(request)
    moment = now()
    # From 1 December the offices are warned while next year's working calendar is unconfirmed.
    unconfirmed = work_calendar.unconfirmed_next_year(moment) if scope.can(P.CASE_DISPATCH) else None
    return render(request, "staff/home.html", {
        "grants": scope.grants, "today": today.my_day(scope=scope, user=request.user, now=moment), "now": moment,
        "calendar_unconfirmed": unconfirmed})


@scoped_view
def unit_tree(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.UNIT_VIEW):
        # Someone who sees units through another right (audit, policy) is refused; nobody else learns more.
        raise DomainPermissionDenied() if scope.unit_paths else NotFound()
    query = request.GET.get("q", "").strip()[:40]
    if query:
        results = unit_selectors.unit_search(scope=scope, query=query)
        return render(request, "staff/unit_tree.html", {"query": query, "results": results})
    roots = _nodes(unit_selectors.unit_root_nodes(scope=scope))
    return render(request, "staff/unit_tree.html", {"roots": roots, "query": ""})


@scoped_view
def unit_children(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    children = _nodes(unit_selectors.unit_child_nodes(scope=scope, unit=unit))
    return render(request, "staff/_unit_children.html", {"unit": unit, "children": children})


def _linked(units: list[Unit]) -> list[Unit]:
    """Units of a breadcrumb with their page's URL (reversed once for the list)."""
    page = url_for_id("staff:unit_detail")
    for u in units:
        u.url = page(u.pk)  # type: ignore[attr-defined]
    return units


def _nodes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tree nodes (`unit_child_nodes`, `unit_root_nodes`) with their page's and children's URLs, reversed
    once for the list, and the grey line after the name (kind · 编号 · 下级), built here rather than by
    three template conditions per node."""
    page, children = url_for_id("staff:unit_detail"), url_for_id("staff:unit_children")
    for r in rows:
        r["url"] = page(r["id"])
        r["children_url"] = children(r["id"])
        meta = [r["kind_name"]]
        if r["serial"]:
            meta.append(f"编号 {r['serial']}")
        if r["child_count"]:
            meta.append(f"下级 {r['child_count']}")
        r["meta"] = " · ".join(meta)
    return rows


def _revocable(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Staff rows of a unit (`unit_staff_rows`) with the URL of their revoke form (shown to those who
    manage grants)."""
    revoke = url_for_id("staff:grant_revoke")
    for g in grants:
        g["revoke_url"] = revoke(g["id"])
    return grants


def _can(scope: Scope, unit: Unit) -> dict[str, bool]:
    return {
        "can_edit": scope.can(P.UNIT_EDIT, unit.path),
        "can_move": unit.parent_id is not None and scope.can(P.UNIT_EDIT, unit.path),
        "can_grant": scope.can(P.GRANT_MANAGE, unit.path),
        "can_departments": access_selectors.hosts_departments(unit) and scope.can(P.DEPARTMENT_MANAGE, unit.path),
    }


@scoped_view
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_page_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)  # as the unit list: seeing a unit through audit or policy is not enough
    context: dict[str, Any] = {
        "unit": unit,
        "breadcrumb": _linked(unit_selectors.unit_breadcrumb(scope=scope, unit=unit)),
        "children": _nodes(unit_selectors.unit_child_nodes(scope=scope, unit=unit)),
        "staff": _revocable(unit_selectors.unit_staff_rows(scope=scope, unit=unit)),
        "level_name": unit_selectors.level_name(unit),
        "themes": list(unit.themes.all()),
        "hosts_departments": access_selectors.hosts_departments(unit),
        **_can(scope, unit),
    }
    if context["hosts_departments"]:
        context["departments"] = access_selectors.departments_of(scope=scope, unit=unit)
        context["department_form"] = DepartmentForm()
    return render(request, "staff/unit_detail.html", context)


def _choices() -> dict[str, Any]:
    return {
        "grid_types": list(GridType.choices),
        "themes": [(t.code, t.name) for t in unit_selectors.themes()],
    }


def _show_warnings(request: HttpRequest, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


@scoped_view
def unit_edit(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_EDIT, unit.path)
    if request.method == "POST":
        form = UnitEditForm(request.POST, **_choices())
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = unit_services.unit_update(
                    actor=staff_actor(request), now=now(), unit_id=unit.pk, expected_version=data["expected_version"],
                    name=data["name"], serial=data["serial"], grid_type=data["grid_type"],
                    division_code=data["division_code"], household_estimate=data["household_estimate"],
                    theme_codes=data["themes"], boundary=form.boundary_value(),
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "已保存。")
                _show_warnings(request, result.warnings)
                return redirect("staff:unit_detail", unit.pk)
    else:
        form = UnitEditForm(initial={
            "expected_version": unit.version, "name": unit.name, "serial": unit.serial,
            "grid_type": unit.grid_type, "division_code": unit.division_code or "",
            "household_estimate": unit.household_estimate, "themes": [t.code for t in unit.themes.all()],
            "boundary": pretty_geojson(unit.boundary),
        }, **_choices())
    return render(request, "staff/unit_form.html", {"unit": unit, "form": form, "title": f"修改「{unit.name}」"})


@scoped_view
def unit_add_child(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    parent = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_EDIT, parent.path)
    kinds = [(k.code, k.name) for k in unit_selectors.kinds()]
    if request.method == "POST":
        form = UnitCreateForm(request.POST, kinds=kinds, **_choices())
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = unit_services.unit_create(
                    actor=staff_actor(request), now=now(), parent=parent, name=data["name"], kind_code=data["kind"],
                    serial=data["serial"], grid_type=data["grid_type"], division_code=data["division_code"],
                    household_estimate=data["household_estimate"], theme_codes=data["themes"],
                    boundary=form.boundary_value(),
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"已添加「{result.unit.name}」。")
                _show_warnings(request, result.warnings)
                return redirect("staff:unit_detail", result.unit.pk)
    else:
        form = UnitCreateForm(kinds=kinds, **_choices())
    return render(request, "staff/unit_form.html",
                  {"unit": parent, "form": form, "title": f"在「{parent.name}」下添加单位"})


FIELD_LABELS = {
    "name": "名称", "serial": "网格编号", "grid_type": "网格类型", "grid_level": "网格层级",
    "division_code": "区划代码", "household_estimate": "户数", "sort_order": "排序", "kind": "类型",
    "themes": "专题网格", "boundary": "边界",
}


def _indent(u: Unit, top: int) -> str:
    return f"{'　' * max(u.depth - top, 0)}{u.name}（{u.kind.name}）"


@scoped_view
def unit_move(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_EDIT, unit.path)
    targets = unit_selectors.move_targets(scope=scope, unit=unit, perm=P.UNIT_EDIT)
    top = min((t.depth for t in targets), default=0)
    form = UnitMoveForm(request.POST or None, parents=[(t.pk, _indent(t, top)) for t in targets])
    if request.method == "POST" and form.is_valid():
        try:
            # The new parent is looked up through the actor's scope first: one outside it is "not found".
            new_parent = unit_selectors.unit_get(scope=scope, unit_id=form.cleaned_data["new_parent"])
            result = unit_services.unit_move(actor=staff_actor(request), now=now(), unit_id=unit.pk,
                                             new_parent_id=new_parent.pk)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已将「{unit.name}」调整到「{new_parent.name}」之下。")
            _show_warnings(request, result.warnings)
            return redirect("staff:unit_detail", unit.pk)
    return render(request, "staff/unit_move.html", {"unit": unit, "form": form, "has_targets": bool(targets)})


@scoped_view
def unit_history(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    events = unit_selectors.unit_history(scope=scope, unit=unit)
    for event in events:
        event.changed_labels = [FIELD_LABELS.get(k, k) for k in event.changes]  # type: ignore[attr-defined]
    return render(request, "staff/unit_history.html", {"unit": unit, "events": events})


@scoped_view
def grant_add(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.GRANT_MANAGE, unit.path)
    roles = [(r.code, r.name) for r in access_selectors.grantable_roles(scope=scope, unit=unit)]
    departments = [(d.pk, d.name) for d in access_selectors.departments_of(scope=scope, unit=unit)]
    allow_new = scope.can(P.USER_MANAGE, unit.path)
    form = GrantForm(request.POST or None, roles=roles, departments=departments, allow_new=allow_new)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            department = (access_selectors.department_get(scope=scope, department_id=data["department"])
                          if data["department"] else None)
            if data["mode"] == GrantForm.MODE_NEW:
                grant = access_services.staff_account_create(
                    actor=staff_actor(request), now=now(), unit=unit, role_code=data["role"], username=data["username"],
                    full_name=data["full_name"], password=data["password"], work_phone=data["work_phone"],
                    title=data["title"], department=department,
                )
            else:
                user = access_selectors.user_by_username(data["username"])
                if user is None:
                    form.add_error("username", "没有找到该用户名的账号；如是新同事，请选择“新建账号”。")
                    raise _FormInvalid
                grant = access_services.grant_create(actor=staff_actor(request), now=now(), user=user,
                                                     role_code=data["role"], unit=unit, department=department,
                                                     title=data["title"])
        except _FormInvalid:
            pass
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已授权 {grant.user.display_name} 在「{unit.name}」任{grant.role.name}。")
            return redirect("staff:unit_detail", unit.pk)
    return render(request, "staff/grant_form.html", {"unit": unit, "form": form, "allow_new": allow_new})


class _FormInvalid(Exception):
    """The form already carries its error; nothing was written."""


@scoped_view
@require_POST
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    scope = actor_scope(request)
    grant = access_selectors.grant_get(scope=scope, grant_id=grant_id)
    try:
        access_services.grant_revoke(actor=staff_actor(request), now=now(), grant_id=grant.pk)
    except DomainPermissionDenied as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤销 {grant.user.display_name} 的{grant.role.name}职务。")
    return redirect("staff:unit_detail", grant.unit_id)


@scoped_view
@require_POST
def department_add(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    form = DepartmentForm(request.POST)
    if form.is_valid():
        try:
            if not access_selectors.hosts_departments(unit):
                raise DomainPermissionDenied("只有县、乡镇（街道）可以设置职能部门。")
            dept = access_services.department_create(actor=staff_actor(request), now=now(), unit=unit,
                                                     **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已添加部门「{dept.name}」。")
            return redirect(reverse("staff:unit_detail", args=[unit.pk]) + "#departments")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect(reverse("staff:unit_detail", args=[unit.pk]) + "#departments")


@scoped_view
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access_services.password_change(actor=staff_actor(request), now=now(),
                                            old_password=form.cleaned_data["old_password"],
                                            new_password=form.cleaned_data["new_password"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            request.user.refresh_from_db()  # type: ignore[union-attr]
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, "密码已修改。")
            return redirect("staff:home")
    return render(request, "staff/password_change.html", {
        "form": form, "password_expired": password_expired(request.user, now()),
        "max_age_days": policy().password_max_age_days, "rules": ComplexityValidator().get_help_text()})
