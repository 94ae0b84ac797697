"""Printed boards: the grid board (网格简介牌, A4/A3), the structure board (网格架构设置图) and the
party-member linked-households board (党员联系户公示)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from gridgov.access.roles import P
from gridgov.audit.services import audit_record
from gridgov.core.clock import now
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.printing import outline_svg, qr_data_uri, render_pdf
from gridgov.interfaces.public.links import grid_url
from gridgov.residents import selectors as ledger
from gridgov.units import selectors

ROLE_DUTIES = {
    "chief_grid_head": "统筹本村（社区）网格工作，研究解决网格重大事项。",
    "village_secretary": "全面负责本村（社区）网格化服务管理工作。",
    "area_head": "指导片区内各网格开展工作，协调跨网格事项。",
    "grid_head": "负责本网格日常管理，组织走访排查，处置或上报网格内事件。",
    "grid_worker_full": "入户走访、信息采集、政策宣传、矛盾纠纷排查、隐患上报、帮办代办。",
    "grid_worker_part": "协助开展走访和信息采集，及时发现并上报问题。",
    "info_officer": "负责网格信息录入和台账更新。",
    "resident_cadre": "驻村指导，协调解决群众反映的问题。",
    "mediator": "开展矛盾纠纷调解。",
}


def _pdf(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@scoped_view
def grid_board_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    size = "A3" if request.GET.get("size") == "A3" else "A4"
    staff = selectors.board_staff(scope=scope, units=[unit])[unit.pk]
    link = grid_url(unit.pk)
    context = {
        "unit": unit,
        "size": size,
        "level_name": selectors.level_name(unit),
        "breadcrumb": selectors.unit_breadcrumb(scope=scope, unit=unit),
        "staff": [{"grant": g, "duty": ROLE_DUTIES.get(g.role.code, "")} for g in staff],
        "qr": qr_data_uri(link),
        "link": link,
        "outline": outline_svg(unit.boundary, 520, 360),
    }
    body = render_pdf("print/grid_board.html", context)
    audit_record(action="board.print", actor=staff_actor(request), now=now(), obj=unit, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": "grid_board", "size": size})
    return _pdf(body, f"grid-board-{unit.pk}-{size}.pdf")


@scoped_view
def structure_board_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    unit = selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    children = selectors.unit_children(scope=scope, unit=unit)
    if len(children) > 400:
        raise NotFound("下级单位过多，请按村或片区分别打印。")
    staff = selectors.board_staff(scope=scope, units=[unit, *children])
    context = {
        "unit": unit,
        "leaders": staff[unit.pk],
        "rows": [{"unit": c, "staff": staff[c.pk]} for c in children],
    }
    body = render_pdf("print/structure_board.html", context)
    audit_record(action="board.print", actor=staff_actor(request), now=now(), obj=unit, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": "structure_board"})
    return _pdf(body, f"structure-board-{unit.pk}.pdf")


@scoped_view
def party_board_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    """党员联系户公示: each party member of the grid with the doors of the households they look after.
    Posted in the village, so it carries only what `ledger.party_member_board` lets out (no ID numbers,
    no residents' phones, no tags, heads' names reduced to the surname)."""
    scope = actor_scope(request)
    unit = selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    scope.require(P.HOUSEHOLD_VIEW, unit.path)
    try:
        board = ledger.party_member_board(scope=scope, unit=unit)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    staff = selectors.board_staff(scope=scope, units=[unit])[unit.pk]
    link = grid_url(unit.pk)
    moment = now()
    context = {
        "unit": unit,
        "breadcrumb": selectors.unit_breadcrumb(scope=scope, unit=unit),
        "rows": board.rows,
        "household_count": board.household_count,
        "contacts": [g for g in staff if g.role.code in ("grid_head", "grid_worker_full", "grid_worker_part")][:3],
        "qr": qr_data_uri(link),
        "link": link,
        "printed_on": timezone.localdate(moment),
    }
    body = render_pdf("print/party_board.html", context)
    audit_record(action="board.print", actor=staff_actor(request), now=moment, obj=unit, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": "party_board", "members": len(board.rows)})
    return _pdf(body, f"party-board-{unit.pk}.pdf")
