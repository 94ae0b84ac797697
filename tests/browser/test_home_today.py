"""The grid worker's home page (今日工作) on a 390-px phone and at 1280 px: all of today's figures in the
first screen, each a big link to its list, big buttons for 我的走访, 我的待办, 我的任务 and 上报/登记, nothing
wider than the screen. Screenshots: artifacts/home-today-<phone|desktop>.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, screenshot
from tests.today_world import EXPECTED, NOW, fill

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


@pytest.mark.parametrize(("viewport", "name"), [(PHONE_390, "phone"), (DESKTOP, "desktop")])
def test_the_grid_workers_day_at_a_glance(live_world, browser, browser_login, monkeypatch, viewport, name):
    for view in ("views", "cases"):  # the live server runs in this process
        monkeypatch.setattr(f"gridgov.interfaces.staff.{view}.now", lambda: NOW)
    fill(live_world)  # type: ignore[arg-type]
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, live_world.wang_fang)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        width = page.evaluate("window.innerWidth")
        todo, soon, late = EXPECTED["grid_worker"]["cases"]
        figures = {"todo": (todo, "待办"), "due_soon": (soon, "即将超期"), "overdue": (late, "已超期"),
                   "visits_overdue": (1, "逾期未访"), "duty_today": (1, "今天到期")}
        for key, (value, label) in figures.items():
            link = page.locator(f'a[data-figure="{key}"]')
            assert link.inner_text().split() == [str(value), label], key
            box = link.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= width
        # On the phone the case figures and the big buttons are in the first screen, without scrolling.
        quick = page.get_by_role("navigation", name="常用")
        labels = ("我的走访", "我的待办", "我的任务", "上报事件", "登记走访", "登记纠纷")
        for label in labels:
            link = quick.get_by_role("link", name=label, exact=True)
            box = link.bounding_box()
            assert box["height"] >= 44 and box["x"] + box["width"] <= width, label
            assert link.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 18, label
        # The whole day in the first screen, without scrolling: every figure, then the buttons.
        for key in ("todo", "overdue", "visits_overdue", "visits_soon", "duty_overdue", "duty_open"):
            box = page.locator(f'a[data-figure="{key}"]').bounding_box()
            assert box["y"] + box["height"] <= viewport["height"], (key, box)
        assert quick.bounding_box()["y"] < viewport["height"]
        # The overdue case is listed first and says so.
        first = page.locator("#first-cases .today-list li").first
        assert "村口垃圾堆放" in first.inner_text() and "已超期" in first.inner_text()
        screenshot(page, f"home-today-{name}")
        # A figure leads to its list: 已超期 → the overdue queue with as many cases.
        page.locator('a[data-figure="overdue"]').click()
        page.wait_for_url("**/cases/?queue=overdue")
        assert page.locator(".case-item").count() == late
    finally:
        context.close()


@pytest.mark.parametrize("who", ["zhang_wei", "liu_yang", "zhou_min"])
def test_other_roles_home_pages_fit_a_phone_and_show_what_fits_them(live_world, browser, browser_login, monkeypatch,
                                                                   who):
    """The township office (cases, visits, duty, mediation), the department handler (the department's cases
    only) and the system admin (no work figures; a plain sentence)."""
    for view in ("views", "cases"):
        monkeypatch.setattr(f"gridgov.interfaces.staff.{view}.now", lambda: NOW)
    fill(live_world)  # type: ignore[arg-type]
    context = browser.new_context(viewport=PHONE_390, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, getattr(live_world, who))
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        sections = page.locator("section.today h2").all_inner_texts()
        assert sections == {"zhang_wei": ["待办事件", "走访（户）", "责任清单任务", "矛盾纠纷调解"],
                            "liu_yang": ["待办事件"], "zhou_min": []}[who]
        if who == "zhou_min":
            assert page.get_by_text("您的职务没有待办的事件、走访或任务").is_visible()
        screenshot(page, f"home-today-{who}-phone")
    finally:
        context.close()
