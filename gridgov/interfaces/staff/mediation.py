"""Staff pages of mediation (矛盾纠纷调解): the 调解台账 with filters, taking up a dispute, the detail
with its timeline and the actions the user may take now, the parties in full (a reason, audited) and
the printed 调解协议书 (watermarked, audited). Each view makes one selector or service call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, PermissionDenied
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.staff.reveal import render_no_store, reveal_on_post
from gridgov.interfaces.two_factor import require_recent_code
from gridgov.mediation import selectors, services
from gridgov.mediation.models import (
    DisputeType,
    Fulfilment,
    Level,
    Mode,
    PartyRole,
    ReferralChannel,
    Source,
)
from gridgov.mediation.states import ACTIONS, OPEN, Status
from gridgov.processes.mediation_referral import case_refer_to_mediation, referral_draft

# Form fields of each action parameter: (label, kind, required).
FIELDS: dict[str, tuple[str, str, bool]] = {
    "presiding_id": ("调解主持人", "presiding", True),
    "co_mediators": ("其他调解人员（如“五老”、金牌调解员，可不填）", "text", False),
    "facts": ("了解核实的情况", "textarea", True),
    "rights_informed": ("已告知当事人享有的权利和承担的义务", "check", True),
    "held_on": ("调解日期", "date", True),
    "place": ("调解地点", "text", True),
    "attendees": ("参加人员", "text", True),
    "notes": ("调解经过（仅调解组织可见）", "textarea", True),
    "days": ("延长天数（1～30 天）", "number", True),
    "reason": ("理由", "textarea", True),
    "terms": ("协议内容", "textarea", True),
    "performance_due": ("履行期限（可不填）", "date", False),
    "signed": ("各方当事人已在调解协议书上签名（盖章或按指印）", "check", True),
    "channel": ("引导当事人解决的途径", "channel", True),
    "fulfilment": ("履行情况", "fulfilment", True),
    "note": ("说明", "textarea", False),
}
PRIMARY = ("start", "record_session", "agree", "follow_up", "close")


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _decorate(m: Any, moment: dt.datetime) -> Any:
    m.is_late = m.status in OPEN and m.due_at < moment
    m.days_left = (local(m.due_at).date() - local(moment).date()).days if m.status in OPEN else None
    return m


@scoped_view
def mediation_ledger(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.MEDIATION_VIEW):
        raise PermissionDenied()
    g = request.GET
    unit_raw = g.get("unit", "")
    filters = selectors.LedgerFilter(
        start=_date(g.get("start", "")), end=_date(g.get("end", "")),
        dispute_type=g.get("type", "") if g.get("type", "") in DisputeType.values else "",
        mode=g.get("mode", "") if g.get("mode", "") in Mode.values else "",
        status=g.get("status", "") if g.get("status", "") in Status.values else "",
        unit_id=int(unit_raw) if unit_raw.isdecimal() else None, overdue=g.get("overdue") == "1",
    )
    moment = now()
    page_raw = g.get("page", "")
    page = selectors.mediation_ledger_page(scope=scope, filters=filters, now=moment, per_page=selectors.PAGE_SIZE,
                                           page=int(page_raw) if page_raw.isdecimal() and len(page_raw) < 7 else 1)
    query = g.copy()
    query.pop("page", None)
    context = {
        "rows": [_decorate(m, moment) for m in page.rows], "page": page, "base_query": query.urlencode(),
        "filters": filters, "types": DisputeType.choices, "modes": Mode.choices,
        "statuses": Status.choices, "units": selectors.register_units(scope=scope)[:200] if scope.can(
            P.MEDIATION_REGISTER) else [], "can_register": scope.can(P.MEDIATION_REGISTER),
        "unit_raw": unit_raw, "page_size": selectors.PAGE_SIZE,
    }
    return render(request, "staff/mediation/ledger.html", context)


def _parties_from_post(request: HttpRequest) -> list[dict[str, str]]:
    roles, names = request.POST.getlist("party_role"), request.POST.getlist("party_name")
    phones, ids = request.POST.getlist("party_phone"), request.POST.getlist("party_id")
    n = max(len(roles), len(names), len(phones), len(ids))
    def at(xs: list[str], i: int) -> str:
        return xs[i].strip() if i < len(xs) else ""
    return [{"role": at(roles, i), "name": at(names, i), "phone": at(phones, i), "id_number": at(ids, i)}
            for i in range(min(n, 12))]


@scoped_view
def mediation_new(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.MEDIATION_REGISTER):
        raise PermissionDenied()
    values: dict[str, Any] = {"source": "grid", "mode": "people", "level": "village"}
    case_raw = request.GET.get("case", "")
    if case_raw.isdecimal():
        # 转调解: a case the user may see, taken up as a mediation (its title, text and place prefilled).
        draft = referral_draft(actor=staff_actor(request), case_id=int(case_raw))
        values |= {"source": "case", "source_case_id": str(draft.case_id), "source_case_number": draft.case_number,
                   "title": draft.title, "summary": draft.summary, "unit_id": str(draft.unit_id),
                   "dispute_type": draft.dispute_type}
    parties: list[dict[str, str]] = [{"role": "applicant"}, {"role": "respondent"}, {"role": "third"}]
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in (
            "title", "summary", "dispute_type", "source", "mode", "level", "unit_id", "source_case_id",
            "source_case_number", "source_department_id")}
        parties = _parties_from_post(request)
        try:
            if values["source"] == "case":
                # 转调解: the referral process checks the case (in scope, referable, not yet referred).
                m = case_refer_to_mediation(
                    actor=staff_actor(request), now=now(), case_id=values["source_case_id"] or None,
                    case_number=values["source_case_number"], title=values["title"], summary=values["summary"],
                    dispute_type=values["dispute_type"], mode=values["mode"], level=values["level"],
                    unit_id=values["unit_id"], parties=parties)
            else:
                m = services.mediation_register(
                    actor=staff_actor(request), now=now(), title=values["title"], summary=values["summary"],
                    dispute_type=values["dispute_type"], source=values["source"], mode=values["mode"],
                    level=values["level"], unit_id=values["unit_id"], parties=parties,
                    source_department_id=values["source_department_id"] or None,
                )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已受理纠纷 {m.number}，调解期限 30 天。")
            return redirect("staff:mediation_detail", m.pk)
    context = {"values": values, "parties": parties, "error": error, "types": DisputeType.choices,
               "sources": Source.choices, "modes": Mode.choices, "levels": Level.choices,
               "roles": PartyRole.choices, "units": selectors.register_units(scope=scope)}
    # Party details typed into a refused form are sent back to the same person only; never cached.
    return render_no_store(request, "staff/mediation/new.html", context)


@scoped_view
def mediation_detail(request: HttpRequest, mediation_id: int) -> HttpResponse:
    scope = actor_scope(request)
    m = selectors.mediation_get(scope=scope, mediation_id=mediation_id)
    moment = now()
    forms = []
    for spec in services.allowed_actions(mediation=m, actor=staff_actor(request)):
        names = sorted(services.action_params(spec.code), key=list(FIELDS).index)
        fields = []
        for name in names:
            label, kind, required = FIELDS[name]
            if name == "reason" and spec.code == "extend":
                label = "延期理由（当事人同意的情况）"
            if name == "note" and spec.code == "fail":
                label, required = "调解不成的原因", True
            fields.append({"name": name, "label": label, "kind": kind, "required": required})
        forms.append({"code": spec.code, "label": spec.label, "hint": spec.hint, "fields": fields,
                      "danger": spec.danger})
    forms.sort(key=lambda f: (f["danger"], f["code"] not in PRIMARY))
    labels = {code: a.label for code, a in ACTIONS.items()} | {"register": "受理"}
    events = selectors.timeline(scope=scope, mediation=m)
    for e in events:
        e.label = labels.get(e.action, e.action)  # type: ignore[attr-defined]
    context = {
        "m": _decorate(m, moment), "parties": selectors.parties_masked(scope=scope, mediation=m),
        "can_unmask": selectors.can_unmask(scope=scope, mediation=m),
        "can_print": bool(m.agreement_number) and selectors.can_handle(scope=scope, mediation=m),
        "sessions": selectors.sessions(scope=scope, mediation=m),
        "terms": selectors.agreement_terms(scope=scope, mediation=m),
        "events": events, "forms": forms,
        "presiding_candidates": selectors.presiding_candidates(committee=m.committee_unit) if any(
            f["code"] == "assign" for f in forms) else [],
        "channels": ReferralChannel.choices, "fulfilments": Fulfilment.choices,
        "today": local(moment).date().isoformat(),
    }
    return render_no_store(request, "staff/mediation/detail.html", context)


@scoped_view
@require_POST
def mediation_act(request: HttpRequest, mediation_id: int, action: str) -> HttpResponse:
    scope = actor_scope(request)
    m = selectors.mediation_get(scope=scope, mediation_id=mediation_id)
    if action not in ACTIONS:
        messages.error(request, "未知的操作。")
        return redirect("staff:mediation_detail", m.pk)
    params: dict[str, Any] = {}
    for name in services.action_params(action):
        raw = request.POST.get(name, "").strip()
        if raw:
            params[name] = raw
    version = request.POST.get("version", "")
    try:
        services.mediation_act(actor=staff_actor(request), now=now(), mediation_id=m.pk, action=action,
                               expected_version=int(version) if version.isdecimal() else None, **params)
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{ACTIONS[action].label}。")
    return redirect(reverse("staff:mediation_detail", args=[m.pk]))


@scoped_view
@require_recent_code
def mediation_parties_unmask(request: HttpRequest, mediation_id: int) -> HttpResponse:
    """The parties' full names, phones and ID numbers, once, for a written reason; the service audits it."""
    scope = actor_scope(request)
    m = selectors.mediation_get(scope=scope, mediation_id=mediation_id)
    revealed, error = reveal_on_post(request, lambda reason: services.mediation_parties_unmask(
        actor=staff_actor(request), now=now(), mediation_id=m.pk, reason=reason))
    allowed = selectors.can_unmask(scope=scope, mediation=m)
    if request.method != "POST" and not allowed:
        error = "您没有查看当事人完整信息的权限。"
    return render_no_store(request, "staff/mediation/parties_unmask.html",
                           {"m": m, "parties": selectors.parties_masked(scope=scope, mediation=m),
                            "revealed": revealed, "error": error, "allowed": allowed})


def render_agreement_pdf(context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy import: only when a document is printed

    html = render_to_string("staff/mediation/agreement.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()  # type: ignore[no-any-return]


@scoped_view
def mediation_agreement_pdf(request: HttpRequest, mediation_id: int) -> HttpResponse:
    """调解协议书: the parties in full, the terms, the signatures' lines; watermarked and audited."""
    scope = actor_scope(request)
    m = selectors.mediation_get(scope=scope, mediation_id=mediation_id)
    at = now()
    doc = services.agreement_print(actor=staff_actor(request), now=at, mediation_id=m.pk)
    user = request.user
    watermark = (f"打印人：{user.display_name}（{user.get_username()}） "  # type: ignore[union-attr]
                 f"打印时间：{local(at):%Y-%m-%d %H:%M} 仅限工作使用")
    pdf = render_agreement_pdf({"doc": doc, "m": doc.mediation, "signed": local(doc.signed_at),
                                "watermark": watermark})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{doc.mediation.agreement_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def urls() -> list[Any]:
    return [
        path("mediation/", mediation_ledger, name="mediation_ledger"),
        path("mediation/new/", mediation_new, name="mediation_new"),
        path("mediation/<int:mediation_id>/", mediation_detail, name="mediation_detail"),
        path("mediation/<int:mediation_id>/act/<str:action>/", mediation_act, name="mediation_act"),
        path("mediation/<int:mediation_id>/parties/unmask/", mediation_parties_unmask,
             name="mediation_parties_unmask"),
        path("mediation/<int:mediation_id>/agreement.pdf", mediation_agreement_pdf, name="mediation_agreement_pdf"),
    ]
