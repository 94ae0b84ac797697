"""The four printed forms of the closed loop (申报单, 交办单, 催办单, 反馈单) as PDF.

Each is generated from the case and the history row it stands for, carries the running number
given per county and year when that row was written, embeds the Noto CJK fonts (WeasyPrint
subsets and embeds them) and a QR code linking to the case."""

from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from gridgov.access.scope import Scope
from gridgov.audit.services import audit_record
from gridgov.cases import selectors
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.transitions import ReturnReason
from gridgov.core.clock import local, now
from gridgov.core.errors import NotFound
from gridgov.interfaces.http import actor_scope, scoped_view

FORM_TITLES = {"report": "事件申报单", "dispatch": "事件交办单", "urge": "事件催办单", "feedback": "事件反馈单"}
EVENT_ACTIONS = {"report": ("report",), "dispatch": ("dispatch", "redispatch", "adjudicate"), "urge": ("urge",),
                 "feedback": ("feedback", "self_handle")}


def _qr(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=3, border=1)


def form_context(*, scope: Scope, case: Case, kind: str, seq: int | None, case_url: str) -> dict[str, Any]:
    events = selectors.case_timeline(scope=scope, case=case)
    rows = [e for e in events if e.action in EVENT_ACTIONS[kind]]
    if seq is not None:
        rows = [e for e in rows if e.seq == seq]
    if not rows:
        raise NotFound("该事件还没有这张单据。")
    event: CaseEvent = rows[-1]
    county = case.county
    return {
        "title": FORM_TITLES[kind],
        "kind": kind,
        "county": county.name,
        "number": event.detail.get("form_number") or case.number,
        "case": case,
        "event": event,
        "at": local(event.at),
        "reporter": selectors.reporter_of(scope=scope, case=case),
        "reason_label": ReturnReason.LABELS.get(event.reason_code, ""),
        "holder": event.to_department.name if event.to_department else (event.to_unit.name if event.to_unit else ""),
        "sender": event.from_unit.name if event.from_unit else case.owner_unit.name,
        "due": local(event.resolve_due_after) if event.resolve_due_after else None,
        "respond_due": local(case.respond_due) if (kind == "dispatch" and case.respond_due) else None,
        "reported_at": local(case.created_at),
        "qr": _qr(case_url),
        "case_url": case_url,
        "urge_count": event.detail.get("count"),
    }


def render_pdf(context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy import: only when a form is printed

    html = render_to_string("staff/cases/print_form.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()  # type: ignore[no-any-return]


@scoped_view
def case_form(request: HttpRequest, case_id: int, kind: str) -> HttpResponse:
    if kind not in FORM_TITLES:
        raise NotFound()
    scope = actor_scope(request)
    case = selectors.case_get(scope=scope, case_id=case_id)
    seq_raw = request.GET.get("seq", "")
    seq = int(seq_raw) if seq_raw.isdecimal() else None
    url = request.build_absolute_uri(reverse("staff:case_detail", args=[case.pk]))
    context = form_context(scope=scope, case=case, kind=kind, seq=seq, case_url=url)
    at = now()
    user = request.user
    # Printed forms carry the reporter's name and phone: watermarked with who printed and when, audited.
    context["watermark"] = (f"打印人：{user.display_name}（{user.get_username()}） "  # type: ignore[union-attr]
                            f"打印时间：{local(at):%Y-%m-%d %H:%M} 仅限工作使用")
    with transaction.atomic():
        audit_record(action="case.print", actor=user, now=at, obj=case, unit_path=case.unit_path,
                     role=scope.role_at(case.owner_path) or scope.role_at(case.unit_path),
                     detail={"form": kind, "number": context["number"]})
    pdf = render_pdf(context)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{kind}-{context["number"]}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
