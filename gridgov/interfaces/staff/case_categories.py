"""The county office's editor of the case category tree (事件类别): add, edit, retire and restore
categories with their graded response: lowest resolving level, default department kind, 四必到,
deadlines by urgency, extension cap. One page; each form posts one service call."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from gridgov.access.roles import P
from gridgov.cases import selectors, services
from gridgov.cases.models import DEFAULT_DEADLINES, Category, ResolveLevel, Urgency
from gridgov.core.clock import now
from gridgov.core.errors import DomainError, PermissionDenied, ValidationFailed
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor

# Labels for the department kinds the generator and real deployments use; others show their code.
KIND_LABELS = {
    "police": "公安（派出所、公安局）", "land": "自然资源（国土所、自然资源局）",
    "civil_affairs": "民政（民政办、民政局）",
    "justice": "司法（司法所、司法局）", "judicial": "司法调解", "enforcement": "综合执法", "health": "卫生健康",
    "emergency": "应急管理", "market": "市场监管", "housing": "住房和城乡建设", "petition": "信访",
    "utilities": "供水供电", "fire": "消防", "environment": "环境卫生", "labour": "人社劳动保障",
    "development": "发展改革（重大项目）",
}
HOURS = frozenset({Urgency.EMERGENCY.value})


def _deadline_rows(category: Category | None, posted: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for value, label in Urgency.choices:
        unit = "hours" if value in HOURS else "days"
        policy = category.policy(value) if category is not None else DEFAULT_DEADLINES[value]
        rows.append({
            "urgency": value, "label": label, "unit": "小时" if unit == "hours" else "工作日",
            "respond": (posted or {}).get(f"respond_{value}", policy.get(f"respond_{unit}", "")),
            "resolve": (posted or {}).get(f"resolve_{value}", policy.get(f"resolve_{unit}", "")),
        })
    return rows


def _posted_deadlines(post: Any) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for value, label in Urgency.choices:
        unit = "hours" if value in HOURS else "days"
        policy = {}
        for what, word in (("respond", "响应时限"), ("resolve", "办结时限")):
            raw = str(post.get(f"{what}_{value}", "")).strip()
            if not raw.isdecimal():
                raise ValidationFailed(f"请填写「{label}」的{word}（整数）。", field=f"deadlines_{value}")
            policy[f"{what}_{unit}"] = int(raw)
        result[value] = policy
    return result


def _fields(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""), "lowest_level": post.get("lowest_level", ""),
        "department_kind": post.get("department_kind", ""), "on_site": post.get("on_site") == "on",
        "escalate_when_overdue": post.get("escalate_when_overdue") == "on",
        "max_extension_days": post.get("max_extension_days", "").strip(),
    }


@scoped_view
def case_categories(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    if not scope.can(P.CATEGORY_MANAGE):
        raise PermissionDenied("只有县网格办可以维护事件类别。")
    tree = selectors.categories(active_only=False)
    by_id = {c.pk: c for c in tree}
    error = ""
    posted: dict[str, Any] | None = None
    editing: Category | None = None
    adding = request.GET.get("new") == "1"
    raw_edit = request.GET.get("edit", "")
    if raw_edit.isdecimal():
        editing = by_id.get(int(raw_edit))
    if request.method == "POST":
        op = request.POST.get("op", "")
        raw_id = request.POST.get("category_id", "")
        target = by_id.get(int(raw_id)) if raw_id.isdecimal() else None
        try:
            if op == "create":
                actor = staff_actor(request)
                services.category_create(actor=actor, now=now(), parent_id=request.POST.get("parent_id") or None,
                                         deadlines=_posted_deadlines(request.POST), **_fields(request.POST))
                messages.success(request, f"已添加类别「{request.POST.get('name', '').strip()}」。")
            elif op in ("update", "retire", "restore") and target is not None:
                if op == "update":
                    services.category_update(actor=staff_actor(request), now=now(), category_id=target.pk,
                                             deadlines=_posted_deadlines(request.POST), **_fields(request.POST))
                    messages.success(request, f"已保存类别「{target.name}」。")
                else:
                    services.category_update(actor=staff_actor(request), now=now(), category_id=target.pk,
                                             is_active=op == "restore")
                    messages.success(request, f"已{'启用' if op == 'restore' else '停用'}类别「{target.name}」。")
            else:
                raise ValidationFailed("要修改的类别不存在，请刷新页面。")
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            error, posted = exc.message, dict(request.POST.items())
            editing, adding = (target, False) if op == "update" else (None, op == "create")
        else:
            return redirect(reverse("staff:case_categories"))
    kinds = sorted(services.department_kinds())
    for c in tree:
        c.kind_label = KIND_LABELS.get(c.department_kind, c.department_kind)  # type: ignore[attr-defined]
        c.kids = [k for k in tree if k.parent_id == c.pk]  # type: ignore[attr-defined]
    context = {
        "tree": [c for c in tree if c.parent_id is None],
        "editing": editing, "adding": adding, "error": error,
        "values": posted or ({"name": editing.name, "lowest_level": editing.lowest_level,
                              "department_kind": editing.department_kind, "on_site": editing.on_site,
                              "escalate_when_overdue": editing.escalate_when_overdue,
                              "max_extension_days": editing.max_extension_days,
                              "parent_id": editing.parent_id or ""} if editing is not None else
                             {"lowest_level": ResolveLevel.GRID, "max_extension_days": 10,
                              "parent_id": request.GET.get("parent", "")}),
        "deadline_rows": _deadline_rows(editing, posted),
        "levels": ResolveLevel.choices,
        "kinds": [(k, KIND_LABELS.get(k, k)) for k in kinds],
        "parents": [c for c in tree if c.parent_id is None and c.is_active],
    }
    return render(request, "staff/cases/categories.html", context)
