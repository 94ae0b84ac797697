"""Staff pages: thin views that translate requests into one selector or service call."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.interfaces.http import actor_scope, public_view, scoped_view
from gridgov.units import selectors as unit_selectors

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


LoginView.gridgov_access = "public"  # type: ignore[attr-defined]


@public_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("staff:login")


@scoped_view
def home(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    return render(request, "staff/home.html", {"grants": scope.grants})


@scoped_view
def unit_tree(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    scope.require(P.UNIT_VIEW, scope.unit_paths[0] if scope.unit_paths else "/none/")
    query = request.GET.get("q", "").strip()[:40]
    if query:
        results = unit_selectors.unit_search(scope=scope, query=query)
        return render(request, "staff/unit_tree.html", {"query": query, "results": results})
    roots = unit_selectors.unit_roots(scope=scope)
    return render(request, "staff/unit_tree.html", {"roots": roots, "query": ""})


@scoped_view
def unit_children(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    children = unit_selectors.unit_children(scope=scope, unit=unit)
    return render(request, "staff/_unit_children.html", {"unit": unit, "children": children})


@scoped_view
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    context = {
        "unit": unit,
        "breadcrumb": unit_selectors.unit_breadcrumb(scope=scope, unit=unit),
        "children": unit_selectors.unit_children(scope=scope, unit=unit),
        "staff": unit_selectors.unit_staff(scope=scope, unit=unit),
        "level_name": unit_selectors.level_name(unit),
        "can_edit": scope.can(P.UNIT_EDIT, unit.path),
    }
    return render(request, "staff/unit_detail.html", context)
