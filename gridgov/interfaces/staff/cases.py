"""Staff pages of the case closed loop: work queues, report form, case detail with timeline and the
actions the user may take now. Each view makes one selector or service call."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.cases import attachments, disclosure, intake, reveal, selectors, transitions, worklists
from gridgov.cases.deadlines import countdown
from gridgov.cases.models import Channel, Urgency
from gridgov.cases.states import ACTIONS, STATUSES
from gridgov.cases.transitions import ReturnReason
from gridgov.core.cleaning import query_int
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, PermissionDenied
from gridgov.core.replica import replica_reads
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor, url_for_id
from gridgov.interfaces.staff.reveal import render_no_store, reveal_on_post
from gridgov.interfaces.two_factor import require_recent_code
from gridgov.notify.services import inbox_for, inbox_mark_read, inbox_unread_count

from .dashboard import tile_config

# Which form fields each action's parameters need: (name, label, kind, required).
FIELDS: dict[str, tuple[str, str, bool]] = {
    "note": ("备注 / 意见", "textarea", False),
    "reason": ("理由", "textarea", True),
    "reason_code": ("退回理由", "reason_code", True),
    "result": ("办理结果", "textarea", True),
    "department_id": ("承办部门", "department", True),
    "resolve_days": ("办理时限（工作日，不填按类别默认）", "number", False),
    "to_unit_id": ("上报到（越级仅限紧急事件）", "escalate_to", False),
    "target_case_id": ("并入的原事件编号", "text", True),
    "days": ("延长工作日", "number", True),
    "rating": ("评价", "rating", True),
    "checkin_lat": ("", "hidden", False),
    "checkin_lng": ("", "hidden", False),
    "attachment_ids": ("附件编号（多个用逗号分隔，可不填）", "text", False),
}


PRIMARY = frozenset({"accept", "acknowledge", "feedback", "review", "confirm", "dispatch", "adjudicate"})


def _decorate(case: Any, moment: Any) -> Any:
    sd = STATUSES[case.status]
    case.countdown = countdown(case.resolve_due, moment) if sd.type.value in ("open", "in_progress") else ""
    case.is_late = bool(case.resolve_due and case.resolve_due < moment and sd.type.value in ("open", "in_progress"))
    case.status_type = sd.type.value
    return case


# Per status type: the class of its badge on a work-queue row.
_BADGE = {"done": "badge done", "rejected": "badge rejected"}
_CLOCK_RUNS = ("open", "in_progress")


def _queue_rows(rows: list[dict[str, Any]], moment: Any) -> list[dict[str, Any]]:
    """What a row shows beyond the case's columns: its link (reversed once for the page, the case's id
    put in per row), its status name and badge, and its marks (紧急, 督办, urges, the countdown of an open
    case) as markup built here: four conditions per row in the template were a good part of the page."""
    link = url_for_id("staff:case_detail")
    for r in rows:
        kind = STATUSES[r["status"]].type.value
        due = r["resolve_due"]
        running = kind in _CLOCK_RUNS
        marks = []
        if r["urgency"] == "emergency":
            marks.append(_URGENT)
        if r["supervised"]:
            marks.append(_SUPERVISED)
        if r["urge_count"]:
            marks.append(format_html("<span>催办 {} 次</span>", r["urge_count"]))
        if running and due is not None:
            late = " late" if due < moment else ""
            marks.append(format_html('<span class="countdown{}">{}</span>', late, countdown(due, moment)))
        r["url"] = link(r["pk"])
        r["status_name"] = selectors.STATUS_NAMES[r["status"]]
        r["badge"] = _BADGE.get(kind, "badge")
        r["marks"] = mark_safe("".join(marks))  # noqa: S308 (each piece escaped by format_html or constant)
    return rows


_URGENT = '<span class="badge late">紧急</span>'
_SUPERVISED = '<span class="badge late">督办</span>'


@scoped_view
@replica_reads
def case_queue(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not (scope.can(P.CASE_VIEW) or scope.can(P.CASE_DEPARTMENT)):
        raise PermissionDenied()
    queue = request.GET.get("queue", "todo")
    if queue not in selectors.QUEUES:
        queue = "todo"
    moment = now()
    category = request.GET.get("category", "")[:40]
    query = request.GET.get("q", "").strip()[:40]
    number = request.GET.get("page", "1")
    page = selectors.case_queue_page(scope=scope, queue=queue, now=moment, category_code=category, query=query,
                                     page=int(number) if number.isdecimal() and len(number) < 6 else 1)
    filters = {k: v for k, v in (("queue", queue), ("category", category), ("q", query)) if v}
    context = {
        "queues": selectors.QUEUES, "queue": queue, "page": page, "cases": _queue_rows(page.rows, moment),
        "page_size": selectors.QUEUE_PAGE_SIZE, "cap": selectors.QUEUE_CAP, "base_query": urlencode(filters),
        "categories": selectors.top_categories(), "category": category,
        "query": query, "can_report": scope.can(P.CASE_REPORT),
        "unread": inbox_unread_count(user=request.user),
    }
    return render(request, "staff/cases/queue.html", context)


@scoped_view
def case_new(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.CASE_REPORT):
        raise PermissionDenied()
    units = selectors.report_units(scope=scope)
    values: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "urgency": "ordinary", "channel": "field",
                              "household_id": request.GET.get("household", "")[:12]}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in (
            "title", "description", "category", "urgency", "channel", "unit_id", "lat", "lng", "address",
            "reporter_name", "reporter_phone", "idempotency_key", "household_id")}
        values["anonymous"] = request.POST.get("anonymous") == "on"
        try:
            result = intake.case_report(
                actor=staff_actor(request), now=now(), title=values["title"], description=values["description"],
                category_code=values["category"], urgency=values["urgency"] or "ordinary",
                channel=values["channel"] or "field", unit_id=query_int(values["unit_id"]), lat=_float(values["lat"]),
                lng=_float(values["lng"]), address=values["address"], reporter_name=values["reporter_name"],
                reporter_phone=values["reporter_phone"], anonymous=values["anonymous"],
                idempotency_key=values["idempotency_key"], household_id=values["household_id"] or None,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已登记事件 {result.case.number}。")
            for dup in result.duplicates:
                messages.info(request, f"附近有同类事件 {dup.number}「{dup.title}」，如重复可合并。")
            return redirect("staff:case_detail", result.case.pk)
    context = {"units": units, "categories": selectors.categories(), "urgencies": Urgency.choices,
               "channels": Channel.choices, "values": values, "error": error}
    return render(request, "staff/cases/new.html", context)


def _float(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


@scoped_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    moment = now()
    allowed = transitions.allowed_actions(case=case, actor=staff_actor(request), now=moment)
    forms = []
    for spec in allowed:
        fields = []
        for name in sorted(transitions.action_params(spec.code), key=list(FIELDS).index):
            label, kind, required = FIELDS[name]
            if kind == "skip":
                continue
            fields.append({"name": name, "label": label, "kind": kind, "required": required})
        forms.append({"code": spec.code, "label": spec.label, "hint": spec.hint, "fields": fields,
                      "danger": spec.code in ("reject", "cancel", "return")})
    labels = {code: a.label for code, a in ACTIONS.items()} | {"report": "登记", "merged_in": "并入重复事件",
                                                               "calendar": "工作日历调整"}
    events = selectors.case_timeline(scope=scope, case=case)
    for e in events:
        e.label = labels.get(e.action, e.action)  # type: ignore[attr-defined]
    # The usual next step first; reject, cancel and return last.
    forms.sort(key=lambda f: (f["danger"], f["code"] not in PRIMARY))
    context = {
        "case": _decorate(case, moment),
        "status": STATUSES[case.status],
        "reporter": selectors.reporter_of(scope=scope, case=case),
        "events": events,
        "attachments": selectors.case_attachments(scope=scope, case=case),
        "forms": forms,
        "departments": selectors.dispatch_departments(case=case) if any(
            f["code"] in ("dispatch", "redispatch") for f in forms) else [],
        "escalate_to": selectors.escalation_targets(case=case),
        "reason_codes": ReturnReason.LABELS.items(),
        "status_labels": {s: d.status.label for s, d in STATUSES.items()},
        "on_site": case.category.on_site,
        "household": selectors.case_household(scope=scope, case=case),
        "can_mediate": scope.can(P.MEDIATION_REGISTER, case.unit_path),
        "duplicates": _duplicates_for_holder(scope, case),
    }
    return render(request, "staff/cases/detail.html", context)


def _duplicates_for_holder(scope: Any, case: Any) -> list[Any]:
    """Possible duplicates, for whoever holds the open case (its holding unit's staff or department)."""
    if case.status not in worklists.OPEN:
        return []
    # Held at a unit where they hold a case role themselves (as the work queue's 待办 counts it), not above it.
    perms = {P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH, P.CASE_REVIEW}
    holds = (case.holder_unit_id in {g.unit_id for g in scope.grants if g.permissions & perms}
             or (case.holder_department_id is not None and case.holder_department_id in scope.department_ids))
    return worklists.possible_duplicates(scope=scope, case=case) if holds else []


@scoped_view
def follow_up_worklist(request: HttpRequest) -> HttpResponse:
    """回访 worklist: results the residents have not answered, to ask them about (cases.worklists)."""
    scope = actor_scope(request)
    if not scope.can(P.CASE_VIEW):
        raise PermissionDenied("您不能查看回访清单。")
    raw = request.GET.get("days", "")
    days = int(raw) if raw.isdecimal() and 1 <= int(raw) <= 90 else worklists.FOLLOW_UP_CLOSED_DAYS
    rows = worklists.follow_up_worklist(scope=scope, now=now(), days=days)
    return render(request, "staff/cases/follow_up_worklist.html", {"rows": rows, "days": days,
                                                                   "quiet_days": worklists.FOLLOW_UP_QUIET_DAYS})


@scoped_view
@require_POST
def case_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    if action not in ACTIONS:
        messages.error(request, "未知的操作。")
        return redirect("staff:case_detail", case.pk)
    params: dict[str, Any] = {}
    for name in transitions.action_params(action):
        raw = request.POST.get(name, "").strip()
        if raw:
            params[name] = raw
    try:
        transitions.case_act(actor=staff_actor(request), now=now(), case_id=case.pk, action=action,
                          expected_version=query_int(request.POST.get("version", "")), **params)
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{ACTIONS[action].label}。")
    return redirect(reverse("staff:case_detail", args=[case.pk]))


@scoped_view
def case_attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Files are served only through the case's scope, never from a public media URL."""
    scope = actor_scope(request)
    att = selectors.attachment_get(scope=scope, attachment_id=attachment_id)
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response  # type: ignore[return-value]


@scoped_view
@require_POST
def case_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的照片或文件。")
    else:
        try:
            att = attachments.attachment_add(actor=staff_actor(request), now=now(), case_id=case.pk, stream=upload,
                                             name=upload.name or "")
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已上传附件（编号 {att.pk}），办理时可一并提交。")
    return redirect("staff:case_detail", case.pk)


@scoped_view
def inbox(request: HttpRequest) -> HttpResponse:
    """The staff user's in-app messages: new assignments, urges, deadline warnings, returns, reopenings."""
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdecimal()]
        inbox_mark_read(user=request.user, now=now(), message_ids=ids)
        return redirect("staff:inbox")
    rows = inbox_for(user=request.user, limit=100)
    return render(request, "staff/cases/inbox.html", {"rows": rows,
                                                      "unread": [m.pk for m in rows if m.read_at is None]})


@scoped_view
def case_map(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not (scope.can(P.CASE_VIEW) or scope.can(P.CASE_DEPARTMENT)):
        raise PermissionDenied()
    points = selectors.case_map_points(scope=scope, now=now())
    for p in points:
        p["url"] = reverse("staff:case_detail", args=[p["id"]])
    # The same base map as the dashboards: none by default (no third-party requests), 天地图 when configured.
    tiles = tile_config()
    return render(request, "staff/cases/map.html", {"points": points, "tiles": tiles})


@scoped_view
@require_recent_code
def case_reporter_unmask(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reporter's full name and phone, once, for a written reason; the service audits it."""
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    reporter = selectors.reporter_of(scope=scope, case=case)
    revealed, error = reveal_on_post(request, lambda reason: reveal.case_reporter_unmask(
        actor=staff_actor(request), now=now(), case_id=case.pk, reason=reason))
    if request.method != "POST" and not reporter["can_unmask"]:
        error = "您没有查看反映人完整姓名和电话的权限。"
    return render_no_store(request, "staff/cases/reporter_unmask.html",
                           {"case": case, "reporter": reporter, "revealed": revealed, "error": error})


@scoped_view
def case_reporter_disclose(request: HttpRequest, case_id: int) -> HttpResponse:
    """The dispatching office lets a department that handles the case see its reporter, for a written
    reason (reporter disclosure; the service checks the right and audits it)."""
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    departments = disclosure.dispatched_departments(case)
    error = ""
    values = {"reason": "", "department_id": str(case.holder_department_id or "")}
    if request.method == "POST":
        values = {"reason": request.POST.get("reason", ""), "department_id": request.POST.get("department_id", "")}
        dept = values["department_id"]
        try:
            disclosure.case_reporter_disclose(actor=staff_actor(request), now=now(), case_id=case.pk,
                                              reason=values["reason"],
                                              department_id=int(dept) if dept.isdecimal() else None)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            error = exc.message
        else:
            messages.success(request, "已向承办部门告知反映人，本次操作已记入审计日志。")
            return redirect("staff:case_detail", case_id=case.pk)
    elif not disclosure.may_disclose(scope, case):
        error = "只有交办这件事的综治中心可以向部门告知反映人。"
    return render(request, "staff/cases/reporter_disclose.html",
                  {"case": case, "departments": departments, "values": values, "error": error},
                  status=400 if error and request.method == "POST" else 200)
