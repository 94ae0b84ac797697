"""Staff pages of the residents' side: follow-up visits (回访) for residents without phones,
marking a finished case public (公开), result photos, and the grid's contact and supervision cards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gridgov.access.roles import P
from gridgov.audit.services import audit_record
from gridgov.cases import selectors as case_selectors
from gridgov.cases.public.models import FollowUp
from gridgov.cases.public.selectors import follow_ups_of, is_disclosed, public_view_of
from gridgov.cases.public.services import (
    REOPEN_WINDOW_DAYS,
    case_disclose,
    follow_up_record,
    result_photo_add,
)
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, ValidationFailed
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.printing import qr_data_uri, render_pdf
from gridgov.interfaces.public.links import grid_url
from gridgov.residents import selectors as ledger
from gridgov.units import selectors as unit_selectors

MAX_CARD_COPIES = 400
CARDS_PER_SHEET = 10


@scoped_view
@require_http_methods(["GET", "POST"])
def case_follow_up(request: HttpRequest, case_id: int) -> HttpResponse:
    """回访: staff ask the resident (by phone or at the door) and record the answer for them."""
    scope = actor_scope(request)
    case = case_selectors.case_get(scope=scope, case_id=case_id)
    error, values = "", {"method": "visit", "outcome": "", "comment": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            follow_up_record(actor=staff_actor(request), now=now(), case_id=case.pk, method=values["method"],
                             outcome=values["outcome"], comment=values["comment"])
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "回访已记录。")
            return redirect("staff:case_follow_up", case_id=case.pk)
        case = case_selectors.case_get(scope=scope, case_id=case_id)
    context = {
        "case": case, "view": public_view_of(case, now=now(), for_reporter=False),
        "follow_ups": follow_ups_of(case), "error": error, "values": values,
        "methods": FollowUp.Method.choices, "outcomes": FollowUp.Outcome.choices,
        "can_answer": case.status == "resolved", "reopen_days": REOPEN_WINDOW_DAYS,
        "can_disclose": scope.can(P.CASE_REVIEW, case.owner_path) or scope.can(P.CASE_REVIEW, case.unit_path),
        "disclosed": is_disclosed(case),
    }
    return render(request, "staff/case_follow_up.html", context, status=400 if error else 200)


@scoped_view
@require_POST
def case_disclose_view(request: HttpRequest, case_id: int) -> HttpResponse:
    public = request.POST.get("public") == "1"
    try:
        case_disclose(actor=staff_actor(request), now=now(), case_id=case_id, public=public)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已在办理公开页公开。" if public else "已取消公开。")
    return redirect("staff:case_follow_up", case_id=case_id)


@scoped_view
@require_POST
def case_result_photo(request: HttpRequest, case_id: int) -> HttpResponse:
    # Out of scope is a 404 before any input is looked at, exactly as for a missing case.
    case_selectors.case_get(scope=actor_scope(request), case_id=case_id)
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise ValidationFailed("请选择照片。", field="photo")
        result_photo_add(actor=staff_actor(request), now=now(), case_id=case_id, photo=upload.read())
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "结果照片已上传。")
    return redirect("staff:case_follow_up", case_id=case_id)


def _copies(raw: Any) -> int:
    try:
        n = int(raw or 1)
    except (TypeError, ValueError):
        raise ValidationFailed("份数应为数字。", field="copies")
    if not 1 <= n <= MAX_CARD_COPIES:
        raise ValidationFailed(f"份数应在 1 到 {MAX_CARD_COPIES} 之间。", field="copies")
    return n


@scoped_view
def grid_cards_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    """联系卡 / 监督卡 for every household of a grid in one print run: one card per active household of
    the ledger, its door printed in the corner so the grid worker hands each card to the right house
    (ten to an A4 sheet, cut along the lines). `?copies=N` prints N cards without doors instead (a
    grid whose ledger is not yet entered, or spares)."""
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    kind = "supervision" if request.GET.get("kind") == "supervision" else "contact"
    try:
        if request.GET.get("copies"):
            doors = [""] * _copies(request.GET.get("copies"))
        else:
            scope.require(P.HOUSEHOLD_VIEW, unit.path)
            doors = ledger.household_doors(scope=scope, unit=unit, limit=MAX_CARD_COPIES)
            if not doors:
                raise ValidationFailed("台账中还没有本网格的户，请填写份数（copies）打印空白卡。", field="copies")
            if len(doors) > MAX_CARD_COPIES:
                raise ValidationFailed(f"户数超过 {MAX_CARD_COPIES}，请按网格分别打印。", field="copies")
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    staff = unit_selectors.board_staff(scope=scope, units=[unit])[unit.pk]
    link = grid_url(unit.pk)
    context = {
        "unit": unit, "kind": kind, "staff": staff[:3], "qr": qr_data_uri(link, scale=6), "link": link,
        "supervision_phone": settings.GRIDGOV_SUPERVISION_PHONE,
        "sheets": [doors[start:start + CARDS_PER_SHEET] for start in range(0, len(doors), CARDS_PER_SHEET)],
        "breadcrumb": unit_selectors.unit_breadcrumb(scope=scope, unit=unit),
    }
    body = render_pdf("print/grid_cards.html", context)
    audit_record(action="board.print", actor=staff_actor(request), now=now(), obj=unit, unit_path=unit.path,
                 role=scope.role_at(unit.path),
                 detail={"kind": f"{kind}_card", "copies": len(doors), "per_household": not request.GET.get("copies")})
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{kind}-cards-{unit.pk}.pdf"'
    return response
