"""The 调解台账's page links on a 390-px phone and at 1280 px: large, in plain words, no sideways
scrolling; 下一页 leads to the next rows. Screenshots: artifacts/mediation-ledger-pages-<phone|desktop>.png."""

from __future__ import annotations

import pytest

from gridgov.access.services import grant_create, user_create
from gridgov.mediation import selectors
from tests.browser.conftest import DESKTOP, screenshot
from tests.mediation.conftest import parties
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


@pytest.mark.parametrize(("viewport", "name"), [(PHONE_390, "phone"), (DESKTOP, "desktop")])
def test_page_links_are_large_plain_and_lead_on(live_world, browser, browser_login, monkeypatch, viewport, name):
    from gridgov.mediation.services import mediation_register

    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)  # the live server runs in this process
    xu = user_create(actor=None, now=T0, username="xuxiuying", full_name="徐秀英", password=PASSWORD, validate=False)
    grant_create(actor=None, now=T0, user=xu, role_code="mediator", unit=live_world.township)
    for i in range(8):
        mediation_register(actor=None, now=T0, presiding_id=xu.pk, title=f"邻里纠纷{i + 1}",
                           summary="因排水沟发生争执。", dispute_type="neighbour", source="grid", mode="people",
                           level="township", unit_id=live_world.grid_a1.pk, parties=parties())
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, xu)
        page.goto(f"{live_world.url}/mediation/")
        pager = page.get_by_role("navigation", name="翻页")
        assert pager.get_by_text("共 8 件，每页 3 件，这是第 1 页（共 3 页）").is_visible()
        for label in ("第 2 页", "第 3 页", "下一页"):
            link = pager.get_by_role("link", name=label, exact=True)
            box = link.bounding_box()
            assert link.is_visible() and box["height"] >= 44 and box["width"] >= 44, label
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        pager.get_by_role("link", name="下一页").click()
        page.wait_for_url("**/mediation/?page=2")
        assert pager.get_by_text("这是第 2 页（共 3 页）").is_visible()
        assert page.locator(".case-item").count() == 3
        screenshot(page, f"mediation-ledger-pages-{name}")
    finally:
        context.close()
