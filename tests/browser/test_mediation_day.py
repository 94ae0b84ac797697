"""A mediator's day in a real browser at phone width: take up a dispute, name the presiding mediator,
start, record a session and conclude with a signed agreement; screenshots in artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.access.services import grant_create, user_create
from gridgov.audit.models import AuditEvent
from gridgov.mediation.models import MediationCase
from tests.browser.conftest import PHONE, screenshot
from tests.browser.nav import go_to
from tests.world import PASSWORD, T0

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_action(page: Any, code: str) -> None:
    if not page.is_visible(f"form[data-action={code}] button.primary"):
        page.click(f"details.action:has(form[data-action={code}]) summary")


def test_a_mediator_takes_up_mediates_and_concludes(live_world, browser, browser_login):
    xu = user_create(actor=None, now=T0, username="xuxiuying", full_name="徐秀英", password=PASSWORD, validate=False)
    grant_create(actor=None, now=T0, user=xu, role_code="mediator", unit=live_world.township)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, xu)
        go_to(page, "调解台账")
        page.click("text=＋ 受理新纠纷")
        page.fill("#title", "张、李两户宅基地边界纠纷")
        page.fill("#summary", "两户因院墙位置发生争执，网格员排查发现后报调委会。")
        page.select_option("#dispute_type", "land")
        page.select_option("#unit_id", str(live_world.grid_a1.pk))
        page.select_option("#level", "township")
        page.fill("#party_name_1", "张建国")
        page.fill("#party_phone_1", "13812345678")
        page.fill("#party_name_2", "李卫东")
        screenshot(page, "mediation_new")
        page.click("button:has-text('受理')")
        page.wait_for_selector("text=已受理纠纷")
        assert "张**" in page.content() and "13812345678" not in page.content()

        open_action(page, "assign")
        page.select_option("#assign-presiding_id", str(xu.pk))
        page.fill("#assign-co_mediators", "王大爷（五老）")
        page.click("form[data-action=assign] button.primary")
        page.wait_for_selector("text=已指定主持人")

        open_action(page, "start")
        page.fill("#start-facts", "已分别走访双方，核实院墙位置。")
        page.check("#start-rights_informed")
        page.click("form[data-action=start] button.primary")
        page.wait_for_selector("[data-status=mediating]")

        open_action(page, "record_session")
        page.fill("#record_session-place", "吴城乡综治中心调解室")
        page.fill("#record_session-attendees", "双方当事人、调解员、网格员")
        page.fill("#record_session-notes", "双方陈述意见，同意以原界桩为准。")
        page.click("form[data-action=record_session] button.primary")
        page.wait_for_selector("text=第 1 次调解")

        open_action(page, "agree")
        page.fill("#agree-terms", "一、院墙以原界桩为准；二、李卫东于十五日内拆除越界部分。")
        page.check("#agree-signed")
        page.click("form[data-action=agree] button.primary")
        page.wait_for_selector("[data-status=agreed]")
        assert page.is_visible("text=打印调解协议书")
        screenshot(page, "mediation_agreed")
    finally:
        context.close()
    m = MediationCase.dangerously_unscoped.get()
    assert (m.status, m.presiding_id, m.sessions.count()) == ("agreed", xu.pk, 1)
    assert list(AuditEvent.objects.filter(object_id=str(m.pk), action__startswith="mediation.")
                .order_by("id").values_list("action", flat=True)) == [
        "mediation.register", "mediation.assign", "mediation.start", "mediation.record_session", "mediation.agree"]
