"""Staff pages of visits (走访): a grid worker's due list (我的走访), the small record-a-visit form that
survives a weak signal (a plain POST carrying its idempotency key, so a retry after a lost response
makes exactly one visit), a visit's page (its notes shown in full, audited), the unit's visit log,
campaigns (集中走访) with their progress, and the must-visit rules (五必访) the county office keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.cases import selectors as case_selectors
from gridgov.cases.models import Urgency
from gridgov.core.clock import local, now
from gridgov.core.errors import Conflict, DomainError, PermissionDenied
from gridgov.interfaces.http import actor_scope, scoped_view
from gridgov.processes.visit_cases import raise_case_from_visit
from gridgov.residents import selectors as ledger
from gridgov.residents import watch
from gridgov.residents.models import Tag
from gridgov.visits import selectors, services
from gridgov.visits.models import VisitCampaign, VisitKind

PHOTO_FIELD = "photo"


def _today() -> dt.date:
    return local(now()).date()


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdecimal() and len(value) < 12 else None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


# --- 我的走访: the due list -----------------------------------------------------------------------
@scoped_view
def my_visits(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.HOUSEHOLD_EDIT):
        raise PermissionDenied("您没有走访任务。")
    today = _today()
    show_all = request.GET.get("all") == "1"
    rows, left_off = selectors.due_list(scope=scope, today=today, user_id=request.user.pk, include_later=show_all)
    watch.record_search(actor=request.user, now=now(), scope=scope, shown=len(rows))
    mine = selectors.visit_log(scope=scope, f=selectors.LogFilter(visitor_id=request.user.pk), limit=10)
    first = next((g for g in scope.grants if P.HOUSEHOLD_EDIT in g.permissions), None)
    rules = selectors.rules_in_force(path=first.path) if first is not None else []
    context = {
        "rows": rows, "left_off": left_off, "show_all": show_all, "today": today,
        "overdue": sum(1 for r in rows if r.overdue), "due": sum(1 for r in rows if not r.overdue and r.days_left <= 0),
        "recent": mine, "rules": rules, "can_see_sensitive": scope.can(P.SENSITIVE_TAGS),
        "can_log": scope.can(P.HOUSEHOLD_VIEW), "is_keeper": scope.can(P.CATEGORY_MANAGE),
    }
    return render(request, "staff/visits/my.html", context)


# --- the record-a-visit form ---------------------------------------------------------------------------
FORM_FIELDS = ("household_id", "kind", "visited_at", "notes", "lat", "lng", "campaign_id", "idempotency_key",
               "problem_title", "problem_description", "problem_category", "problem_urgency")


@scoped_view
def visit_new(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.HOUSEHOLD_EDIT):
        raise PermissionDenied("您没有记录走访的权限。")
    source = request.POST if request.method == "POST" else request.GET
    household_id = _int(source.get("household_id") or source.get("household"))
    household = ledger.household_get(scope=scope, household_id=household_id) if household_id else None
    values: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "kind": VisitKind.HOME,
                              "problem_urgency": "ordinary"}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in FORM_FIELDS}
        values["problem_found"] = request.POST.get("problem_found") == "on"
        values["raise_case"] = request.POST.get("raise_case") == "on"
        upload = request.FILES.get(PHOTO_FIELD)
        problem = None
        if values["raise_case"]:
            problem = services.ProblemReport(
                title=values["problem_title"], description=values["problem_description"],
                category_code=values["problem_category"], urgency=values["problem_urgency"] or "ordinary")
        try:
            result = services.visit_record(
                actor=request.user, now=now(), household_id=values["household_id"], kind=values["kind"],
                visited_at=values["visited_at"] or None, notes=values["notes"], lat=values["lat"] or None,
                lng=values["lng"] or None, photo=upload.read(services_photo_cap()) if upload else None,
                campaign_id=values["campaign_id"] or None, problem_found=values["problem_found"], problem=problem,
                idempotency_key=values["idempotency_key"], raise_case=raise_case_from_visit,
            )
        except Conflict as exc:
            error = exc.message
            values["idempotency_key"] = uuid.uuid4().hex  # the old key belongs to the visit already saved
        except DomainError as exc:
            error = exc.message
        else:
            visit = result.visit
            if result.created:
                text = "已记录走访。"
                if visit.case_number:
                    text += f"发现的问题已登记为事件 {visit.case_number}。"
            else:
                text = "这条走访已经保存过了（网络重试），没有重复记录。"
            messages.success(request, text)
            return redirect("staff:my_visits")
    today = _today()
    context = {
        "household": household, "values": values, "error": error, "kinds": VisitKind.choices,
        "campaigns": selectors.campaigns_open_for(scope=scope, household=household, on=today) if household else [],
        "categories": case_selectors.categories() if scope.can(P.CASE_REPORT) else [],
        "urgencies": Urgency.choices, "can_report_case": scope.can(P.CASE_REPORT),
        "head": ledger.household_detail(scope=scope, household_id=household.pk, today=today, full=False).head
        if household else None,
    }
    status = 400 if error else 200
    return render(request, "staff/visits/new.html", context, status=status)


def services_photo_cap() -> int:
    from gridgov.visits.photos import MAX_BYTES

    return MAX_BYTES + 1


# --- one visit --------------------------------------------------------------------------------------------
@scoped_view
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    visit = selectors.visit_get(scope=scope, visit_id=visit_id)
    notes = services.visit_notes_read(actor=request.user, now=now(), scope=scope, visit=visit)
    response = render(request, "staff/visits/detail.html", {"v": visit, "notes": notes,
                                                            "can_case": scope.can(P.CASE_VIEW)})
    response["Cache-Control"] = "no-store"
    return response


@scoped_view
def visit_photo(request: HttpRequest, visit_id: int) -> HttpResponse:
    scope = actor_scope(request)
    visit = selectors.visit_get(scope=scope, visit_id=visit_id)
    handle = services.visit_photo_open(actor=request.user, now=now(), scope=scope, visit=visit)
    response = FileResponse(handle, content_type=visit.photo_type or "application/octet-stream")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]


# --- the visit log -------------------------------------------------------------------------------------
@scoped_view
def visit_log(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.HOUSEHOLD_VIEW):
        raise PermissionDenied()
    today = _today()
    f = selectors.LogFilter(
        unit_id=_int(request.GET.get("unit")), start=_date(request.GET.get("start")) or today.replace(day=1),
        end=_date(request.GET.get("end")) or today, kind=request.GET.get("kind", "")[:10],
        visitor_id=_int(request.GET.get("visitor")), campaign_id=_int(request.GET.get("campaign")))
    if f.start and f.end and f.start > f.end:
        f.start, f.end = f.end, f.start
    visits = selectors.visit_log(scope=scope, f=f, limit=300)
    context = {"visits": visits, "f": f, "kinds": VisitKind.choices, "units": selectors.log_units(scope=scope),
               "visitors": selectors.visitors_in(scope=scope), "by_kind": {}}
    return render(request, "staff/visits/log.html", context)


# --- campaigns (集中走访) ---------------------------------------------------------------------------
@scoped_view
def campaign_list(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.HOUSEHOLD_VIEW):
        raise PermissionDenied()
    can_create = scope.can(P.UNIT_EDIT)
    units = [u for u in selectors.log_units(scope=scope) if scope.can(P.UNIT_EDIT, u.path)] if can_create else []
    error = None
    values: dict[str, Any] = {"covers": VisitCampaign.Covers.ALL}
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied("只有村（社区）书记、总网格长和网格办可以组织集中走访。")
        values = {k: request.POST.get(k, "").strip() for k in ("unit_id", "name", "starts_on", "ends_on", "covers")}
        try:
            campaign = services.campaign_create(actor=request.user, now=now(), unit_id=values["unit_id"],
                                                name=values["name"], starts_on=values["starts_on"],
                                                ends_on=values["ends_on"], covers=values["covers"])
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已发起「{campaign.name}」。")
            return redirect("staff:visit_campaign", campaign_id=campaign.pk)
    today = _today()
    campaigns = selectors.campaign_list(scope=scope)
    year_counts: dict[str, int] = {}
    for c in campaigns:
        if c.cancelled_at is None and c.starts_on.year == today.year:
            year_counts[c.unit.name] = year_counts.get(c.unit.name, 0) + 1
    context = {"campaigns": campaigns, "can_create": can_create, "units": units, "values": values, "error": error,
               "covers": VisitCampaign.Covers.choices, "today": today, "year_counts": sorted(year_counts.items())}
    return render(request, "staff/visits/campaigns.html", context, status=400 if error else 200)


@scoped_view
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = actor_scope(request)
    campaign = selectors.campaign_get(scope=scope, campaign_id=campaign_id)
    progress = selectors.campaign_progress(scope=scope, campaign=campaign)
    watch.record_search(actor=request.user, now=now(), scope=scope, shown=len(progress.not_visited))
    context = {"c": campaign, "p": progress, "can_cancel": scope.can(P.UNIT_EDIT, campaign.unit_path)
               and campaign.cancelled_at is None, "can_visit": scope.can(P.HOUSEHOLD_EDIT), "today": _today()}
    return render(request, "staff/visits/campaign.html", context)


@scoped_view
@require_POST
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = actor_scope(request)
    selectors.campaign_get(scope=scope, campaign_id=campaign_id)
    try:
        services.campaign_cancel(actor=request.user, now=now(), campaign_id=campaign_id)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已取消这次集中走访。")
    return redirect("staff:visit_campaign", campaign_id=campaign_id)


# --- must-visit rules (五必访) ----------------------------------------------------------------------
@scoped_view
def rule_list(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.CATEGORY_MANAGE):
        raise PermissionDenied("只有县网格办可以维护五必访规则。")
    error = None
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("unit_id", "tag_id", "cadence_days")}
        try:
            if request.POST.get("from_catalogue"):
                made = services.rules_from_catalogue(actor=request.user, now=now(), unit_id=values["unit_id"])
                messages.success(request, f"已按重点人群目录的建议周期建立 {len(made)} 条规则。")
            else:
                rule = services.rule_set(actor=request.user, now=now(), unit_id=values["unit_id"],
                                         tag_id=values["tag_id"], cadence_days=values["cadence_days"])
                messages.success(request, f"已保存：{rule.tag.name} 每 {rule.cadence_days} 天走访一次。")
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("staff:visit_rules")
    context = {"rules": selectors.rule_list(scope=scope), "units": selectors.rule_units(scope=scope),
               "tags": list(Tag.objects.filter(is_active=True)), "values": values, "error": error}
    return render(request, "staff/visits/rules.html", context, status=400 if error else 200)


@scoped_view
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    scope = actor_scope(request)
    rule = selectors.rule_get(scope=scope, rule_id=rule_id)
    error = None
    if request.method == "POST":
        try:
            services.rule_update(actor=request.user, now=now(), rule_id=rule.pk,
                                 cadence_days=request.POST.get("cadence_days", ""),
                                 is_active=request.POST.get("is_active") == "on",
                                 expected_version=_int(request.POST.get("version")))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "已保存。")
            return redirect("staff:visit_rules")
    return render(request, "staff/visits/rule_edit.html", {"rule": rule, "error": error},
                  status=400 if error else 200)


def urls() -> list[Any]:
    return [
        path("visits/", my_visits, name="my_visits"),
        path("visits/new/", visit_new, name="visit_new"),
        path("visits/log/", visit_log, name="visit_log"),
        path("visits/<int:visit_id>/", visit_detail, name="visit_detail"),
        path("visits/<int:visit_id>/photo/", visit_photo, name="visit_photo"),
        path("visits/campaigns/", campaign_list, name="visit_campaigns"),
        path("visits/campaigns/<int:campaign_id>/", campaign_detail, name="visit_campaign"),
        path("visits/campaigns/<int:campaign_id>/cancel/", campaign_cancel, name="visit_campaign_cancel"),
        path("visits/rules/", rule_list, name="visit_rules"),
        path("visits/rules/<int:rule_id>/", rule_edit, name="visit_rule_edit"),
    ]
