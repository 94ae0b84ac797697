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
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, NotFound, ValidationFailed
from gridgov.core.replica import replica_reads
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor, url_for_id
from gridgov.interfaces.staff.reveal import render_no_store, reveal_on_post
from gridgov.interfaces.two_factor import require_recent_code
from gridgov.residents import (
    caretakers,
    cleaners,
    excel,
    households,
    idnumber,
    key_groups,
    members,
    phones,
    selectors,
    tags,
    unmasking,
    watch,
)
from gridgov.residents import exports as bulk_exports
from gridgov.residents.models import (
    Education,
    Health,
    HouseholdStatus,
    ImportJob,
    PoliticalStatus,
    Relation,
    Residency,
    Sensitivity,
    TagTarget,
)
from gridgov.visits import selectors as visit_selectors

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
                            help_text="手机号或带区号的座机。")
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


class TagForm(forms.Form):
    name = forms.CharField(label="标签名称", max_length=40, error_messages={"required": "请填写标签名称。",
                                                                        "max_length": "标签名称不能超过 40 个字。"})
    applies_to = forms.ChoiceField(label="适用对象", choices=TagTarget.choices,
                                   help_text="户的标签加在整户上（如低保户），人的标签加在具体成员上（如留守儿童）。")
    sensitivity = forms.ChoiceField(label="敏感级别", choices=Sensitivity.choices,
                                    help_text="敏感标签只有网格长及以上（有查看敏感信息权限的角色）能看到。")
    visit_cadence_days = forms.CharField(label="走访周期（天）", max_length=6, required=False,
                                         help_text="每隔多少天至少走访一次；不需要定期走访请留空。")
    sort_order = forms.CharField(label="排序", max_length=6, required=False, help_text="数字小的排在前面。")
    code = forms.CharField(label="标签代码（可不填）", max_length=40, required=False,
                           help_text="小写字母、数字和下划线；不填则自动生成。")


class MoveForm(forms.Form):
    to_household = forms.IntegerField(label="迁入户的户号", error_messages={"required": "请填写户号。",
                                                                      "invalid": "户号是数字。"})
    relation = forms.ChoiceField(label="在新户中的关系", choices=Relation.choices)


# --- list and detail --------------------------------------------------------------------------------------
@scoped_view
@replica_reads
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
        watch.record_search(actor=staff_actor(request), now=now(), scope=scope, shown=len(page.rows))
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
    if page is not None:
        link = url_for_id("staff:household_detail")
        for h in page.rows:
            h.url = link(h.pk)
    context = {
        "page": page,
        "error": error,
        "params": params,
        "searched_for": searched_for,
        "base_query": urlencode(params),
        "tags": selectors.visible_tags(scope),
        "unit_options": _options(selectors.grid_choices(scope=scope, perm=P.HOUSEHOLD_VIEW),
                                 str(params.get("unit", ""))),
        "statuses": HouseholdStatus.choices,
        "can_edit": scope.can(P.HOUSEHOLD_EDIT),
        "can_import": scope.can(P.HOUSEHOLD_IMPORT),
        "can_export": scope.can(P.HOUSEHOLD_EXPORT),
        "can_manage_tags": scope.can(P.CATEGORY_MANAGE),
        "can_export_full": scope.can(P.HOUSEHOLD_EXPORT) and scope.can(P.RESIDENT_UNMASK),
    }
    return render(request, "staff/households/list.html", context)


def _options(choices: list[dict[str, Any]], chosen: str) -> str:
    """The <option>s of the grid filter, built here: a township office has a couple of hundred grids,
    and a template loop with a comparison per option was a good part of the search page's time."""
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (c["pk"], mark_safe(" selected") if str(c["pk"]) == chosen else "", c["name"]) for c in choices))


def _detail_context(request: HttpRequest, household_id: int) -> dict[str, Any]:
    scope = actor_scope(request)
    detail = selectors.household_detail(scope=scope, household_id=household_id, today=_today())
    tag_choices = selectors.visible_tags(scope, detail.household.unit.path)
    return {
        "d": detail,
        "h": detail.household,
        "tag_choices_household": [t for t in tag_choices if t.applies_to == TagTarget.HOUSEHOLD],
        "tag_choices_resident": [t for t in tag_choices if t.applies_to == TagTarget.RESIDENT],
        "today": _today(),
        "cases": _linked_cases(case_selectors.cases_for_household(scope=scope, household_id=detail.household.pk))
        if scope.can(P.CASE_VIEW) else [],
        "can_report_case": scope.can(P.CASE_REPORT),
        "tag_records": _tag_records(detail),
        "household_visits": visit_selectors.visits_for_household(scope=scope, household_id=detail.household.pk),
        "can_record_visit": scope.can(P.HOUSEHOLD_EDIT, detail.household.unit.path)
        and detail.household.status == "active",
    }


def _linked_cases(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    link = url_for_id("staff:case_detail")
    for r in rows:
        r["url"] = link(r["pk"])
    return rows


def _tag_records(detail: selectors.HouseholdDetail) -> list[dict[str, Any]]:
    """Every tag this viewer may see, current and ended: on whom, from when to when, set by whom."""
    names = {m.pk: m.name for m in detail.members + detail.former_members}
    current = list(detail.tags) + [t for m in detail.members for t in m.tags]
    rows = []
    for t in current + list(detail.past_tags):
        rows.append({"tag": t.tag, "on": names.get(t.resident_id, "") if t.resident_id else "本户",
                     "start": t.start_date, "end": t.end_date, "set_by": t.set_by, "note": t.note})
    return rows


@scoped_view
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    context = _detail_context(request, household_id)
    d = context["d"]
    watch.record_household_view(actor=staff_actor(request), now=now(), scope=actor_scope(request),
                                household=d.household,
                                residents=len(d.members) + len(d.former_members), sensitive=d.show_sensitive)
    return render(request, "staff/households/detail.html", context)


@scoped_view
def household_assign_choices(request: HttpRequest, household_id: int) -> HttpResponse:
    """The two forms of the household page's 联系网格员和联系党员 section with their choice lists (the
    grid workers over its grid, up to 200 party members near it), fetched when the section is opened:
    an edit-only list of hundreds of options was three statements and much of every view of the page."""
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    if not scope.can(P.HOUSEHOLD_EDIT, household.unit.path) or household.status != "active":
        raise NotFound()
    return render(request, "staff/households/_assign_choices.html", {
        "h": household,
        "workers": selectors.grid_workers_for(scope=scope, household=household),
        "current_worker": selectors.grid_worker_user_id(household),
        "party_members": selectors.party_member_choices(scope=scope, household=household),
    })


@scoped_view
def household_create(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    _require_anywhere(scope, P.HOUSEHOLD_EDIT)
    units = selectors.deepest_units(scope=scope)
    form = HouseholdForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = households.household_create(
                actor=staff_actor(request), now=now(), unit_id=data["unit"] or None, address=data["address"],
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
               "phone": household.phone_masked, "lat": household.lat, "lng": household.lng, "notes": household.notes,
               "version": household.version}
    form = HouseholdForm(request.POST or None, initial=initial, units=selectors.deepest_units(scope=scope))
    form.fields["phone"].help_text = KEEP_OR_CLEAR
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in ("address", "house_number", "notes", "lat", "lng")}
        if data["phone"] != household.phone_masked:
            changes["phone"] = data["phone"]  # a new number, or blank: the phone is removed
        try:
            households.household_update(actor=staff_actor(request), now=now(), household_id=household.pk,
                                      expected_version=data["version"], **changes)
            if data["unit"] and data["unit"] != household.unit_id and data["lat"] is None:
                households.household_move(actor=staff_actor(request), now=now(), household_id=household.pk,
                                        unit_id=data["unit"])
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("staff:household_detail", household_id=household.pk)
    return render(request, "staff/households/household_form.html",
                  {"form": form, "title": f"修改户信息（户号 {household.pk}）", "household": household})


KEEP_OR_CLEAR = "显示的是脱敏后的号码：保持原样表示不修改，清空表示删除，也可以填写新号码。"


def _resident_data(form: ResidentForm, masked: dict[str, str] | None = None) -> dict[str, Any]:
    """The form's values for the service. On an edit form the ID number and phone fields start with
    their masked forms (the page never holds the full values): left as shown they are unchanged,
    blank removes the phone (an ID number is required, so blank is refused by the service)."""
    data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
    for key in ("id_number", "phone"):
        if masked is None:
            if not data[key]:
                data.pop(key)
        elif data[key] == masked[key]:
            data.pop(key)
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
            members.resident_add(actor=staff_actor(request), now=now(), household_id=household.pk, **data)
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
    masked = {"id_number": resident.id_masked, "phone": resident.phone_masked}
    initial = {f: getattr(resident, f) for f in ResidentForm.base_fields if f not in masked} | masked
    form = ResidentForm(request.POST or None, initial=initial)
    form.fields["id_number"].help_text = "显示的是脱敏后的号码：保持原样表示不修改，修改请填写完整的新号码。"
    form.fields["phone"].help_text = KEEP_OR_CLEAR
    if not view.show_sensitive:
        del form.fields["health"], form.fields["disability"]
    if request.method == "POST" and form.is_valid():
        data = _resident_data(form, masked)
        try:
            members.resident_update(actor=staff_actor(request), now=now(), resident_id=resident.pk,
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
            members.resident_move(actor=staff_actor(request), now=now(), resident_id=resident.pk,
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
        members.resident_set_status(actor=staff_actor(request), now=now(), resident_id=resident.pk,
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
            households.household_set_status(actor=staff_actor(request), now=now(), household_id=household.pk,
                                          status=request.POST.get("status", ""), reason=request.POST.get("reason", ""))
            messages.success(request, "已更新户状态。")
        elif action == "merge":
            into = int(request.POST.get("into") or 0)
            selectors.household_get(scope=scope, household_id=into)
            target = households.household_merge(actor=staff_actor(request), now=now(), household_id=household.pk,
                                              into_id=into).pk
            messages.success(request, f"已并入户号 {target}。")
        elif action == "split":
            members = [int(v) for v in request.POST.getlist("members") if v.isdecimal()]
            head = int(request.POST.get("new_head") or 0)
            target = households.household_split(actor=staff_actor(request), now=now(), household_id=household.pk,
                                              resident_ids=members, new_head_id=head,
                                              address=request.POST.get("address") or None,
                                              house_number=request.POST.get("house_number", "")).pk
            messages.success(request, f"已分出新户（户号 {target}），请补充新户信息。")
        elif action == "assign":
            worker = next((u for u in selectors.grid_workers_for(scope=scope, household=household)
                           if str(u.pk) == request.POST.get("user")), None)
            if worker is None:
                raise NotFound()
            caretakers.household_assign_worker(actor=staff_actor(request), now=now(), household_id=household.pk,
                                               user=worker)
            messages.success(request, f"已指定 {worker} 联系该户。")
        elif action == "party_link":
            caretakers.household_link_party_member(actor=staff_actor(request), now=now(), household_id=household.pk,
                                                 party_member_id=int(request.POST.get("party_member") or 0))
            messages.success(request, "已添加联系党员。")
        elif action == "unlink":
            link = selectors.assignment_get(scope=scope, assignment_id=int(request.POST.get("link") or 0))
            if link.household_id != household.pk:
                raise NotFound()
            caretakers.assignment_end(actor=staff_actor(request), now=now(), assignment_id=link.pk)
            messages.success(request, "已解除联系。")
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
        tags.tag_assign(actor=staff_actor(request), now=now(), tag_code=request.POST.get("tag", ""),
                            household_id=None if resident_id else household.pk,
                            resident_id=int(resident_id) if resident_id else None,
                            start_date=cleaners.written_date(start, field="start_date", label="开始日期"),
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
        tags.tag_end(actor=staff_actor(request), now=now(), assignment_id=assignment_id)
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
    revealed, error = reveal_on_post(request, lambda reason: unmasking.resident_unmask(
        actor=staff_actor(request), now=now(), resident_id=resident.pk, reason=reason))
    if request.method != "POST" and not scope.can(P.RESIDENT_UNMASK, resident.household.unit.path):
        error = "您没有查看完整身份证号和电话的权限。"
    # A child's name stays masked for a viewer without the right to see minors' data.
    name = selectors.resident_view(resident, scope=scope, path=resident.household.unit.path, today=_today()).name
    return render_no_store(request, "staff/households/unmask.html",
                           {"resident": resident, "name": name, "revealed": revealed, "error": error,
                            "household": resident.household})


@scoped_view
@require_recent_code
def household_unmask(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household's full phone, once, for a written reason; the service audits it."""
    scope = actor_scope(request)
    household = selectors.household_get(scope=scope, household_id=household_id)
    phone, error = reveal_on_post(request, lambda reason: unmasking.household_unmask_phone(
        actor=staff_actor(request), now=now(), household_id=household.pk, reason=reason))
    if request.method != "POST" and not scope.can(P.RESIDENT_UNMASK, household.unit.path):
        error = "您没有查看完整电话的权限。"
    return render_no_store(request, "staff/households/household_unmask.html",
                           {"household": household, "phone": phone, "error": error})


# --- who looks after which households (联系户分配) -------------------------------------------------------------
WORKER_LOAD = 50  # households a grid worker usually looks after
PARTY_MEMBER_LOAD = 10  # households a party member usually keeps in touch with


@scoped_view
def contacts_start(request: HttpRequest) -> HttpResponse:
    """Pick the grid whose contacts to arrange (straight to it when there is only one)."""
    scope = actor_scope(request)
    _require_anywhere(scope, P.HOUSEHOLD_EDIT)
    grids = selectors.deepest_units(scope=scope, limit=2000)
    if len(grids) == 1:
        return redirect("staff:household_contacts_unit", unit_id=grids[0].pk)
    return render(request, "staff/households/contacts.html", {"board": None, "grids": grids})


@scoped_view
def contacts_unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A grid's households with their grid worker and party members; assign several at once."""
    scope = actor_scope(request)
    board = selectors.contacts_board(scope=scope, unit_id=unit_id)
    if request.method == "POST":
        _contacts_post(request, scope, board)
        return redirect("staff:household_contacts_unit", unit_id=board.unit.pk)
    return render(request, "staff/households/contacts.html",
                  {"board": board, "grids": board.grids, "worker_load": WORKER_LOAD,
                   "party_member_load": PARTY_MEMBER_LOAD})


def _contacts_post(request: HttpRequest, scope: Scope, board: selectors.ContactsBoard) -> None:
    # The 解除 buttons sit in the same form and send only `link`.
    action = "end" if request.POST.get("link") else request.POST.get("action", "")
    ids = [int(v) for v in request.POST.getlist("households") if v.isdecimal()]
    try:
        if action == "end":
            link = selectors.assignment_get(scope=scope, assignment_id=int(request.POST.get("link") or 0))
            caretakers.assignment_end(actor=staff_actor(request), now=now(), assignment_id=link.pk)
            messages.success(request, "已解除联系。")
            return
        if action == "worker":
            worker = next((u for u, _ in board.workers if str(u.pk) == request.POST.get("user")), None)
            if worker is None:
                raise ValidationFailed("请选择本网格的网格员。", field="user")
            result = caretakers.contacts_assign(actor=staff_actor(request), now=now(), household_ids=ids, worker=worker)
            who, usual = worker.display_name, WORKER_LOAD
        elif action == "party":
            member = next((m for m, _ in board.party_members if str(m.pk) == request.POST.get("party_member")), None)
            if member is None:
                raise ValidationFailed("请选择联系党员。", field="party_member")
            result = caretakers.contacts_assign(actor=staff_actor(request), now=now(), household_ids=ids,
                                              party_member_id=member.pk)
            who, usual = member.name, PARTY_MEMBER_LOAD
        else:
            messages.error(request, "请选择要办理的事项。")
            return
    except (ValueError, NotFound):
        messages.error(request, "没有找到该户或该联系记录，或不在您的范围内。")
        return
    except DomainError as exc:
        messages.error(request, exc.message)
        return
    messages.success(request, f"已分配 {result.changed} 户给 {who}" + (
        f"（{result.unchanged} 户原本就由其联系）" if result.unchanged else "") + "。")
    if result.load > usual:
        messages.warning(request, f"{who} 现在联系 {result.load} 户，多于通常的约 {usual} 户，请留意工作量。")


# --- the key-group catalogue (重点人群目录) -------------------------------------------------------------
def _require_catalogue(scope: Scope) -> None:
    """Only the catalogue's keepers (category.manage: the county office) reach these pages; for
    everyone else they do not exist."""
    if not scope.can(P.CATEGORY_MANAGE):
        raise NotFound()


@scoped_view
def tag_catalogue(request: HttpRequest) -> HttpResponse:
    """The list of key groups and the form that adds one."""
    _require_catalogue(actor_scope(request))
    form = TagForm(request.POST or None, initial={"applies_to": TagTarget.HOUSEHOLD,
                                                  "sensitivity": Sensitivity.NORMAL})
    if request.method == "POST" and form.is_valid():
        try:
            tag = key_groups.tag_create(actor=staff_actor(request), now=now(), **form.cleaned_data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            messages.success(request, f"已添加标签「{tag.name}」。")
            return redirect("staff:tag_catalogue")
    return render(request, "staff/households/tag_catalogue.html",
                  {"tags": selectors.tag_catalogue(), "form": form})


@scoped_view
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Edit one key group, retire it (no new uses) or bring it back."""
    _require_catalogue(actor_scope(request))
    tag = selectors.tag_get(tag_id=tag_id)
    initial = {"name": tag.name, "applies_to": tag.applies_to, "sensitivity": tag.sensitivity,
               "visit_cadence_days": tag.visit_cadence_days or "", "sort_order": tag.sort_order, "code": tag.code}
    form = TagForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    form.fields["code"].label = "标签代码"
    form.fields["code"].help_text = "代码不能修改。"
    if request.method == "POST":
        retire = request.POST.get("active")
        try:
            if retire in ("0", "1"):
                key_groups.tag_update(actor=staff_actor(request), now=now(), tag_id=tag.pk, is_active=retire == "1")
                messages.success(request, f"已{'恢复' if retire == '1' else '停用'}标签「{tag.name}」。")
                return redirect("staff:tag_catalogue")
            if form.is_valid():
                data = {k: v for k, v in form.cleaned_data.items() if k != "code"}
                key_groups.tag_update(actor=staff_actor(request), now=now(), tag_id=tag.pk, **data)
                messages.success(request, "已保存。")
                return redirect("staff:tag_catalogue")
        except DomainError as exc:
            _fail(form, exc)
    return render(request, "staff/households/tag_edit.html", {"tag": tag, "form": form})


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
                actor=staff_actor(request), now=now(), unit_id=int(request.POST.get("unit") or 0),
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
        new = excel.import_submit(actor=staff_actor(request), now=now(), unit_id=job.unit_id, filename=job.filename,
                                  content=bytes(job.content), mode=ImportJob.Mode.VALID_ONLY)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("staff:household_import_job", job_id=job.pk)
    return redirect("staff:household_import_job", job_id=new.pk)


@scoped_view
def import_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = excel.import_job_get(scope=actor_scope(request), job_id=job_id)
    return _xlsx(excel.error_report_bytes(job), f"import-errors-{job.pk}.xlsx")


@scoped_view
@require_recent_code
def household_export_full(request: HttpRequest) -> HttpResponse:
    """A full export (ID numbers and phones in clear) for a written reason: for holders of both
    household.export and resident.unmask. Always a request for a second person's approval; the file
    is then watermarked and downloadable for 24 hours (residents.exports)."""
    scope = actor_scope(request)
    if not (scope.can(P.HOUSEHOLD_EXPORT) and scope.can(P.RESIDENT_UNMASK)):
        raise NotFound()
    error = ""
    unit_id = request.POST.get("unit") or request.GET.get("unit") or ""
    if request.method == "POST":
        try:
            export = bulk_exports.export_full_request(actor=staff_actor(request), now=now(),
                                                 unit_id=int(unit_id) if unit_id.isdecimal() else None,
                                                 reason=request.POST.get("reason", ""))
        except DomainError as exc:
            if exc.code == "not_found":
                raise
            error = exc.message
        else:
            messages.success(request, f"已提交完整信息导出申请（{export.row_count} 条），"
                                      "等待另一位有导出和查看完整信息权限的人员审批。")
            return redirect("staff:export_detail", export_id=export.pk)
    units = [u for u in selectors.deepest_units(scope=scope, perm=P.HOUSEHOLD_EXPORT)
             if scope.can(P.RESIDENT_UNMASK, u.path)]
    response = render(request, "staff/households/export_full.html",
                      {"error": error, "units": units, "unit_id": unit_id})
    response["Cache-Control"] = "no-store"
    return response


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
        path("households/<int:household_id>/assign-choices/", household_assign_choices,
             name="household_assign_choices"),
        path("households/<int:household_id>/tags/<int:assignment_id>/end/", tag_end, name="household_tag_end"),
        path("residents/<int:resident_id>/edit/", resident_edit, name="resident_edit"),
        path("residents/<int:resident_id>/move/", resident_move, name="resident_move"),
        path("residents/<int:resident_id>/status/", resident_status, name="resident_status"),
        path("residents/<int:resident_id>/unmask/", resident_unmask, name="resident_unmask"),
        path("households/<int:household_id>/unmask/", household_unmask, name="household_unmask"),
        path("households/contacts/", contacts_start, name="household_contacts"),
        path("households/contacts/<int:unit_id>/", contacts_unit, name="household_contacts_unit"),
        path("households/key-groups/", tag_catalogue, name="tag_catalogue"),
        path("households/key-groups/<int:tag_id>/", tag_edit, name="tag_edit"),
        path("households/import/", import_start, name="household_import"),
        path("households/import/template.xlsx", import_template, name="household_import_template"),
        path("households/import/<int:job_id>/", import_job, name="household_import_job"),
        path("households/import/<int:job_id>/valid-only/", import_retry, name="household_import_retry"),
        path("households/import/<int:job_id>/errors.xlsx", import_report, name="household_import_report"),
        path("households/export.xlsx", exports.household_export, name="household_export"),
        path("households/export/unmask/", household_export_full, name="household_export_full"),
    ]

