"""The staff menus in a real browser, for a grid worker, a township office and a county office, at
1280 px and on a 390-px phone, with and without JavaScript: one row of large, legible menus on the
desktop; one compact row with 菜单 on the phone; every page the person may open is reachable by mouse,
keyboard and touch. Screenshots: artifacts/nav-<who>-<desktop|phone>[-open].png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.nav import go_to
from tests.functional.test_navigation_menus import EXPECTED

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
# A top bar of one row: 48-px targets plus the bar's padding (two rows would be over 100 px).
ONE_ROW = 72
PEOPLE = {"wang_fang": "worker", "zhang_wei": "township", "chen_jing": "county"}


def _context(browser: Any, viewport: dict[str, int], *, js: bool = True) -> Any:
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                               java_script_enabled=js)


def _sign_in(browser: Any, world: Any, who: str, viewport: dict[str, int], *, js: bool = True) -> Any:
    from tests.world import PASSWORD

    page = _context(browser, viewport, js=js).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{world.url}/login/")
    page.fill("#id_username", getattr(world, who).username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{world.url}/")
    return page


def _bar(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => {
        const bar = document.querySelector('header.topbar');
        const middles = [...bar.querySelectorAll('.brand, .menus > li, .menu-toggle, .account')]
            .filter(e => e.offsetParent !== null)
            .map(e => { const r = e.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 2); });
        const targets = [...bar.querySelectorAll('.menu-link, .menu-group > summary, .account > summary, .menu-toggle')]
            .filter(e => e.offsetParent !== null);
        return {height: bar.getBoundingClientRect().height, middles: middles,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                barOverflow: bar.scrollWidth - bar.clientWidth,
                minTarget: Math.min(...targets.map(e => e.getBoundingClientRect().height)),
                minFont: Math.min(...targets.map(e => parseFloat(getComputedStyle(e).fontSize)))};
    }""")


def _labels(who: str) -> list[str]:
    return [menu or pages[0] for menu, pages in EXPECTED[who]]


@pytest.mark.parametrize("who", list(PEOPLE))
def test_desktop_menus_fit_one_row_and_open_by_mouse_and_keyboard(browser, live_world, who):
    page = _sign_in(browser, live_world, who, DESKTOP)
    bar = _bar(page)
    assert bar["height"] <= ONE_ROW, bar
    assert max(bar["middles"]) - min(bar["middles"]) <= 2, f"the bar wraps: {bar}"
    assert bar["overflow"] <= 0 and bar["barOverflow"] <= 0, bar
    assert bar["minTarget"] >= 44 and bar["minFont"] >= 18, bar
    nav = page.locator("nav.nav")
    assert not page.locator(".menu-toggle").is_visible()
    for label in _labels(who):
        assert nav.get_by_text(label, exact=True).first.is_visible(), label
    screenshot(page, f"nav-{PEOPLE[who]}-desktop")

    # Mouse: a menu opens under its name, its pages large; another menu replaces it.
    group = nav.locator("summary", has_text="走访·调解·议事")
    group.click()
    ledger = nav.get_by_role("link", name="调解台账", exact=True)
    assert ledger.is_visible() and ledger.bounding_box()["height"] >= 44
    screenshot(page, f"nav-{PEOPLE[who]}-desktop-open")
    nav.locator("summary", has_text="网格户情").click()
    assert not ledger.is_visible() and nav.get_by_role("link", name="户情台账").is_visible()
    page.keyboard.press("Escape")
    assert not nav.get_by_role("link", name="户情台账").is_visible()

    # Keyboard only: Tab to the menu, Enter opens it, Tab to the page, Enter opens the page.
    group.focus()
    page.keyboard.press("Enter")
    assert ledger.is_visible()
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "调解台账":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_world.url}/mediation/")
    assert page.locator(".menu.current summary").inner_text().startswith("走访·调解·议事")
    page.context.close()


@pytest.mark.parametrize("who", list(PEOPLE))
def test_phone_bar_is_one_compact_row_and_menu_lists_every_page(browser, live_world, who):
    page = _sign_in(browser, live_world, who, PHONE_390)
    bar = _bar(page)
    assert bar["height"] <= ONE_ROW and max(bar["middles"]) - min(bar["middles"]) <= 2, bar
    assert bar["overflow"] <= 0, bar
    assert bar["minTarget"] >= 44 and bar["minFont"] >= 17, bar
    nav = page.locator("nav.nav")
    assert not nav.is_visible()
    screenshot(page, f"nav-{PEOPLE[who]}-phone")

    page.locator(".menu-toggle").click()
    pages = [p for _, ps in EXPECTED[who] for p in ps]
    for label in pages:  # every page at once: one tap away
        link = nav.get_by_role("link", name=label, exact=True)
        assert link.is_visible() and link.bounding_box()["height"] >= 44, label
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, f"nav-{PEOPLE[who]}-phone-menu")
    nav.get_by_role("link", name="收起菜单").click()
    assert not nav.is_visible()
    go_to(page, "群众议事")
    page.wait_for_url(f"{live_world.url}/deliberation/**")
    assert not nav.is_visible()  # a new page starts with the menu closed
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "phone"])
def test_every_menu_works_without_javascript(browser, live_world, viewport):
    page = _sign_in(browser, live_world, "zhang_wei", viewport, js=False)
    go_to(page, "调解台账")
    page.wait_for_url(f"{live_world.url}/mediation/")
    go_to(page, "月度考核")
    page.get_by_role("heading").first.wait_for()
    assert "/workforce/" in page.url
    # The user's menu: sign out.
    page.locator(".account summary").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_world.url}/login/**")
    page.context.close()


@pytest.mark.parametrize("width", [1024, 1001])
def test_the_widest_bar_still_fits_one_row_on_a_small_laptop(browser, live_world, width):
    """The county office with the support admin has the most menus."""
    live_world.chen_jing.is_staff = True
    live_world.chen_jing.save(update_fields=["is_staff"])
    page = _sign_in(browser, live_world, "chen_jing", {"width": width, "height": 768})
    bar = _bar(page)
    assert bar["height"] <= ONE_ROW and max(bar["middles"]) - min(bar["middles"]) <= 2, bar
    assert page.evaluate("document.querySelector('.menus').scrollWidth"
                         " <= document.querySelector('nav.nav').clientWidth")
    assert bar["minFont"] >= 18
    # 系统管理 holds the jobs' page and the support admin for them.
    page.locator("nav.nav summary", has_text="系统管理").click()
    assert page.get_by_role("link", name="运维后台").is_visible()
    assert page.get_by_role("link", name="定时任务").is_visible()
    screenshot(page, f"nav-county-support-{width}")
    page.context.close()
