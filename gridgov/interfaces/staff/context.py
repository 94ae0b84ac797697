"""Navigation shown to a signed-in user: only what their roles allow."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from gridgov.access.roles import P
from gridgov.access.scope import scope_for

# (label, url name, permission needed anywhere in scope or None for everyone signed in)
NAV_ITEMS: list[tuple[str, str, str | None]] = [
    ("首页", "staff:home", None),
    ("网格体系", "staff:unit_tree", P.UNIT_VIEW),
    ("户情台账", "staff:household_list", P.HOUSEHOLD_VIEW),
    ("事件办理", "staff:case_queue", P.CASE_VIEW),
    ("走访", "staff:my_visits", P.HOUSEHOLD_EDIT),
    ("部门待办", "staff:case_queue", P.CASE_DEPARTMENT),
    ("事件类别", "staff:case_categories", P.CATEGORY_MANAGE),
    ("群众议事", "staff:proposal_list", P.DELIBERATION_VIEW),
    ("调解台账", "staff:mediation_ledger", P.MEDIATION_VIEW),
    ("统计分析", "staff:dashboard", P.CASE_VIEW),
    ("审计日志", "staff:audit_log", P.AUDIT_VIEW),
    ("批量导出", "staff:export_list", P.HOUSEHOLD_EXPORT),
    ("安全管理", "staff:security_policy", P.POLICY_MANAGE),
    ("我的任务", "staff:my_tasks", P.DUTY_DO),
    ("责任清单", "staff:duty_lists", P.DUTY_ISSUE),
    ("月度考核", "staff:assessment", P.WORK_ASSESS),
    ("积分规则", "staff:points_rules", P.POINTS_MANAGE),
    ("我的登录", "staff:my_sessions", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    scope = scope_for(user)
    items = []
    seen: set[str] = set()
    for label, name, perm in NAV_ITEMS:
        if perm is not None and not scope.can(perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the module behind this item has not landed yet
        if url in seen:
            continue
        seen.add(url)
        items.append({"label": label, "url": url, "active": request.path.startswith(url) and url != "/"})
    if user.is_staff:
        # Support staff also reach the admin; it narrows every list by the same scope.
        support = reverse("admin:index")
        items.append({"label": "运维后台", "url": support, "active": request.path.startswith(support)})
    return {"nav_items": items, "actor_scope": scope}
