"""例行工作: the routines of the units in the actor's scope, with their next dates; those who may set a kind of
routine at a unit add and change them with presets (每月N日, 每周X, 每季度) — processes.routines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from gridgov.access.roles import P
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, PermissionDenied, ValidationFailed
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.processes import routines
from gridgov.processes.models import RoutineKind


def _rule(post: Any) -> str:
    return routines.preset_rule(post.get("preset", ""), post.get("day", ""))


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"kinds": RoutineKind.choices, "presets": routines.PRESETS,
            "weekdays": list(enumerate(routines.WEEKDAY_NAMES)), **extra}


@scoped_view
def routine_list(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.UNIT_VIEW):
        raise PermissionDenied("您不能查看例行工作。")
    moment = now()
    today = local(moment).date()
    error = ""
    values: dict[str, Any] = {"preset": "monthly", "day": "10", "starts_on": today.isoformat(), "span_days": "1"}
    if request.method == "POST":
        values = dict(request.POST.items())
        try:
            routines.routine_create(actor=staff_actor(request), now=moment, unit_id=request.POST.get("unit_id"),
                                    kind=request.POST.get("kind"), name=request.POST.get("name"),
                                    rule=_rule(request.POST), starts_on=request.POST.get("starts_on"),
                                    description=request.POST.get("description", ""),
                                    span_days=request.POST.get("span_days", "1"))
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            error = exc.message
        else:
            messages.success(request, f"已添加例行工作「{request.POST.get('name', '').strip()}」。")
            return redirect(reverse("staff:routine_list"))
    rows = routines.routine_list(scope=scope)
    for r in rows:
        r.when = routines.describe(r.rule)  # type: ignore[attr-defined]
        r.upcoming = routines.upcoming(routine=r, today=today) if r.is_active else []  # type: ignore[attr-defined]
    units = routine_units(scope)
    return render(request, "staff/routines/list.html", _context(
        request, rows=rows, units=units, values=values, error=error), status=400 if error else 200)


def routine_units(scope: Any) -> list[Any]:
    """The units where the actor may set at least one kind of routine (their grant units and the villages and
    townships below them), for the form's choice list."""
    from gridgov.units.models import Unit

    perms = set(routines.KIND_PERM.values())
    paths = {g.path for g in scope.grants if perms & set(g.permissions)}
    if not paths:
        return []
    return [u for u in Unit.objects.within(scope).filter(is_active=True, kind__base__in=(
        "county", "township", "subdistrict", "area", "village", "community")).order_by("path")[:300]
        if any(u.path.startswith(p) for p in paths)]


@scoped_view
def routine_detail(request: HttpRequest, routine_id: int) -> HttpResponse:
    scope = actor_scope(request)
    routine = routines.routine_get(scope=scope, routine_id=routine_id)
    moment = now()
    today = local(moment).date()
    can_edit = scope.can(routines.KIND_PERM[RoutineKind(routine.kind)], routine.unit_path)
    preset, day = routines.preset_of(routine.rule)
    values: dict[str, Any] = {"name": routine.name, "description": routine.description, "preset": preset,
                              "day": day, "starts_on": routine.starts_on.isoformat(),
                              "span_days": str(routine.span_days), "is_active": routine.is_active}
    error = ""
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("您不能修改这项例行工作。")
        values = dict(request.POST.items()) | {"is_active": request.POST.get("is_active") == "on"}
        try:
            routines.routine_update(actor=staff_actor(request), now=moment, routine_id=routine.pk,
                                    name=request.POST.get("name"), rule=_rule(request.POST),
                                    starts_on=request.POST.get("starts_on"),
                                    description=request.POST.get("description", ""),
                                    span_days=request.POST.get("span_days", "1"),
                                    is_active=request.POST.get("is_active") == "on")
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            error = exc.message
        else:
            messages.success(request, "已保存。")
            return redirect(reverse("staff:routine_detail", args=[routine.pk]))
    try:
        upcoming = routines.upcoming(routine=routine, today=today, count=6)
    except ValidationFailed:
        upcoming = []
    recent = list(routine.occurrences.filter(on_date__gte=today - dt.timedelta(days=60)).order_by("-on_date")[:10])
    return render(request, "staff/routines/detail.html", _context(
        request, routine=routine, when=routines.describe(routine.rule), kind_label=RoutineKind(routine.kind).label,
        upcoming=upcoming, recent=recent, values=values, error=error, can_edit=can_edit),
        status=400 if error else 200)

