"""A grid worker records a visit from 我的走访 in Debian's Chromium on a phone (390×844) over a weak
rural signal: the due list shows the elder living alone as overdue; 记录走访 opens the small form;
after it is saved the worker goes back to the same form and presses 保存走访 again, as after a response
lost on a weak signal; exactly one visit exists and the page says it was saved before.

Screenshots go to artifacts/visits/ and were looked at.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gridgov.core.clock import local, now
from gridgov.residents.models import Resident, Tag
from gridgov.residents.tags import tag_assign
from gridgov.visits import services
from gridgov.visits.models import Visit
from tests.residents.conftest import household, make_id
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "visits"
# A weak rural signal: 400 ms round trip, about 400 kbit/s down and 200 kbit/s up.
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 25 * 1024}


def phone(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    page.set_default_timeout(60_000)
    return page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name}: scrolls sideways"


def test_grid_worker_records_a_visit_on_a_weak_signal(browser, live_world):
    w = live_world
    moment = now()
    elder_home = household(w, w.grid_a1, "吴城村一组", "张桂兰", make_id(dt.date(1940, 3, 3), 42), no="15")
    household(w, w.grid_a1, "吴城村一组", "王伟民", make_id(dt.date(1960, 1, 5), 51), no="14")
    tag_assign(actor=None, now=moment, tag_code="elder_alone",
                      resident_id=Resident.dangerously_unscoped.get(household=elder_home).pk,
                      start_date=local(moment).date() - dt.timedelta(days=20))
    services.rule_set(actor=None, now=moment, unit_id=w.county.pk, tag_id=Tag.objects.get(code="elder_alone").pk,
                      cadence_days=7)

    page = phone(browser)
    page.goto(f"{w.url}/login/")
    page.fill("#id_username", w.wang_fang.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{w.url}/")
    page.goto(f"{w.url}/visits/")
    item = page.locator(".due-item").first
    assert "张桂兰" in item.inner_text() and "已逾期 13 天" in item.inner_text()
    shot(page, "my-visits-phone")
    box = item.locator("a.visit-btn").bounding_box()
    assert box is not None and box["height"] >= 48  # a thumb-sized button
    item.locator("a.visit-btn").click()
    page.wait_for_url(f"**/visits/new/?household={elder_home.pk}")
    page.check("input[name=kind][value=home]")
    page.fill("#notes", "独居，身体尚可，腿脚不便，想申请助餐服务。")
    shot(page, "visit-form-phone")

    page.click("#visit-form button[type=submit]")
    page.wait_for_url(f"{w.url}/visits/")
    assert "已记录走访" in page.inner_text(".messages")
    assert Visit.dangerously_unscoped.filter(household=elder_home).count() == 1
    # As after a lost response: the worker goes back to the same form (same hidden key) and sends again.
    page.go_back()
    page.wait_for_url(f"**/visits/new/?household={elder_home.pk}")
    page.fill("#notes", "独居，身体尚可，腿脚不便，想申请助餐服务。")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url(f"{w.url}/visits/")
    assert "已经保存过了" in page.inner_text(".messages")
    assert Visit.dangerously_unscoped.filter(household=elder_home).count() == 1
    # The elder is no longer due.
    assert "张桂兰" not in page.inner_text(".due-list") if page.locator(".due-list").count() else True
    shot(page, "my-visits-after-phone")
