"""A grid worker on a phone (360 px): opens 「我的任务」, marks a duty item done with text and a
photo, and after the office confirms sees the points and their reason."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from PIL import Image

from gridgov.core.clock import now
from gridgov.workforce import services
from gridgov.workforce.models import DutyItem
from tests.browser.conftest import PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def test_grid_worker_marks_a_duty_item_done_and_sees_the_points(browser: Any, live_world: Any, browser_login: Any,
                                                               tmp_path: Any) -> None:
    w = live_world
    for kind, points, cap in services.DEFAULT_RULES:
        services.rule_save(actor=w.chen_jing, now=now(), unit_id=w.county.pk, kind=kind, points=points,
                           monthly_cap=cap)
    duty = services.duty_list_issue(actor=w.zhang_wei, now=now(), unit_id=w.township.pk, title="入户核查低保户",
                                    due_at=now() + dt.timedelta(days=3), evidence="text_photo",
                                    worker_ids=[w.wang_fang.pk])
    item = duty.items.get()
    photo = tmp_path / "现场.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buf, format="JPEG")
    photo.write_bytes(buf.getvalue())

    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, w.wang_fang)
        page.goto(f"{w.url}/workforce/my/")
        assert "入户核查低保户" in page.inner_text("main")
        page.click("text=去完成")
        page.fill("#text", "已逐户核查 12 户，情况无变化。")
        page.set_input_files("#photo", str(photo))
        page.click("button:has-text('提交完成')")
        page.wait_for_selector("#item-state")
        assert page.inner_text("#item-state") == "待确认"
        # Nothing wider than the phone: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        screenshot(page, "workforce-item-done-phone")
        assert DutyItem.dangerously_unscoped.get(pk=item.pk).state == "done"

        services.duty_item_confirm(actor=w.zhang_wei, now=now(), item_id=item.pk)
        page.goto(f"{w.url}/workforce/my/")
        assert page.inner_text("#my-points-total") == "3"
        body = page.inner_text("main")
        assert "+3" in body and "按时完成责任清单任务：入户核查低保户" in body
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        screenshot(page, "workforce-my-points-phone")
    finally:
        context.close()

    # The township office reads this month's ranking on a phone: tables scroll inside their box.
    office = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = office.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, w.zhang_wei)
        page.goto(f"{w.url}/workforce/assessment/?month={now():%Y-%m}")
        body = page.inner_text("main")
        assert "网格员排名" in body and "王芳" in body and "下载 Excel" in body
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        screenshot(page, "workforce-assessment-phone")
    finally:
        office.close()
