"""Staff pages of the workforce module: 「我的任务」 for a grid worker (items due, mark done with
evidence, this month's points with each entry's reason), the duty-list editor and progress page,
the points rules editor (with manual awards/deductions), and the monthly assessment with ranking,
publishing and the Excel / PDF downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from gridgov.access.roles import P
from gridgov.audit.services import audit_record
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, NotFound, PermissionDenied
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.printing import render_pdf
from gridgov.workforce import selectors, services
from gridgov.workforce.excel import assessment_bytes
from gridgov.workforce.models import EvidenceKind, PointKind
from gridgov.workforce.periods import end_of_day, month_of, parse_month


def _month(request: HttpRequest, *, default_previous: bool = False) -> dt.date:
    this = month_of(now())
    default = (this - dt.timedelta(days=1)).replace(day=1) if default_previous else this
    return parse_month(request.GET.get("month") or request.POST.get("month"), default=default)


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and len(text) < 12 else None


# --- 我的任务 ---------------------------------------------------------------------------------

@scoped_view
def my_tasks(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    month = _month(request)
    total, entries = selectors.my_points(user=request.user, month=month)
    return render(request, "staff/workforce/my.html", {
        "open_items": selectors.my_items(scope=scope, user=request.user),
        "done_items": selectors.my_items(scope=scope, user=request.user, open_only=False, limit=20),
        "month": month, "total": total, "entries": entries, "now": now()})


@scoped_view
def item_detail(request: HttpRequest, duty_item_id: int) -> HttpResponse:
    scope = actor_scope(request)
    item = selectors.item_get(scope=scope, item_id=duty_item_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "done":
                photo = request.FILES.get("photo")
                services.duty_item_done(actor=staff_actor(request), now=now(), item_id=item.pk,
                                        text=request.POST.get("text", ""), photo=photo.file if photo else None)
                messages.success(request, "已提交，等待下发单位确认。")
            elif action == "confirm":
                services.duty_item_confirm(actor=staff_actor(request), now=now(), item_id=item.pk)
                messages.success(request, "已确认完成。")
            elif action == "return":
                services.duty_item_return(actor=staff_actor(request), now=now(), item_id=item.pk,
                                          reason=request.POST.get("reason", ""))
                messages.success(request, "已退回，请对方重新办理。")
            else:
                raise NotFound()
            return redirect("staff:duty_item", duty_item_id=item.pk)
        except PermissionDenied:
            raise
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            error = exc.message
        item = selectors.item_get(scope=scope, item_id=duty_item_id)
    can_do = item.state in ("issued", "overdue") and (
        item.assignee_id == request.user.pk if item.assignee_id else scope.can(P.DUTY_DO, item.unit.path))
    can_confirm = item.state == "done" and scope.can(P.DUTY_ISSUE, item.duty_list.unit.path)
    return render(request, "staff/workforce/item.html", {
        "item": item, "events": selectors.item_events(item=item), "can_do": can_do, "can_confirm": can_confirm,
        "error": error, "needs_photo": item.duty_list.evidence in (EvidenceKind.PHOTO, EvidenceKind.TEXT_PHOTO),
        "needs_text": item.duty_list.evidence in (EvidenceKind.TEXT, EvidenceKind.TEXT_PHOTO),
        "late": item.due_at < now()}, status=400 if error else 200)


@scoped_view
def item_photo(request: HttpRequest, duty_item_id: int) -> HttpResponse:  # a FileResponse
    item = selectors.item_get(scope=actor_scope(request), item_id=duty_item_id)
    if not item.evidence_photo:
        raise NotFound()
    from django.db import transaction

    scope = actor_scope(request)
    with transaction.atomic():  # an on-site photo may show people and homes: every view is audited
        actor = staff_actor(request)
        audit_record(action="duty.photo_view", actor=actor, now=now(), obj=item, unit_path=item.unit.path,
                     role=scope.role_at(item.unit.path))
    response = FileResponse(item.evidence_photo.open("rb"), content_type=item.evidence_type or "image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]


# --- duty lists (the office) ---------------------------------------------------------------------

@scoped_view
def duty_lists(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    units = selectors.issue_units(scope=scope)
    if not units and not scope.can(P.WORK_ASSESS):
        raise NotFound()
    unit = next((u for u in units if u.pk == _int(request.GET.get("unit") or request.POST.get("unit"))),
                units[0] if units else None)
    error, form = "", request.POST if request.method == "POST" else {}
    if request.method == "POST":
        if unit is None:
            raise PermissionDenied()
        due = parse_date(request.POST.get("due", ""))
        try:
            duty = services.duty_list_issue(
                actor=staff_actor(request), now=now(), unit_id=unit.pk, title=request.POST.get("title", ""),
                description=request.POST.get("description", ""), due_at=end_of_day(due) if due else None,
                evidence=request.POST.get("evidence", ""), target_unit_ids=request.POST.getlist("units"),
                worker_ids=request.POST.getlist("workers"))
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)):
                raise
            error = exc.message
        else:
            messages.success(request, f"已下发「{duty.title}」，共 {duty.items.count()} 项。")
            return redirect("staff:duty_list", duty_list_id=duty.pk)
    targets, workers = selectors.recipients_of(scope=scope, unit=unit) if unit else ([], [])
    rows = [(d, selectors.progress_of(list(d.items.all()))) for d in selectors.lists_for(scope=scope)]
    return render(request, "staff/workforce/lists.html", {
        "rows": rows, "units": units, "unit": unit, "targets": targets, "workers": workers, "error": error,
        "form": form, "evidence_choices": EvidenceKind.choices,
        "default_due": (local(now()) + dt.timedelta(days=7)).date().isoformat()}, status=400 if error else 200)


def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


@scoped_view
def duty_list_detail(request: HttpRequest, duty_list_id: int) -> HttpResponse:
    scope = actor_scope(request)
    duty = selectors.list_get(scope=scope, list_id=duty_list_id)
    error = ""
    if request.method == "POST":
        try:
            services.duty_list_withdraw(actor=staff_actor(request), now=now(), list_id=duty.pk,
                                        reason=request.POST.get("reason", ""))
            messages.success(request, "清单已撤回。")
            return redirect("staff:duty_list", duty_list_id=duty.pk)
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)):
                raise
            error = exc.message
    items = selectors.list_items(scope=scope, duty=duty)
    return render(request, "staff/workforce/list.html", {
        "duty": duty, "items": items, "progress": selectors.progress_of(items), "error": error,
        "can_issue": scope.can(P.DUTY_ISSUE, duty.unit.path)}, status=400 if error else 200)


# --- points rules and manual awards ---------------------------------------------------------------

@scoped_view
def points_rules(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    units = selectors.manage_units(scope=scope)
    if not units:
        raise NotFound()
    unit = next((u for u in units if u.pk == _int(request.GET.get("unit") or request.POST.get("unit"))), units[0])
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("form") == "setting":
                actor = staff_actor(request)
                services.setting_save(actor=actor, now=now(), unit_id=unit.pk, base=request.POST.get("base"),
                                      duty_weight=request.POST.get("duty_weight"), floor=request.POST.get("floor"),
                                      commend_count=request.POST.get("commend_count"))
                messages.success(request, "考核办法已保存。")
            else:
                actor = staff_actor(request)
                services.rule_save(actor=actor, now=now(), unit_id=unit.pk, kind=request.POST.get("kind", ""),
                                   points=request.POST.get("points"), monthly_cap=request.POST.get("monthly_cap"),
                                   is_active=request.POST.get("is_active") == "on")
                messages.success(request, "积分规则已保存。")
            return redirect(f"{reverse('staff:points_rules')}?unit={unit.pk}")
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)):
                raise
            error = exc.message
    defaults = {k: (p, c) for k, p, c in services.DEFAULT_RULES}
    rows = selectors.rules_for(scope=scope, unit=unit)
    for row in rows:
        row["default"] = defaults.get(row["kind"])
    return render(request, "staff/workforce/rules.html", {
        "units": units, "unit": unit, "rows": rows, "setting": services.setting_for(unit), "error": error,
        "kinds": PointKind.choices}, status=400 if error else 200)


@scoped_view
def worker_points(request: HttpRequest, worker_id: int) -> HttpResponse:
    scope = actor_scope(request)
    month = _month(request)
    worker, total, entries = selectors.worker_points(scope=scope, worker_id=worker_id, month=month)
    error = ""
    if request.method == "POST":
        try:
            services.points_adjust(actor=staff_actor(request), now=now(), worker_id=worker_id,
                                   points=request.POST.get("points"), reason=request.POST.get("reason", ""),
                                   corrects_id=request.POST.get("corrects") or None)
            messages.success(request, "已记录。")
            return redirect("staff:worker_points", worker_id=worker_id)
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)):
                raise
            error = exc.message
    from gridgov.workforce.staff import worker_grid

    grid = worker_grid(worker_id)
    return render(request, "staff/workforce/worker_points.html", {
        "worker": worker, "total": total, "entries": entries, "month": month, "error": error,
        "can_adjust": grid is not None and scope.can(P.POINTS_MANAGE, grid.path)}, status=400 if error else 200)


# --- the monthly assessment -----------------------------------------------------------------------

@scoped_view
def assessment_page(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    units = selectors.assess_units(scope=scope)
    if not units:
        raise NotFound()
    unit_id = _int(request.GET.get("unit") or request.POST.get("unit"))
    unit = selectors.assess_unit_get(scope=scope, unit_id=unit_id) if unit_id else units[0]
    month = _month(request, default_previous=True)
    error = ""
    if request.method == "POST":
        try:
            services.assessment_publish(actor=staff_actor(request), now=now(), unit_id=unit.pk, month=month,
                                        note=request.POST.get("note", ""))
            messages.success(request, "考核结果已发布，通报已发送给参加考核的网格员。")
            return redirect(f"{reverse('staff:assessment')}?unit={unit.pk}&month={month:%Y-%m}")
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)):
                raise
            error = exc.message
    result, published = selectors.month_result(scope=scope, unit=unit, month=month)
    this = month_of(now())
    months = []
    m = this
    for _ in range(12):
        months.append(m)
        m = (m - dt.timedelta(days=1)).replace(day=1)
    return render(request, "staff/workforce/assessment.html", {
        "units": units, "unit": unit, "month": month, "months": months, "result": result, "published": published,
        "can_publish": published is None and month < this and scope.can(P.POINTS_MANAGE, unit.path),
        "error": error}, status=400 if error else 200)


def _watermark(user: Any) -> str:
    return f"导出人：{user.display_name}（{user.get_username()}） 导出时间：{local(now()):%Y-%m-%d %H:%M}"


@scoped_view
def assessment_download(request: HttpRequest, unit_id: int, fmt: str) -> HttpResponse:
    scope = actor_scope(request)
    unit = selectors.assess_unit_get(scope=scope, unit_id=unit_id)
    month = _month(request, default_previous=True)
    result, published = selectors.month_result(scope=scope, unit=unit, month=month)
    mark = _watermark(request.user)
    from django.db import transaction

    with transaction.atomic():
        audit_record(action="assessment.download", actor=staff_actor(request), now=now(), obj=published or unit,
                     unit_path=unit.path, role=scope.role_at(unit.path),
                     detail={"month": f"{month:%Y-%m}", "format": fmt, "published": published is not None})
    name = f"{unit.name}-{month:%Y-%m}-考核"
    if fmt == "xlsx":
        body = assessment_bytes(result, watermark=mark, published=published is not None)
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}.xlsx"
    else:
        body = render_pdf("print/assessment.html", {"result": result, "assessment": published, "watermark": mark})
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}.pdf"
    response["Cache-Control"] = "no-store"
    return response


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("workforce/my/", my_tasks, name="my_tasks"),
        path("workforce/items/<int:duty_item_id>/", item_detail, name="duty_item"),
        path("workforce/items/<int:duty_item_id>/photo/", item_photo, name="duty_item_photo"),
        path("workforce/lists/", duty_lists, name="duty_lists"),
        path("workforce/lists/<int:duty_list_id>/", duty_list_detail, name="duty_list"),
        path("workforce/rules/", points_rules, name="points_rules"),
        path("workforce/workers/<int:worker_id>/points/", worker_points, name="worker_points"),
        path("workforce/assessment/", assessment_page, name="assessment"),
        path("workforce/assessment/<int:unit_id>/assessment.xlsx", assessment_download, {"fmt": "xlsx"},
             name="assessment_xlsx"),
        path("workforce/assessment/<int:unit_id>/assessment.pdf", assessment_download, {"fmt": "pdf"},
             name="assessment_pdf"),
    ]
