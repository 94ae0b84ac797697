"""A grid worker's day and a department handler's day in a real browser, at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.cases.transitions import case_act
from gridgov.core.clock import now
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def phone(browser: Any, live_server: Any, username: str) -> Any:
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def open_action(page: Any, code: str) -> None:
    """Unfold an action's form unless it is already open (the first one is)."""
    if not page.is_visible(f"form[data-action={code}] button.primary"):
        page.click(f"details.action:has(form[data-action={code}]) summary")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_grid_workers_day(world, live_server, browser):
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    page = phone(browser, live_server, "wangfang")
    page.goto(f"{live_server.url}/cases/new/")
    page.fill("#title", "村口垃圾堆放")
    page.fill("#description", "村口路边垃圾三天没人清运，气味很大。")
    page.select_option("#category", "sanitation")
    page.select_option("#unit_id", str(world.grid_a1.pk))
    shot(page, "worker-1-report-form")
    page.click("button.primary")
    page.wait_for_load_state()
    assert "已登记事件" in page.content()
    shot(page, "worker-2-case-detail")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    open_action(page, "self_handle")
    page.fill("form[data-action=self_handle] textarea[name=result]", "已联系保洁员清运完毕。")
    page.click("form[data-action=self_handle] button.primary")
    page.wait_for_load_state()
    assert "已自办自结" in page.content()
    assert Case.dangerously_unscoped.get().status == "resolved"
    page.goto(f"{live_server.url}/cases/?queue=done")
    assert "村口垃圾堆放" in page.content()
    shot(page, "worker-3-done-queue")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page must not scroll sideways on a phone"


def test_department_handlers_day(world, live_server, browser):
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    w = world
    c = case_report(actor=w.wang_fang, now=now(), title="夜间有人聚众喧闹", description="广场每晚十二点后仍有人喧闹。",
                    category_code="public_order", channel="field", unit_id=w.grid_a1.pk, anonymous=True,
                    reporter_name="匿名居民甲", reporter_phone="13100000000").case
    case_act(actor=w.zhao_lei, now=now(), case_id=c.pk, action="escalate")
    case_act(actor=w.li_qiang, now=now(), case_id=c.pk, action="escalate")
    case_act(actor=w.zhang_wei, now=now(), case_id=c.pk, action="dispatch", department_id=w.department.pk)
    page = phone(browser, live_server, "liuyang")
    page.goto(f"{live_server.url}/cases/?queue=todo")
    assert "夜间有人聚众喧闹" in page.content()
    shot(page, "dept-1-todo")
    page.click("a.title")
    page.wait_for_load_state()
    assert "匿名居民甲" not in page.content() and "13100000000" not in page.content()
    page.click("form[data-action=acknowledge] button.primary")
    page.wait_for_load_state()
    assert "已签收" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    open_action(page, "feedback")
    page.fill("form[data-action=feedback] textarea[name=result]", "已出警劝离，并张贴夜间禁噪告示。")
    shot(page, "dept-2-feedback")
    page.click("form[data-action=feedback] button.primary")
    page.wait_for_load_state()
    assert "已反馈" in page.content()
    shot(page, "dept-3-after-feedback")
    assert Case.dangerously_unscoped.get(pk=c.pk).status == "feedback"


def test_county_office_edits_a_category_on_a_phone(world, live_server, browser):
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    page = phone(browser, live_server, "chenjing")
    page.goto(f"{live_server.url}/cases/categories/")
    assert "事件类别与分级响应" in page.content()
    shot(page, "county-1-category-tree")
    sanitation = Category.objects.get(code="sanitation")
    page.click(f"a[href='?edit={sanitation.pk}']")
    page.wait_for_load_state()
    page.fill("#resolve_ordinary", "0")
    page.click("form.card button.primary")
    page.wait_for_load_state()
    assert "「一般」的办结时限应为 1 到 60 之间的整数" in page.content()
    shot(page, "county-2-category-error")
    page.fill("#resolve_ordinary", "5")
    page.click("form.card button.primary")
    page.wait_for_load_state()
    assert "已保存类别「环境卫生」" in page.content()
    assert Category.objects.get(pk=sanitation.pk).deadlines["ordinary"]["resolve_days"] == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    shot(page, "county-3-category-saved")


def test_a_long_work_queue_pages_on_a_phone_and_a_desktop(world, live_server, browser):
    """55 cases waiting on 王芳: 50 on the first page with the count and the page links, the rest on the next,
    at phone (390 px) and desktop (1280 px) width, without sideways scrolling."""
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    for i in range(55):
        case_report(actor=world.wang_fang, now=now(), title=f"路灯不亮 {i:02d}", description="夜间通行不便。",
                    category_code="sanitation", channel="field", unit_id=world.grid_a1.pk, idempotency_key=f"q{i}")
    page = phone(browser, live_server, "wangfang")
    for width, name in ((390, "phone"), (1280, "desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/cases/?queue=todo")
        assert page.locator("li.case-item").count() == 50
        assert "共 55 件，每页 50 件，第 1 页（共 2 页）" in page.inner_text("main")
        shot(page, f"queue-page-1-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        page.click("nav.pager a[rel=next]")
        page.wait_for_load_state()
        assert page.locator("li.case-item").count() == 5 and "第 2 页（共 2 页）" in page.inner_text("main")
        shot(page, f"queue-page-2-{name}")
        page.click("li.case-item a.title >> nth=0")
        page.wait_for_load_state()
        assert "/cases/" in page.url and "路灯不亮" in page.inner_text("h1")
