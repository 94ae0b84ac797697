"""Navigation shown to a signed-in user: only what their roles allow, grouped into a few menus.

The top bar (base.html) shows each menu the user has at least one item of: a menu with one item is a
plain link (its item's name), a menu with more opens a list (<details>, no JavaScript needed). On a
phone the bar is one row (the brand, 菜单, the user's name) and 菜单 opens every menu as one list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from gridgov.access.roles import P
from gridgov.access.scope import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # The permission needed anywhere in scope; None for everyone signed in.
    perm: str | None


@dataclass(frozen=True)
class NavMenu:
    label: str
    items: tuple[NavItem, ...]
    # Support staff (`is_staff`) also get the support admin here.
    with_support: bool = False


# Order of the bar, left to right. An item whose page has the same address as an earlier one is shown
# once (部门待办 is the department's view of 事件办理).
NAV_MENUS: tuple[NavMenu, ...] = (
    NavMenu("首页", (NavItem("首页", "staff:home", None),)),
    NavMenu("网格户情", (
        NavItem("网格体系", "staff:unit_tree", P.UNIT_VIEW),
        NavItem("户情台账", "staff:household_list", P.HOUSEHOLD_VIEW),
        NavItem("批量导出", "staff:export_list", P.HOUSEHOLD_EXPORT),
    )),
    NavMenu("事件", (
        NavItem("事件办理", "staff:case_queue", P.CASE_VIEW),
        NavItem("部门待办", "staff:case_queue", P.CASE_DEPARTMENT),
        NavItem("回访清单", "staff:follow_up_worklist", P.CASE_VIEW),
        NavItem("事件类别", "staff:case_categories", P.CATEGORY_MANAGE),
        NavItem("工作日历", "staff:work_calendar", P.CASE_DISPATCH),
    )),
    NavMenu("走访·调解·议事", (
        NavItem("走访", "staff:my_visits", P.HOUSEHOLD_EDIT),
        NavItem("调解台账", "staff:mediation_ledger", P.MEDIATION_VIEW),
        NavItem("群众议事", "staff:proposal_list", P.DELIBERATION_VIEW),
        NavItem("例行工作", "staff:routine_list", P.DUTY_ISSUE),
        # Notices (通知传达) sit with the field work: one more top-level menu would not fit a 1024 px bar.
        NavItem("今日通知", "staff:my_notices", P.NOTICE_REACH),
        NavItem("通知与到户率", "staff:notice_list", P.NOTICE_SEND),
    )),
    NavMenu("考核积分", (
        NavItem("我的任务", "staff:my_tasks", P.DUTY_DO),
        NavItem("责任清单", "staff:duty_lists", P.DUTY_ISSUE),
        NavItem("月度考核", "staff:assessment", P.WORK_ASSESS),
        NavItem("积分规则", "staff:points_rules", P.POINTS_MANAGE),
    )),
    NavMenu("统计分析", (NavItem("统计分析", "staff:dashboard", P.CASE_VIEW),)),
    NavMenu("系统管理", (
        NavItem("审计日志", "admin:audit_auditevent_changelist", P.AUDIT_VIEW),
        NavItem("安全管理", "staff:security_policy", P.POLICY_MANAGE),
        NavItem("定时任务", "staff:jobs", P.JOBS_VIEW),
    ), with_support=True),
)
# Under the user's name, with 修改密码 and 退出.
ACCOUNT_ITEMS: tuple[NavItem, ...] = (NavItem("我的登录", "staff:my_sessions", None),)


def _url(name: str) -> str | None:
    # The bar is on every page: its addresses are reversed once per process (and URL prefix), not per request.
    return _reversed(name, get_urlconf(), get_script_prefix())


@functools.lru_cache(maxsize=256)
def _reversed(name: str, urlconf: Any, prefix: str) -> str | None:
    try:
        return reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return None  # the module behind this item has not landed yet


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":  # tests that swap the URLs
        _reversed.cache_clear()


def _active(path: str, url: str) -> bool:
    return path == url if url == "/" else path.startswith(url)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_menus": [], "nav_items": [], "account_items": []}
    scope = scope_for(user)
    path = request.path
    seen: set[str] = set()
    menus: list[dict[str, Any]] = []
    for menu in NAV_MENUS:
        items = []
        for item in menu.items:
            if item.perm is not None and not scope.can(item.perm):
                continue
            url = _url(item.url_name)
            if url is None or url in seen:
                continue
            seen.add(url)
            items.append({"label": item.label, "url": url, "active": _active(path, url)})
        if menu.with_support and user.is_staff:
            # Support staff also reach the admin; it narrows every list by the same scope.
            support = reverse("admin:index")
            items.append({"label": "运维后台", "url": support, "active": path.startswith(support)})
        if items:
            menus.append({"label": menu.label, "items": items, "active": any(i["active"] for i in items),
                          "key": f"m{len(menus)}"})
    account = [{"label": i.label, "url": u, "active": _active(path, u)}
               for i in ACCOUNT_ITEMS if (u := _url(i.url_name)) is not None]
    return {"nav_menus": menus, "nav_items": [i for m in menus for i in m["items"]], "account_items": account,
            "actor_scope": scope}
