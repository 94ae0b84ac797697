"""Staff pages of the household ledger (户情台账): search, detail, forms, tags, unmasking, Excel.

Thin views: each translates the request into one selector or service call. Nothing here sees a
plaintext ID number or phone except the unmask view, which gets them from the audited service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, NotFound
from gridgov.interfaces.http import actor_scope, scoped_view
from gridgov.interfaces.two_factor import require_recent_code
from gridgov.residents import excel, idnumber, phones, selectors, services, watch
from gridgov.residents.models import (
    Education,
    Health,
    HouseholdStatus,
    ImportJob,
    PoliticalStatus,
    Relation,
    Residency,
    TagTarget,
)

_BLANK = [("", "—")]


def _today() -> Any:
    return local(now()).date()


def _fail(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _require_anywhere(scope: Scope, perm: str) -> None:
    if not scope.can(perm):
        raise NotFound()


# --- forms ----------------------------------------------------------------------------------------------
class HouseholdForm(forms.Form):
    unit = forms.TypedChoiceField(label="所属网格", coerce=int, required=False)
    address = forms.CharField(label="地址", max_length=200, error_messages={"required": "请填写地址。"})
    house_number = forms.CharField(label="门牌号", max_length=40, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False,
                            help_text="手机号或带区号的座机；修改时留空表示不变。")
    lat = forms.FloatField(label="纬度", required=False, help_text="填写坐标后自动归入所在网格。")
    lng = forms.FloatField(label="经度", required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["unit"]
        field.choices = _BLANK + [(u.pk, f"{u.parent.name if u.parent else ''} {u.name}".strip()) for u in units]


class ResidentForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=40, error_messages={"required": "请填写姓名。"})
    relation = forms.ChoiceField(label="与户主关系", choices=Relation.choices)
    id_number = forms.CharField(label="身份证号", max_length=24, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    ethnicity = forms.CharField(label="民族", max_length=20, initial="汉族", required=False)
    political_status = forms.ChoiceField(label="政治面貌", choices=PoliticalStatus.choices,
                                         initial=PoliticalStatus.MASSES)
    residency = forms.ChoiceField(label="人口类型", choices=Residency.choices, initial=Residency.REGISTERED)
    away_place = forms.CharField(label="外出地点", max_length=100, required=False)
    away_since = forms.DateField(label="外出时间", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 error_messages={"invalid": "日期格式应为 2024-05-01。"})
    education = forms.ChoiceField(label="文化程度", choices=_BLANK + list(Education.choices), required=False)
    occupation = forms.CharField(label="职业", max_length=60, required=False)
    health = forms.ChoiceField(label="健康状况", choices=Health.choices, initial=Health.HEALTHY)
    disability = forms.CharField(label="残疾类别/等级", max_length=60, required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class MoveForm(forms.Form):
    to_household = forms.IntegerField(label="迁入户的户号", error_messages={"required": "请填写户号。",
                                                                      "invalid": "户号是数字。"})
    relation = forms.ChoiceField(label="在新户中的关系", choices=Relation.choices)


# --- list and detail --------------------------------------------------------------------------------------
@scoped_view
def household_list(request: HttpRequest) -> HttpResponse:
    """Search. The form posts, so an ID number or phone typed into it stays out of URLs and access
    logs; the page echoes such a query only masked."""
    scope = actor_scope(request)
    _require_anywhere(scope, P.HOUSEHOLD_VIEW)
    page = None
    error = ""
    source = request.POST if request.method == "POST" else request.GET
    params = {k: v for k, v in source.items() if k not in ("csrfmiddlewaretoken", "after")}
    try:
        query = selectors.HouseholdQuery.from_params(source)
        page = selectors.household_search(scope=scope, query=query, today=_today())
    except DomainError as exc:
        error = exc.message
        query = None
    if page is not None:
        watch.record_search(actor=request.user, now=now(), scope=scope, shown=len(page.rows))
    searched_for = ""
    if page is not None and page.query.address and not params.get("address"):
        # The search box text was read as an address fragment: page on as such.
        params["address"] = page.query.address
        params.pop("q", None)
    if query is not None and (query.id_number or query.phone):
        # Never echo a full ID number or phone: drop it from the form and the next-page link.
        searched_for = "身份证号 " + idnumber.mask(idnumber.normalize(query.id_number)) if query.id_number \
            else "电话 " + phones.mask_typed(query.phone)
        for key in ("q", "id_number", "phone"):
            params.pop(key, None)
    elif error:
        for key in ("q", "id_number", "phone"):
            params.pop(key, None)
    context = {
        "page": page,
        "error": error,
        "params": params,
        "searched_for": searched_for,
        "base_query": urlencode(params),
        "tags": selectors.visible_tags(scope),
        "units": selectors.deepest_units(scope=scope, perm=P.HOUSEHOLD_VIEW),
        "statuses": HouseholdStatus.choices,
        "can_edit": scope.can(P.HOUSEHOLD_EDIT),
        "can_import": scope.can(P.HOUSEHOLD_IMPORT),
        "can_export": scope.can(P.HOUSEHOLD_EXPORT),
    }
    return render(request, "staff/households/list.html", context)


def _detail_context(request: HttpRequest, household_id: int) -> dict[str, Any]:
    scope = actor_scope(request)
    detail = selectors.household_detail(scope=scope, household_id=household_id, today=_today())
    return {
        "d": detail,
        "h": detail.household,
        "workers": selectors.grid_workers_for(scope=scope, household=detail.household) if detail.can_edit else [],
        "party_members": selectors.party_members_near(scope=scope, household=detail.household)
        if detail.can_edit else [],
        "tag_choices_household": [t for t in selectors.visible_tags(scope, detail.household.unit.path)
                                  if t.applies_to == TagTarget.HOUSEHOLD],
        "tag_choices_resident": [t for t in selectors.visible_tags(scope, detail.household.unit.path)
                                 if t.applies_to == TagTarget.RESIDENT],
        "today": _today(),
    }


@scoped_view
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    context = _detail_context(request, household_id)
    d = context["d"]
    watch.record_household_view(actor=request.user, now=now(), scope=actor_scope(request), household=d.household,
                                residents=len(d.members) + len(d.former_members), sensitive=d.show_sensitive)
    return render(request, "staff/households/detail.html", context)


@scoped_view
def household_create(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    _require_anywhere(scope, P.HOUSEHOLD_EDIT)
    units = selectors.deepest_units(scope=scope)
    form = HouseholdForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = services.household_create(
                actor=request.user, now=now(), unit_id=data["unit"] or None, address=data["address"],
                house_number=data["house_number"], lat=data["lat"], lng=data["lng"], phone=data["phone"],
                notes=data["notes"])
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "已建档，请继续登记家庭成员。")
            return redirect("staff:resident_add", household_id=household.pk)
    return render(request, "staff/households/household_form.html", {"form": form, "title": "新建户"})


@scoped_view
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    if not scope.can(P.HOUSEHOLD_EDIT, household.unit.path):
        raise NotFound()
    initial = {"unit": household.unit_id, "address": household.address, "house_number": household.house_number,
               "lat": household.lat, "lng": household.lng, "notes": household.notes, "version": household.version}
    form = HouseholdForm(request.POST or None, initial=initial, units=selectors.deepest_units(scope=scope))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in ("address", "house_number", "notes", "lat", "lng")}
        if data["phone"]:
            changes["phone"] = data["phone"]
        try:
            services.household_update(actor=request.user, now=now(), household_id=household.pk,
                                      expected_version=data["version"], **changes)
            if data["unit"] and data["unit"] != household.unit_id and data["lat"] is None:
                services.household_move(actor=request.user, now=now(), household_id=household.pk,
                                        unit_id=data["unit"])
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("staff:household_detail", household_id=household.pk)
    return render(request, "staff/households/household_form.html",
                  {"form": form, "title": f"修改户信息（户号 {household.pk}）", "household": household})


def _resident_data(form: ResidentForm) -> dict[str, Any]:
    data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
    for key in ("id_number", "phone"):
        if not data[key]:
            data.pop(key)  # blank on an edit form means "unchanged": the page never holds the full value
    return data


@scoped_view
def resident_add(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    form = ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _resident_data(form)
        data.setdefault("id_number", "")
        try:
            services.resident_add(actor=request.user, now=now(), household_id=household.pk, **data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, f"已登记 {data['name']}。")
            if "again" in request.POST:
                return redirect("staff:resident_add", household_id=household.pk)
            return redirect("staff:household_detail", household_id=household.pk)
    return render(request, "staff/households/resident_form.html",
                  {"form": form, "household": household, "title": "登记家庭成员"})


@scoped_view
def resident_edit(request: HttpRequest, resident_id: int) -> HttpResponse:
    scope = actor_scope(request)
    resident = selectors.resident_get(scope=scope, resident_id=resident_id)
    household = resident.household
    view = selectors.resident_view(resident, scope=scope, path=household.unit.path, today=_today())
    if view.is_minor and not view.show_sensitive:
        raise Forbidden("未满 14 周岁人员的信息只有有权限的人员可以修改。")
    initial = {f: getattr(resident, f) for f in ResidentForm.base_fields if f not in ("id_number", "phone")}
    form = ResidentForm(request.POST or None, initial=initial)
    form.fields["id_number"].help_text = f"当前 {resident.id_masked}；不修改请留空。"
    form.fields["phone"].help_text = f"当前 {resident.phone_masked or '未登记'}；不修改请留空。"
    if not view.show_sensitive:
        del form.fields["health"], form.fields["disability"]
    if request.method == "POST" and form.is_valid():
        data = _resident_data(form)
        try:
            services.resident_update(actor=request.user, now=now(), resident_id=resident.pk,
                                     expected_version=form.cleaned_data["version"], **data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("staff:household_detail", household_id=household.pk)
    return render(request, "staff/households/resident_form.html",
                  {"form": form, "household": household, "resident": resident, "title": f"修改 {view.name} 的信息"})


@scoped_view
def resident_move(request: HttpRequest, resident_id: int) -> HttpResponse:
    scope = actor_scope(request)
    resident = selectors.resident_get(scope=scope, resident_id=resident_id)
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            selectors.household_get(scope=scope, household_id=form.cleaned_data["to_household"])
            services.resident_move(actor=request.user, now=now(), resident_id=resident.pk,
                                   to_household_id=form.cleaned_data["to_household"],
                                   relation=form.cleaned_data["relation"])
        except NotFound:
            form.add_error("to_household", "没有找到该户，或该户不在您的范围内。")
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "已迁入新户。")
            return redirect("staff:household_detail", household_id=form.cleaned_data["to_household"])
    name = selectors.resident_view(resident, scope=scope, path=resident.household.unit.path, today=_today()).name
    return render(request, "staff/households/resident_move.html",
                  {"form": form, "resident": resident, "name": name, "household": resident.household})


@scoped_view
@require_POST
def resident_status(request: HttpRequest, resident_id: int) -> HttpResponse:
    scope = actor_scope(request)
    resident = selectors.resident_get(scope=scope, resident_id=resident_id)
    try:
        services.resident_set_status(actor=request.user, now=now(), resident_id=resident.pk,
                                     status=request.POST.get("status", ""), reason=request.POST.get("reason", ""))
        messages.success(request, "已更新人员状态。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:household_detail", household_id=resident.household_id)


@scoped_view
@require_POST
def household_change(request: HttpRequest, household_id: int) -> HttpResponse:
    """Move out / dissolve, merge into another household, or split members off: one form each."""
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    action = request.POST.get("action", "")
    target = household.pk
    try:
        if action == "status":
            services.household_set_status(actor=request.user, now=now(), household_id=household.pk,
                                          status=request.POST.get("status", ""), reason=request.POST.get("reason", ""))
            messages.success(request, "已更新户状态。")
        elif action == "merge":
            into = int(request.POST.get("into") or 0)
            selectors.household_get(scope=scope, household_id=into)
            target = services.household_merge(actor=request.user, now=now(), household_id=household.pk,
                                              into_id=into).pk
            messages.success(request, f"已并入户号 {target}。")
        elif action == "split":
            members = [int(v) for v in request.POST.getlist("members") if v.isdigit()]
            head = int(request.POST.get("new_head") or 0)
            target = services.household_split(actor=request.user, now=now(), household_id=household.pk,
                                              resident_ids=members, new_head_id=head,
                                              address=request.POST.get("address") or None,
                                              house_number=request.POST.get("house_number", "")).pk
            messages.success(request, f"已分出新户（户号 {target}），请补充新户信息。")
        elif action == "assign":
            worker = next((u for u in selectors.grid_workers_for(scope=scope, household=household)
                           if str(u.pk) == request.POST.get("user")), None)
            if worker is None:
                raise NotFound()
            services.household_assign_worker(actor=request.user, now=now(), household_id=household.pk, user=worker)
            messages.success(request, f"已指定 {worker} 联系该户。")
        elif action == "party_link":
            services.household_link_party_member(actor=request.user, now=now(), household_id=household.pk,
                                                 party_member_id=int(request.POST.get("party_member") or 0))
            messages.success(request, "已添加联系党员。")
        else:
            messages.error(request, "请选择要办理的事项。")
    except ValueError:
        messages.error(request, "户号或人员填写不正确。")
    except NotFound:
        messages.error(request, "没有找到该户，或该户不在您的范围内。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:household_detail", household_id=target)


@scoped_view
@require_POST
def tag_add(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    resident_id = request.POST.get("resident") or None
    try:
        if resident_id is not None:
            resident = selectors.resident_get(scope=scope, resident_id=int(resident_id))
            if resident.household_id != household.pk:
                raise NotFound()
        start = request.POST.get("start_date") or None
        services.tag_assign(actor=request.user, now=now(), tag_code=request.POST.get("tag", ""),
                            household_id=None if resident_id else household.pk,
                            resident_id=int(resident_id) if resident_id else None,
                            start_date=services._parse_date(start, field="start_date", label="开始日期"),
                            note=request.POST.get("note", ""))
        messages.success(request, "已添加标签。")
    except ValueError:
        messages.error(request, "请选择人员。")
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:household_detail", household_id=household.pk)


@scoped_view
@require_POST
def tag_end(request: HttpRequest, household_id: int, assignment_id: int) -> HttpResponse:
    scope = actor_scope(request)
    detail = selectors.household_detail(scope=scope, household_id=household_id, today=_today())
    visible = {t.pk for t in detail.tags} | {t.pk for m in detail.members for t in m.tags}
    if assignment_id not in visible:
        raise NotFound()
    try:
        services.tag_end(actor=request.user, now=now(), assignment_id=assignment_id)
        messages.success(request, "标签已结束。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("staff:household_detail", household_id=household_id)


@scoped_view
@require_recent_code
def resident_unmask(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Full ID number and phone, once, for a written reason; the service audits it."""
    scope = actor_scope(request)
    resident = selectors.resident_get(scope=scope, resident_id=resident_id)
    revealed = None
    error = ""
    if request.method == "POST":
        try:
            revealed = services.resident_unmask(actor=request.user, now=now(), resident_id=resident.pk,
                                                reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error = exc.message
    elif not scope.can(P.RESIDENT_UNMASK, resident.household.unit.path):
        error = "您没有查看完整身份证号和电话的权限。"
    response = render(request, "staff/households/unmask.html",
                      {"resident": resident, "revealed": revealed, "error": error,
                       "household": resident.household})
    response["Cache-Control"] = "no-store"
    return response


# --- Excel ------------------------------------------------------------------------------------------------
def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response


@scoped_view
def import_template(request: HttpRequest) -> HttpResponse:
    _require_anywhere(actor_scope(request), P.HOUSEHOLD_IMPORT)
    return _xlsx(excel.template_bytes(), quote("户情台账导入模板.xlsx"))


@scoped_view
def import_start(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    _require_anywhere(scope, P.HOUSEHOLD_IMPORT)
    units = selectors.import_roots(scope=scope)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            job = excel.import_submit(
                actor=request.user, now=now(), unit_id=int(request.POST.get("unit") or 0),
                filename=(upload.name or "") if upload else "", content=upload.read() if upload else b"",
                mode=request.POST.get("mode", ImportJob.Mode.ALL_OR_NOTHING))
        except (ValueError, NotFound):
            error = "请选择导入到哪个单位。"
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("staff:household_import_job", job_id=job.pk)
    return render(request, "staff/households/import.html", {"units": units, "error": error,
                                                             "modes": ImportJob.Mode.choices})


@scoped_view
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = excel.import_job_get(scope=actor_scope(request), job_id=job_id)
    template = "staff/households/_import_progress.html" if request.headers.get("HX-Request") else \
        "staff/households/import_job.html"
    return render(request, template, {"job": job, "errors": job.errors[:500], "more": max(len(job.errors) - 500, 0)})


@scoped_view
@require_POST
def import_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Import the valid rows of a rejected upload, when the user chooses to."""
    job = excel.import_job_get(scope=actor_scope(request), job_id=job_id)
    try:
        new = excel.import_submit(actor=request.user, now=now(), unit_id=job.unit_id, filename=job.filename,
                                  content=bytes(job.content), mode=ImportJob.Mode.VALID_ONLY)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("staff:household_import_job", job_id=job.pk)
    return redirect("staff:household_import_job", job_id=new.pk)


@scoped_view
def import_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = excel.import_job_get(scope=actor_scope(request), job_id=job_id)
    return _xlsx(excel.error_report_bytes(job), f"import-errors-{job.pk}.xlsx")


def household_urls() -> list[Any]:
    from django.urls import path

    from . import exports

    return [
        path("households/", household_list, name="household_list"),
        path("households/new/", household_create, name="household_create"),
        path("households/<int:household_id>/", household_detail, name="household_detail"),
        path("households/<int:household_id>/edit/", household_edit, name="household_edit"),
        path("households/<int:household_id>/residents/new/", resident_add, name="resident_add"),
        path("households/<int:household_id>/tags/", tag_add, name="household_tag_add"),
        path("households/<int:household_id>/change/", household_change, name="household_change"),
        path("households/<int:household_id>/tags/<int:assignment_id>/end/", tag_end, name="household_tag_end"),
        path("residents/<int:resident_id>/edit/", resident_edit, name="resident_edit"),
        path("residents/<int:resident_id>/move/", resident_move, name="resident_move"),
        path("residents/<int:resident_id>/status/", resident_status, name="resident_status"),
        path("residents/<int:resident_id>/unmask/", resident_unmask, name="resident_unmask"),
        path("households/import/", import_start, name="household_import"),
        path("households/import/template.xlsx", import_template, name="household_import_template"),
        path("households/import/<int:job_id>/", import_job, name="household_import_job"),
        path("households/import/<int:job_id>/valid-only/", import_retry, name="household_import_retry"),
        path("households/import/<int:job_id>/errors.xlsx", import_report, name="household_import_report"),
        path("households/export.xlsx", exports.household_export, name="household_export"),
    ]

