"""Staff pages of bulk exports: asking for approval of a large export, approving or refusing
someone else's, downloading an approved file within its 24 hours. Every step is audited by the
service (gridgov.residents.exports)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access.policy import policy
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.two_factor import require_recent_code
from gridgov.residents import exports


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


@scoped_view
@require_recent_code
def household_export(request: HttpRequest) -> HttpResponse:
    """Up to the threshold the file comes at once; above it the page asks for the purpose and files
    a request for a second person's approval."""
    unit_raw = request.POST.get("unit") or request.GET.get("unit") or ""
    unit_id = int(unit_raw) if unit_raw.isdecimal() else None
    reason = request.POST.get("reason", "") if request.method == "POST" else ""
    error = ""
    try:
        started = exports.export_start(actor=staff_actor(request), now=now(), unit_id=unit_id, reason=reason)
    except DomainError as exc:
        if exc.field != "reason":
            raise
        error = exc.message if request.method == "POST" else ""
        rows = exports.excel.export_count(actor_scope(request),
                                          exports.excel.export_unit(actor_scope(request), unit_id))
        return render(request, "staff/exports/request.html", {
            "rows": rows, "threshold": policy().export_approval_threshold, "unit": unit_raw, "error": error,
            "reason": reason})
    if started.request is not None:
        messages.success(request, f"已提交导出申请（{started.rows} 条），等待另一位有导出权限的人员审批。")
        return redirect("staff:export_detail", export_id=started.request.pk)
    assert started.content is not None
    return xlsx_response(started.content, f"households-{local(now()):%Y%m%d}.xlsx")


@scoped_view
def export_list(request: HttpRequest) -> HttpResponse:
    mine, waiting = exports.exports_for(scope=actor_scope(request))
    return render(request, "staff/exports/list.html", {"mine": mine, "waiting": waiting})


@scoped_view
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    scope = actor_scope(request)
    export = exports.export_get(scope=scope, export_id=export_id)
    return render(request, "staff/exports/detail.html", {
        "e": export, "mine": export.requested_by_id == request.user.pk,
        "can_decide": exports.may_approve(scope, export) and export.status == export.Status.PENDING,
        "now": now(), "unit": exports.unit_of(export)})


@scoped_view
@require_POST
@require_recent_code
def export_decide(request: HttpRequest, export_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        exports.export_decide(actor=staff_actor(request), now=now(), export_id=export_id, approve=approve)
        messages.success(request, "已批准，文件已生成。" if approve else "已驳回。")
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        messages.error(request, exc.message)
    return redirect("staff:export_detail", export_id=export_id)


@scoped_view
@require_recent_code
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    try:
        content, filename = exports.export_download(actor=staff_actor(request), now=now(), export_id=export_id)
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        response = render(request, "staff/exports/gone.html", {"message": exc.message, "export_id": export_id})
        response.status_code = 410
        return response
    return xlsx_response(content, filename)
