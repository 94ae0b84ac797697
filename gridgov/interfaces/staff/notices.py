"""Staff pages of notices (通知传达): 「今日通知」 for a grid worker's phone (households of their grid not yet
reached, one tap each), the office's list and new-notice form, and a notice's page with its actions, the
reach board per grid and village, and the 有困难 replies as a worklist with 转为事件."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, NotFound, PermissionDenied
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.notices import selectors, services
from gridgov.notices.models import Delivery, Grade, Notice
from gridgov.processes.notice_cases import notice_reply_to_case
from gridgov.units.models import Unit

MARK_CHOICES = [(Delivery.How.PHONE, "已电话告知"), (Delivery.How.DOOR, "已上门告知"),
                (Delivery.How.GROUP, "已在群内确认")]


@scoped_view
def my_notices(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.NOTICE_REACH):
        raise NotFound()
    return render(request, "staff/notices/my.html", {
        "items": selectors.worker_notices(scope=scope), "marks": MARK_CHOICES})


@scoped_view
@require_POST
def delivery_mark(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        d = services.delivery_mark(actor=staff_actor(request), now=now(), delivery_id=delivery_id,
                                   how=request.POST.get("how", ""), reason=request.POST.get("reason", ""))
        messages.success(request, f"已登记：{d.household.address} {d.get_how_display() or d.get_state_display()}")
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:my_notices")


def _sender_units(request: HttpRequest) -> list[Unit]:
    scope = actor_scope(request)
    return [u for u in Unit.objects.within(scope).filter(is_active=True).select_related("kind").order_by("path")[:300]
            if scope.can(P.NOTICE_SEND, u.path)]


@scoped_view
def notice_list(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.NOTICE_VIEW):
        raise NotFound()
    can_send = scope.can(P.NOTICE_SEND)
    values: dict[str, Any] = {"grade": Grade.NORMAL}
    error = ""
    if request.method == "POST":
        if not can_send:
            raise PermissionDenied("您没有发通知的权限。")
        values = {k: request.POST.get(k, "") for k in ("title", "text", "grade", "unit")}
        values["units"] = request.POST.getlist("units")
        values["reply_asked"] = bool(request.POST.get("reply_asked"))
        try:
            n = services.notice_create(actor=staff_actor(request), now=now(), unit_id=values["unit"],
                                       title=values["title"], text=values["text"], grade=values["grade"],
                                       unit_ids=values["units"], reply_asked=values["reply_asked"])
            messages.success(request, "通知已存为草稿，请核对后发出。")
            return redirect("staff:notice", notice_id=n.pk)
        except PermissionDenied:
            raise
        except DomainError as exc:
            error = exc.message
    units = _sender_units(request) if can_send else []
    return render(request, "staff/notices/list.html", {
        "notices": selectors.notice_list(scope=scope), "can_send": can_send, "units": units,
        "grades": Grade.choices, "values": values, "error": error}, status=400 if error else 200)


@scoped_view
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    scope = actor_scope(request)
    notice = selectors.notice_get(scope=scope, notice_id=notice_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        actor = staff_actor(request)
        done = {"send": "已发出。", "approve": "已审核通过并发出。", "reject": "已退回修改。", "close": "已结束传达。"}
        try:
            if action == "send":
                n = services.notice_send(actor=actor, now=now(), notice_id=notice.pk)
                messages.success(request, "已送审核，审核通过后发出。" if n.status == Notice.Status.PENDING
                                 else f"已发出，共 {n.households} 户。")
            elif action == "approve":
                services.notice_approve(actor=actor, now=now(), notice_id=notice.pk)
            elif action == "reject":
                services.notice_reject(actor=actor, now=now(), notice_id=notice.pk,
                                       reason=request.POST.get("reason", ""))
            elif action == "close":
                services.notice_close(actor=actor, now=now(), notice_id=notice.pk)
            else:
                raise NotFound()
            if action != "send":
                messages.success(request, done[action])
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("staff:notice", notice_id=notice.pk)
    return render(request, "staff/notices/detail.html", {
        "notice": notice, "board": selectors.reach_board(scope=scope, notice=notice),
        "actions": services.FLOW.allowed(notice, actor=request.user, now=now()),
        "replies": selectors.difficulty_replies(scope=scope, notice=notice),
        "can_case": scope.can(P.CASE_REPORT)})


@scoped_view
@require_POST
def reply_to_case(request: HttpRequest, reply_id: int) -> HttpResponse:
    scope = actor_scope(request)
    reply = selectors.reply_get(scope=scope, reply_id=reply_id)
    try:
        case = notice_reply_to_case(actor=staff_actor(request), now=now(), reply_id=reply.pk)
        messages.success(request, f"已转为事件 {case.number}。")
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:notice", notice_id=reply.notice_id)


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("notices/", notice_list, name="notice_list"),
        path("notices/my/", my_notices, name="my_notices"),
        path("notices/<int:notice_id>/", notice_detail, name="notice"),
        path("notices/deliveries/<int:delivery_id>/mark/", delivery_mark, name="delivery_mark"),
        path("notices/replies/<int:reply_id>/case/", reply_to_case, name="notice_reply_case"),
    ]
