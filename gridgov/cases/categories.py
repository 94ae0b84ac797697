"""The category tree and its graded response (分级响应), edited by the county office: names, the
lowest level that may finish a category, its default department kind, 四必到, deadlines by urgency,
the extension cap; retire and restore. Audited with the old and new values."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction

from gridgov.access.models import Department, User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed

from .models import DEFAULT_DEADLINES, LEVEL_RANK, Category, Urgency, default_deadlines
from .text import text_field as _text

CATEGORY_FIELDS = frozenset({"name", "lowest_level", "department_kind", "on_site", "deadlines", "escalate_when_overdue",
                             "max_extension_days", "is_active", "parent_id", "sort_order"})
URGENCY_LABEL = dict(Urgency.choices)
# Emergencies run in clock hours, the rest in working days (the defaults).
_HOURS_URGENCIES = frozenset({Urgency.EMERGENCY})
_MAX_HOURS, _MAX_DAYS = 720, 60


def _require_category_manager(actor: User | None) -> str:
    if actor is None:
        return "system"
    scope = scope_for(actor)
    if not scope.can(P.CATEGORY_MANAGE):
        raise PermissionDenied("只有县网格办可以修改事件类别。")
    county = next((g.path for g in scope.grants if P.CATEGORY_MANAGE in g.permissions), "")
    return scope.role_at(county) if county else "county_office"


def _clean_category(changes: dict[str, Any], *, category: Category | None) -> dict[str, Any]:
    unknown = set(changes) - CATEGORY_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = _text(changes["name"], field_name="name", label="类别名称", required=True, max_len=20)
    if "lowest_level" in changes:
        if changes["lowest_level"] not in LEVEL_RANK:
            raise ValidationFailed("请选择最低办结层级。", field="lowest_level")
        clean["lowest_level"] = changes["lowest_level"]
    if "department_kind" in changes:
        kind = str(changes["department_kind"] or "").strip()
        if kind and kind not in department_kinds():
            raise ValidationFailed("默认交办部门类别不存在，请从列表中选择。", field="department_kind")
        clean["department_kind"] = kind
    for flag in ("on_site", "escalate_when_overdue", "is_active"):
        if flag in changes:
            clean[flag] = bool(changes[flag])
    if "max_extension_days" in changes:
        try:
            n = int(changes["max_extension_days"])
        except (TypeError, ValueError):
            raise ValidationFailed("延时上限应为整数（工作日）。", field="max_extension_days")
        if not 0 <= n <= _MAX_DAYS:
            raise ValidationFailed(f"延时上限应在 0 到 {_MAX_DAYS} 个工作日之间。", field="max_extension_days")
        clean["max_extension_days"] = n
    if "sort_order" in changes:
        try:
            clean["sort_order"] = max(0, int(changes["sort_order"]))
        except (TypeError, ValueError):
            raise ValidationFailed("排序应为整数。", field="sort_order")
    if "deadlines" in changes:
        clean["deadlines"] = _check_deadlines(changes["deadlines"])
    if "parent_id" in changes:
        clean["parent"] = _category_parent(changes["parent_id"], category)
    return clean


def _category_parent(raw: Any, category: Category | None) -> Category | None:
    if raw in (None, ""):
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed("上级类别不存在。", field="parent_id")
    parent = Category.objects.filter(pk=pk, is_active=True).first()
    if parent is None:
        raise ValidationFailed("上级类别不存在或已停用。", field="parent_id")
    if parent.parent_id is not None:
        raise ValidationFailed("类别只分两级：请选择一个大类作为上级。", field="parent_id")
    if category is not None:
        if parent.pk == category.pk:
            raise ValidationFailed("上级类别不能是它自己。", field="parent_id")
        if Category.objects.filter(parent=category).exists():
            raise ValidationFailed("该类别下还有子类别，不能再挂到其他大类下。", field="parent_id")
    return parent


def department_kinds() -> set[str]:
    """Department kinds a category may name as its default: those of real departments, and those
    already in use by the tree."""
    kinds = set(Department.dangerously_unscoped.exclude(kind="").values_list("kind", flat=True).distinct())
    return kinds | set(Category.objects.exclude(department_kind="").values_list("department_kind", flat=True))


def _check_deadlines(value: Any) -> dict[str, dict[str, int]]:
    """Deadlines by urgency: emergencies in clock hours, the rest in working days; both limits whole
    numbers in range; the response never after the resolution. A missing urgency keeps the default."""
    if not isinstance(value, dict) or set(value) - set(Urgency.values):
        raise ValidationFailed("时限设置格式不正确。", field="deadlines")
    clean: dict[str, dict[str, int]] = {}
    for urgency in Urgency.values:
        policy = value.get(urgency)
        if policy is None:
            clean[urgency] = dict(DEFAULT_DEADLINES[urgency])
            continue
        label = URGENCY_LABEL[urgency]
        unit, cap, words = (("hours", _MAX_HOURS, "小时") if urgency in _HOURS_URGENCIES
                            else ("days", _MAX_DAYS, "个工作日"))
        if not isinstance(policy, dict) or set(policy) != {f"respond_{unit}", f"resolve_{unit}"}:
            raise ValidationFailed(f"「{label}」的时限须填写响应时限和办结时限（{words}）。",
                                   field=f"deadlines_{urgency}")
        for what, key in (("响应时限", f"respond_{unit}"), ("办结时限", f"resolve_{unit}")):
            n = policy[key]
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cap:
                raise ValidationFailed(f"「{label}」的{what}应为 1 到 {cap} 之间的整数（{words}）。",
                                       field=f"deadlines_{urgency}")
        if policy[f"respond_{unit}"] > policy[f"resolve_{unit}"]:
            raise ValidationFailed(f"「{label}」的响应时限不能长于办结时限。", field=f"deadlines_{urgency}")
        clean[urgency] = {f"respond_{unit}": policy[f"respond_{unit}"], f"resolve_{unit}": policy[f"resolve_{unit}"]}
    return clean


@transaction.atomic
def category_update(*, actor: User | None, now: dt.datetime, category_id: int, **changes: Any) -> Category:
    """The county office edits a category's graded response (name, levels, department kind, 四必到,
    deadlines, extension cap) or retires / restores it (`is_active`). Audited with the old and new values."""
    role = _require_category_manager(actor)
    found = Category.objects.select_for_update().filter(pk=category_id).first()
    if found is None:
        raise NotFound()
    category: Category = found
    clean = _clean_category(changes, category=category)
    if "name" in clean:
        _check_sibling_name(clean["name"], clean.get("parent", category.parent), exclude=category.pk)
    if (clean.get("is_active") is False and category.is_active
            and Category.objects.filter(parent=category, is_active=True).exists()):
        raise ValidationFailed("请先停用该大类下的子类别。", field="is_active")
    if clean.get("is_active") is True and not category.is_active:
        parent = clean.get("parent", category.parent)
        if parent is not None and not parent.is_active:
            raise ValidationFailed("上级类别已停用，请先启用上级类别。", field="is_active")
    before = {k: _category_value(category, k) for k in clean}
    for key, value in clean.items():
        setattr(category, key, value)
    category.save()
    after = {k: _category_value(category, k) for k in clean}
    changed = sorted(k for k in clean if before[k] != after[k])
    action = ("case.category_retire" if clean.get("is_active") is False and before.get("is_active") else
              "case.category_restore" if clean.get("is_active") is True and before.get("is_active") is False else
              "case.category_update")
    audit_record(action=action, actor=actor, now=now, obj=category, role=role,
                 detail={"fields": changed, "before": {k: before[k] for k in changed},
                         "after": {k: after[k] for k in changed}})
    return category


@transaction.atomic
def category_create(*, actor: User | None, now: dt.datetime, name: str, parent_id: Any = None,
                    **fields: Any) -> Category:
    """The county office adds a category (a new main category, or a sub-category under one)."""
    role = _require_category_manager(actor)
    clean = _clean_category({"name": name, "parent_id": parent_id, **fields}, category=None)
    parent = clean.pop("parent", None)
    _check_sibling_name(clean["name"], parent, exclude=None)
    if parent is not None:  # a sub-category starts from its main category's settings
        base = {"lowest_level": parent.lowest_level, "department_kind": parent.department_kind,
                "on_site": parent.on_site, "deadlines": parent.deadlines,
                "escalate_when_overdue": parent.escalate_when_overdue,
                "max_extension_days": parent.max_extension_days}
        clean = {**base, **clean}
    clean.setdefault("deadlines", default_deadlines())
    clean.setdefault("sort_order", (Category.objects.order_by("-sort_order").values_list("sort_order", flat=True)
                                    .first() or 0) + 1)
    code = f"c{now:%y%m%d}{secrets.token_hex(3)}"
    category = Category.objects.create(code=code, parent=parent, **clean)
    audit_record(action="case.category_create", actor=actor, now=now, obj=category, role=role,
                 detail={"name": category.name, "parent": parent.code if parent else None, "code": code})
    return category


def _check_sibling_name(name: str, parent: Category | None, *, exclude: int | None) -> None:
    qs = Category.objects.filter(parent=parent, name=name, is_active=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationFailed(f"同一上级下已有名为「{name}」的类别。", field="name")


def _category_value(category: Category, key: str) -> Any:
    if key == "parent":
        return category.parent.code if category.parent is not None else None
    return getattr(category, key)

