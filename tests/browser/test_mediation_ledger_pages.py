"""The 调解台账 on a 390-px phone and at 1280 px. Its page links: large, in plain words, no sideways
scrolling; 下一页 leads to the next rows. Its filters: each field labelled, inside the screen, 44 px tall with
18 px type, one above the other on the phone and side by side at 1280 px. Screenshots:
artifacts/mediation-ledger-pages-<phone|desktop>.png, artifacts/mediation-ledger-filters-<phone|desktop>.png."""

from __future__ import annotations

import itertools

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


# The filter form's parts a finger must hit: each date, each choice, the 只看超期 box (its label), the buttons.
TARGETS = ("form.ledger-filters input[type=date], form.ledger-filters select, form.ledger-filters .check label, "
           "form.ledger-filters button, form.ledger-filters a.button")


@pytest.mark.parametrize(("viewport", "name"), [(PHONE_390, "phone"), (DESKTOP, "desktop")])
def test_filter_fields_fit_the_screen_large_and_stacked_on_a_phone(live_world, browser, browser_login, viewport,
                                                                    name):
    from gridgov.mediation.services import mediation_register

    xu = user_create(actor=None, now=T0, username="xuxiuying", full_name="徐秀英", password=PASSWORD, validate=False)
    grant_create(actor=None, now=T0, user=xu, role_code="mediator", unit=live_world.township)
    for dispute_type in ("neighbour", "land"):
        mediation_register(actor=None, now=T0, presiding_id=xu.pk, title=f"纠纷-{dispute_type}",
                           summary="因排水沟发生争执。", dispute_type=dispute_type, source="grid", mode="people",
                           level="township", unit_id=live_world.grid_a1.pk, parties=parties())
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, xu)
        page.goto(f"{live_world.url}/mediation/?type=land")
        form = page.get_by_role("form", name="筛选")
        # Every field is named by a label the reader sees, not only a screen reader.
        for label in ("受理日期从", "受理日期到", "纠纷类型", "调解方式", "办理状态", "所在单位", "只看超期"):
            assert form.get_by_label(label, exact=True).is_visible(), label
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        width = page.evaluate("window.innerWidth")
        targets = page.locator(TARGETS)
        assert targets.count() == 9  # two dates, four choices, the box, 筛选, 清除筛选
        for i in range(targets.count()):
            t = targets.nth(i)
            box = t.bounding_box()
            what = t.evaluate("e => e.outerHTML.slice(0, 60)")
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (what, box, width)
            assert box["height"] >= 44, (what, box)
            assert t.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 18, what
        for i in range(page.locator("form.ledger-filters .field > label").count()):
            label = page.locator("form.ledger-filters .field > label").nth(i)
            assert label.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 18
        fields = [page.locator("form.ledger-filters .field").nth(i).bounding_box()
                  for i in range(page.locator("form.ledger-filters .field").count())]
        form_box = page.locator("form.ledger-filters").bounding_box()
        if name == "phone":
            # One column: every field starts at the form's left edge, takes its whole width, below the last.
            assert all(abs(f["x"] - form_box["x"]) < 1 and f["width"] >= form_box["width"] - 1 for f in fields)
            assert all(b["y"] >= a["y"] + a["height"] for a, b in itertools.pairwise(fields))
        else:
            # Side by side: the grid lays out several columns, and the first row holds as many fields. Fields of
            # a row share their bottom edge (align-items: end); their tops differ when one label wraps, which
            # depends on the installed fonts, so rows are told by the bottom edge, never by the top.
            tracks = page.locator("form.ledger-filters").evaluate(
                "e => getComputedStyle(e).gridTemplateColumns.split(' ').filter(Boolean).length")
            bottom = fields[0]["y"] + fields[0]["height"]
            first_row = [f for f in fields if abs(f["y"] + f["height"] - bottom) < 1]
            assert tracks >= 3 and len(first_row) == min(tracks, len(fields)), (tracks, fields)
        screenshot(page, f"mediation-ledger-filters-{name}")
        # The form still filters: the choice kept, only the matching row listed.
        assert page.locator("#type").input_value() == "land"
        assert page.locator(".case-item").count() == 1 and page.get_by_text("纠纷-land").is_visible()
        page.select_option("#type", "")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_load_state()
        assert page.locator(".case-item").count() == 2
    finally:
        context.close()
