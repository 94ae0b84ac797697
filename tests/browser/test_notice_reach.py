"""The township office sends a 特急 notice to a village (the county office approves it); at 390 px the
grid workers mark households reached; a resident opens the household's link and answers 收到; the reach
board shows 100%."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.core.clock import now
from gridgov.notices import services
from gridgov.notices.models import Delivery, Notice
from gridgov.residents import households as residents
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}


def test_urgent_notice_reaches_every_household(browser: Any, live_world: Any, browser_login: Any) -> None:
    w = live_world
    for i in range(1, 4):
        residents.household_create(actor=None, now=now(), unit_id=w.grid_a1.pk, address=f"吴城村一组{i}号",
                                   house_number=str(i))
    residents.household_create(actor=None, now=now(), unit_id=w.grid_a2.pk, address="吴城村二组1号",
                               house_number="1")

    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                 timezone_id="Asia/Shanghai")
    page = office.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, w.zhang_wei)
        page.goto(f"{w.url}/notices/")
        page.fill("#title", "寒潮预警")
        page.fill("#text", "今晚起有寒潮，请关好门窗，注意取暖安全。")
        page.select_option("#grade", "critical")
        page.select_option("#unit", str(w.township.pk))
        page.check(f"input[name=units][value='{w.village.pk}']")
        page.check("input[name=reply_asked]")
        page.click("button:has-text('存为草稿')")
        page.click("button:has-text('发出')")
        assert page.inner_text("#notice-status") == "待审核"
    finally:
        office.close()
    notice = Notice.dangerously_unscoped.get()
    services.notice_approve(actor=w.chen_jing, now=now(), notice_id=notice.pk)  # the second person

    for worker in (w.wang_fang, w.qian_duo):
        phone = browser.new_context(viewport=PHONE_390, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = phone.new_page()
        page.set_default_timeout(15_000)
        try:
            browser_login(page, worker)
            page.goto(f"{w.url}/notices/my/")
            assert "特急" in page.inner_text("main") and "寒潮预警" in page.inner_text("main")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"] + 1
            if worker == w.wang_fang:
                screenshot(page, "notice-worker-phone")
                page.locator("li.household").first.locator("button:has-text('已上门告知')").click()
                assert "已登记" in page.inner_text("main")
                page.locator("li.household").first.locator("button:has-text('已电话告知')").click()
            else:
                page.locator("li.household").first.locator("button:has-text('已在群内确认')").click()
            body = page.inner_text("main")
            assert "已登记" in body
        finally:
            phone.close()

    left = Delivery.dangerously_unscoped.get(notice=notice, state="pending")
    resident = browser.new_context(viewport=PHONE_390, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = resident.new_page()
    try:
        page.goto(f"{w.url}/p/n/{left.token}/")
        assert "寒潮预警" in page.inner_text("main") and "吴城村一组" not in page.inner_text("main")
        page.click("button:has-text('收到')")
        assert "已收到您的回复" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"] + 1
        screenshot(page, "notice-public-received")
    finally:
        resident.close()

    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                 timezone_id="Asia/Shanghai")
    page = office.new_page()
    try:
        browser_login(page, w.zhang_wei)
        page.goto(f"{w.url}/notices/{notice.pk}/")
        assert page.inner_text("#reach-total") == "100%"
        screenshot(page, "notice-reach-board")
    finally:
        office.close()
