"""The township office browses the 吴城乡 tree in a real browser, on a desktop and a 360-px phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, screenshot
from tests.browser.nav import go_to

pytestmark = pytest.mark.browser


def test_township_office_browses_searches_and_opens_a_unit(page, live_world, browser_login):
    browser_login(page, live_world.zhang_wei)
    go_to(page, "网格体系")
    page.wait_for_url(f"{live_world.url}/units/")
    tree = page.locator("#tree")
    assert tree.get_by_text("吴城乡", exact=True).is_visible()
    assert page.get_by_text("驼峰乡").count() == 0  # the sibling township is out of scope

    # Expand the township: htmx loads the villages into the node.
    tree.locator("summary").first.click()
    village = tree.get_by_role("link", name="吴城村", exact=True)
    village.wait_for()
    assert tree.get_by_role("link", name="东坊村", exact=True).is_visible()
    # … and one level further down: the grids of 吴城村.
    tree.locator("details details summary").first.click()
    tree.get_by_role("link", name="吴城村第二网格").wait_for()
    screenshot(page, "tree-desktop")

    # Search a grid by name.
    page.fill("#q", "第一网格")
    page.get_by_role("button", name="查找").click()
    page.get_by_text("“第一网格”的查找结果").wait_for()
    results = page.locator("main ul.tree li")
    assert results.count() == 2
    assert page.get_by_text("驼峰村第一网格").count() == 0
    screenshot(page, "search-desktop")

    # Open the unit.
    page.get_by_role("link", name="吴城村第一网格").click()
    page.get_by_role("heading", name="吴城村第一网格").wait_for()
    staff = page.locator("#staff")
    assert staff.get_by_text("王芳").is_visible() and staff.get_by_text("赵磊").is_visible()
    assert page.get_by_role("link", name="修改").is_visible()
    screenshot(page, "unit-desktop")

    # The same pages on a 360-px phone: nothing wider than the screen.
    page.set_viewport_size(PHONE)
    for name, path in [("unit-phone", page.url), ("tree-phone", f"{live_world.url}/units/"),
                       ("edit-phone", f"{live_world.url}/units/{live_world.grid_a1.pk}/edit/"),
                       ("staff-phone", f"{live_world.url}/units/{live_world.township.pk}/staff/add/")]:
        page.goto(path)
        if name == "tree-phone":
            page.locator("#tree summary").first.click()
            page.locator("#tree").get_by_role("link", name="吴城村", exact=True).wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: {overflow}px wider than a 360-px screen"
        screenshot(page, name)


def test_edit_error_is_shown_in_the_browser(page, live_world, browser_login):
    browser_login(page, live_world.zhang_wei)
    page.goto(f"{live_world.url}/units/{live_world.grid_a1.pk}/edit/")
    page.fill("#id_division_code", "140225210000")
    page.fill("#id_boundary", "")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已被「吴城乡」使用").wait_for()
    page.set_viewport_size(PHONE)
    screenshot(page, "edit-error-phone")
