"""The staff menus (base.html, interfaces/staff/context.py) for each named persona: exactly the menus and
pages their permissions allow, no others; every page offered opens, every page held back is refused."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse

from gridgov.access.scope import scope_for
from gridgov.interfaces.staff.context import ACCOUNT_ITEMS, NAV_MENUS

pytestmark = pytest.mark.django_db

# (menu, pages) left to right; a menu with one page is a plain link named after the page (menu None).
HOME = (None, ["首页"])
GRID = ("网格户情", ["网格体系", "户情台账"])
GRID_OFFICE = ("网格户情", ["网格体系", "户情台账", "批量导出"])
CASES = ("事件", ["事件办理", "回访清单"])
CASES_OFFICE = ("事件", ["事件办理", "回访清单", "工作日历"])
VISITS = ("走访·调解·议事", ["走访", "调解台账", "群众议事", "今日通知"])
# Those who issue duty lists also set routines (例行工作).
VISITS_ISSUE = ("走访·调解·议事", ["走访", "调解台账", "群众议事", "例行工作", "今日通知", "通知与到户率"])
# Grid heads send notices for their grid (通知与到户率) but set no routines.
VISITS_SEND = ("走访·调解·议事", ["走访", "调解台账", "群众议事", "今日通知", "通知与到户率"])
FIGURES = (None, ["统计分析"])
WORK_OFFICE = ("考核积分", ["我的任务", "责任清单", "月度考核", "积分规则"])
JOBS = (None, ["定时任务"])  # the scheduled jobs' page, alone in 系统管理 for the offices and the system admin
FIELD = [HOME, GRID, CASES, VISITS, (None, ["我的任务"]), FIGURES]
OFFICE = [HOME, GRID_OFFICE, CASES_OFFICE, VISITS_ISSUE, WORK_OFFICE, FIGURES, JOBS]
EXPECTED = {
    "wang_fang": FIELD,  # grid worker
    "qian_duo": FIELD,  # grid worker
    "zhao_lei": [HOME, GRID, CASES, VISITS_SEND, (None, ["我的任务"]), FIGURES],  # grid head: sends notices
    # village secretary: issues duty lists and assesses, sets no point rules
    "li_qiang": [HOME, GRID, CASES, VISITS_ISSUE, ("考核积分", ["我的任务", "责任清单", "月度考核"]),
                 FIGURES],
    "zhang_wei": OFFICE,  # township office
    "sun_li": OFFICE,  # the other township's office
    "chen_jing": [HOME, GRID_OFFICE, ("事件", ["事件办理", "回访清单", "事件类别", "工作日历"]), VISITS_ISSUE,
                  WORK_OFFICE, FIGURES, JOBS],  # county office
    "liu_yang": [HOME, (None, ["部门待办"])],  # department handler
    "zhou_min": [HOME, (None, ["网格体系"]), JOBS],  # system admin
    "wu_gang": [HOME, (None, ["审计日志"])],  # audit admin: the audit log (in the support site)
    "zheng_hong": [HOME, (None, ["安全管理"])],  # security admin
}


def _exists(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


ALL_PAGES = {(i.label, i.url_name) for m in NAV_MENUS for i in m.items if _exists(i.url_name)}


def menus(html: str) -> list[tuple[str | None, list[str]]]:
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    out = []
    for li in re.findall(r'<li class="menu[^"]*">(.*?)</li>\n', nav, re.S):
        summary = re.search(r"<summary>(.*?)</summary>", li)
        out.append((summary.group(1) if summary else None, re.findall(r"<a [^>]*>([^<]+)</a>", li)))
    return out


def links(html: str) -> set[str]:
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    return set(re.findall(r'<a [^>]*href="(/[^"#]*)"', nav))


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_persona_gets_exactly_the_menus_their_permissions_allow(world, login, who):
    client = login(getattr(world, who))
    html = client.get("/").content.decode()
    assert menus(html) == EXPECTED[who]
    # Every page offered opens for them and is offered because they hold its permission somewhere; every
    # page held back is one whose permission they lack.
    scope = scope_for(getattr(world, who))
    offered = {page for _, pages in EXPECTED[who] for page in pages}
    shown = links(html)
    for menu in NAV_MENUS:
        for item in menu.items:
            if not _exists(item.url_name):
                continue
            url = reverse(item.url_name)
            held = item.perm is None or scope.can(item.perm)
            if item.label in offered:
                assert held and url in shown, item
                assert client.get(url).status_code == 200, item
            elif item.url_name == "staff:case_queue":  # one address, two names: shown once, under the first held
                assert url in shown or not held, item
            else:
                assert not held, item


def test_the_menus_are_the_same_on_every_page_and_mark_where_you_are(world, login):
    client = login(world.zhang_wei)
    home = client.get("/").content.decode()
    ledger = client.get(reverse("staff:mediation_ledger")).content.decode()
    assert menus(home) == menus(ledger)
    here = re.search(r'<li class="menu current">.*?<summary>(.*?)</summary>.*?aria-current="page">([^<]+)<',
                     ledger, re.S)
    assert here is not None and here.groups() == ("走访·调解·议事", "调解台账")
    assert home.count('aria-current="page"') == 1 and 'aria-current="page">首页<' in home


def test_the_account_menu_has_password_sessions_and_sign_out(world, login):
    html = login(world.wang_fang).get("/").content.decode()
    account = html[html.index('<details class="account"'):html.index("</header>")]
    assert "王芳" in account
    for label in ["修改密码", *(i.label for i in ACCOUNT_ITEMS), "退出登录"]:
        assert label in account
    assert f'action="{reverse("staff:logout")}"' in account


def test_support_staff_find_the_support_admin_under_system_management(world, login):
    world.zhou_min.is_staff = True
    world.zhou_min.save(update_fields=["is_staff"])
    html = login(world.zhou_min).get("/").content.decode()
    # 系统管理 holds the jobs' page and 运维后台 for them.
    assert menus(html) == [(None, ["首页"]), (None, ["网格体系"]), ("系统管理", ["定时任务", "运维后台"])]
    assert 'href="/support/"' in html


def test_a_page_without_a_signed_in_user_has_no_menus(client):
    html = client.get(reverse("staff:login")).content.decode()
    assert '<nav class="nav"' not in html and "菜单" not in html
