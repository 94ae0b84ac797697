"""Staff pages of deliberation (群众议事): proposals per unit with stage filters, a proposal's six-stage
timeline with the form of each stage, the vote sheet (large and plain, for a village secretary on
a phone), talk days, and the printed public notice (公示). Each view makes one selector or service
call; domain errors become Chinese messages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, PermissionDenied
from gridgov.deliberation import selectors, services
from gridgov.deliberation.models import Body, Category, Choice, ConsultKind, Satisfaction, Source, VoteMode
from gridgov.deliberation.states import ACTIONS, Stage
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.printing import render_pdf

# Form fields of each stage action's parameters: name → (label, kind, required).
FIELDS: dict[str, tuple[str, str, bool]] = {
    "note": ("说明（可不填）", "textarea", False),
    "kind": ("意见来源", "consult_kind", True),
    "text": ("内容", "textarea", True),
    "opinions": ("收集意见条数", "number", False),
    "adopted": ("其中采纳条数", "number", False),
    "notice_text": ("公示内容", "textarea", True),
    "days": ("公示天数（不少于 5 天）", "number", False),
    "start": ("公示开始日期（不填为今天）", "date", False),
    "body": ("表决主体", "body", True),
    "mode": ("记票方式", "mode", True),
    "place": ("会议地点", "text", False),
    "voters_from": ("代表名单", "voters_from", False),
    "voters": ("代表名单（每行一人；选“户代表”时可不填）", "textarea", False),
    "quorum": ("", "skip", False),
    "pass_rule": ("", "skip", False),
    "pass_base": ("", "skip", False),
    "percent": ("完成比例（%）", "number", False),
    "outcome_text": ("实施结果", "textarea", True),
    "satisfaction": ("群众评议", "satisfaction", True),
    "comment": ("意见（可不填）", "text", False),
    "reason": ("理由", "textarea", True),
}
PRIMARY = ("start_consult", "consult_note", "publish", "open_vote", "close_vote", "progress", "complete",
           "evaluate", "close", "reconsult")


def _int(value: str) -> int | None:
    return int(value) if value and value.isdecimal() else None


@scoped_view
def proposal_list(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.DELIBERATION_VIEW):
        raise PermissionDenied()
    stage = request.GET.get("stage", "active")
    if stage not in selectors.STAGE_FILTERS:
        stage = "active"
    unit_id = _int(request.GET.get("unit", ""))
    query = request.GET.get("q", "").strip()[:40]
    rows = selectors.proposal_list(scope=scope, stage=stage, unit_id=unit_id, query=query)
    counts = selectors.stage_counts(scope=scope, unit_id=unit_id)
    context = {
        "rows": rows, "stage": stage, "query": query, "unit_id": unit_id or "",
        "filters": [(k, label, counts.get(k, 0)) for k, (label, _) in selectors.STAGE_FILTERS.items()],
        "units": selectors.proposal_units(scope=scope, perm=P.DELIBERATION_VIEW),
        "can_raise": scope.can(P.DELIBERATION_PROPOSE),
        "can_manage": scope.can(P.DELIBERATION_MANAGE),
    }
    return render(request, "staff/deliberation/list.html", context)


@scoped_view
def proposal_new(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.DELIBERATION_PROPOSE):
        raise PermissionDenied()
    values: dict[str, Any] = {"source": Source.TALK_DAY, "talk_day_id": request.GET.get("talk_day", "")[:12]}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in (
            "unit_id", "title", "description", "category", "source", "talk_day_id", "raiser_name")}
        try:
            proposal = services.proposal_raise(actor=staff_actor(request), now=now(), **values)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            error = exc.message
        else:
            messages.success(request, f"已登记议事事项 {proposal.number}。")
            return redirect("staff:proposal_detail", proposal.pk)
    context = {"values": values, "error": error, "units": selectors.proposal_units(scope=scope),
               "categories": Category.choices, "sources": Source.choices,
               "talk_days": selectors.talk_days(scope=scope)}
    return render(request, "staff/deliberation/new.html", context)


@scoped_view
def talk_days(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.DELIBERATION_VIEW):
        raise PermissionDenied()
    values: dict[str, Any] = {"held_on": f"{local(now()):%Y-%m-%d}"}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("unit_id", "held_on", "topic", "matters_heard")}
        try:
            talk = services.talk_day_create(actor=staff_actor(request), now=now(), **values)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            error = exc.message
        else:
            messages.success(request, f"已登记 {talk.held_on:%Y年%-m月%-d日} 的说事日。")
            return redirect("staff:talk_days")
    context = {"rows": selectors.talk_days(scope=scope), "values": values, "error": error,
               "units": selectors.proposal_units(scope=scope, perm=P.DELIBERATION_MANAGE)}
    return render(request, "staff/deliberation/talk_days.html", context)


@scoped_view
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    scope = actor_scope(request)
    proposal = selectors.proposal_get(scope=scope, proposal_id=proposal_id)
    forms = []
    for spec in services.allowed_actions(proposal=proposal, actor=staff_actor(request)):
        fields = []
        for name in sorted(services.action_params(spec.code), key=list(FIELDS).index):
            label, kind, required = FIELDS[name]
            if kind != "skip":
                fields.append({"name": name, "label": label, "kind": kind, "required": required})
        forms.append({"code": spec.code, "label": spec.label, "hint": spec.hint, "fields": fields,
                      "danger": spec.code == "withdraw"})
    forms.sort(key=lambda f: (f["danger"], PRIMARY.index(f["code"]) if f["code"] in PRIMARY else 99))
    labels = {code: a.label for code, a in ACTIONS.items()} | {"raise": "提事（登记）"}
    events = selectors.proposal_events(scope=scope, proposal=proposal)
    for e in events:
        e.label = labels.get(e.action, e.action)  # type: ignore[attr-defined]
        e.to_label = Stage(e.to_stage).label  # type: ignore[attr-defined]
    context = {
        "p": proposal,
        "timeline": selectors.six_stage_timeline(proposal),
        "events": events,
        "notes": selectors.consultation_notes(scope=scope, proposal=proposal),
        "meetings": selectors.meetings(scope=scope, proposal=proposal),
        "progress": selectors.progress_entries(scope=scope, proposal=proposal),
        "evaluation": selectors.evaluation_summary(scope=scope, proposal=proposal),
        "forms": forms,
        "consult_kinds": ConsultKind.choices, "bodies": Body.choices, "modes": VoteMode.choices,
        "satisfactions": Satisfaction.choices,
        "min_days": services.MIN_NOTICE_DAYS,
    }
    return render(request, "staff/deliberation/detail.html", context)


@scoped_view
@require_POST
def proposal_act(request: HttpRequest, proposal_id: int) -> HttpResponse:
    scope = actor_scope(request)
    proposal = selectors.proposal_get(scope=scope, proposal_id=proposal_id)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, "未知的操作。")
        return redirect("staff:proposal_detail", proposal.pk)
    params = {name: request.POST.get(name, "").strip() for name in services.action_params(action)
              if request.POST.get(name, "").strip()}
    try:
        after = services.proposal_act(actor=staff_actor(request), now=now(), proposal_id=proposal.pk, action=action,
                                      expected_version=_int(request.POST.get("version", "")), **params)
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        messages.error(request, exc.message)
    else:
        if action == "close_vote":
            messages.success(request, f"表决结束，结果：{after.get_result_display()}。")
        else:
            messages.success(request, f"已{ACTIONS[action].label}。")
        if action == "open_vote":
            return redirect("staff:proposal_vote", proposal.pk)
    return redirect(reverse("staff:proposal_detail", args=[proposal.pk]))


@scoped_view
def proposal_vote(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The vote sheet: one big row per representative with 赞成 / 反对 / 弃权 buttons, or the paper
    tally form; the running count and what the rules need, computed by the service."""
    scope = actor_scope(request)
    proposal = selectors.proposal_get(scope=scope, proposal_id=proposal_id)
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what == "tally":
                services.vote_tally(actor=staff_actor(request), now=now(), proposal_id=proposal.pk,
                                    **{k: request.POST.get(k, "") for k in (
                                        "attending", "votes_for", "votes_against", "votes_abstain")})
                messages.success(request, "已录入表决票汇总。")
            elif what == "attend":
                voter = services.vote_attend(actor=staff_actor(request), now=now(), proposal_id=proposal.pk,
                                             voter_id=request.POST.get("voter_id", ""),
                                             present=request.POST.get("present", "1") == "1")
                done = "签到" if voter.attended else "取消签到"
                messages.success(request, f"{voter.seq} 号 {voter.name_masked} 已{done}。")
            else:
                ballot = services.vote_cast(actor=staff_actor(request), now=now(), proposal_id=proposal.pk,
                                            voter_id=request.POST.get("voter_id", ""),
                                            choice=request.POST.get("choice", ""))
                messages.success(request, f"{ballot.voter.seq} 号 {ballot.voter.name_masked}："
                                          f"{ballot.get_choice_display()}。")
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            messages.error(request, exc.message)
        return redirect(reverse("staff:proposal_vote", args=[proposal.pk]) + request.POST.get("anchor", "")[:12])
    sheet = selectors.vote_sheet(scope=scope, proposal=proposal)
    context = {"p": proposal, "sheet": sheet, "choices": Choice.choices,
               "can_manage": scope.can(P.DELIBERATION_MANAGE, proposal.unit_path)}
    return render(request, "staff/deliberation/vote.html", context)


_COMMITTEE = {"community": "居民委员会"}
NOTICE_KINDS = {"matter": "议事事项公示", "result": "表决结果公示", "implementation": "实施结果公示"}


@scoped_view
def proposal_notice_pdf(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The public notice (公示) to post on the village board: the matter before the vote, the
    result after it (四议两公开: 决议公开、实施结果公开). No personal data: no raiser, no voters."""
    scope = actor_scope(request)
    proposal = selectors.proposal_get(scope=scope, proposal_id=proposal_id)
    kind = request.GET.get("kind", "matter")
    if kind not in NOTICE_KINDS:
        kind = "matter"
    meetings = [m for m in selectors.meetings(scope=scope, proposal=proposal) if m.closed_at]
    missing = {"matter": proposal.notice_start is None and "该事项还没有公示，不能打印公示。",
               "result": not meetings and "该事项还没有表决结果。",
               "implementation": proposal.implemented_at is None and "该事项还没有实施完成。"}[kind]
    if missing:
        messages.error(request, missing)
        return redirect("staff:proposal_detail", proposal.pk)
    at = now()
    services.notice_printed(actor=staff_actor(request), now=at, proposal=proposal, kind=kind)
    context = {"title": NOTICE_KINDS[kind], "kind": kind, "p": proposal, "meeting": meetings[-1] if meetings else None,
               "unit_name": proposal.unit.name, "printed": local(at),
               "committee": proposal.unit.name + _COMMITTEE.get(proposal.unit.kind.base, "村民委员会"),
               "progress": selectors.progress_entries(scope=scope, proposal=proposal)}
    pdf = render_pdf("print/deliberation_notice.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{proposal.number}-{kind}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def urls() -> list[Any]:
    return [
        path("deliberation/", proposal_list, name="proposal_list"),
        path("deliberation/new/", proposal_new, name="proposal_new"),
        path("deliberation/talk-days/", talk_days, name="talk_days"),
        path("deliberation/<int:proposal_id>/", proposal_detail, name="proposal_detail"),
        path("deliberation/<int:proposal_id>/act/", proposal_act, name="proposal_act"),
        path("deliberation/<int:proposal_id>/vote/", proposal_vote, name="proposal_vote"),
        path("deliberation/<int:proposal_id>/notice.pdf", proposal_notice_pdf, name="proposal_notice_pdf"),
    ]
