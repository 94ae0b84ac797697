"""A village secretary takes a proposal from 提事 through 亮事 to the vote (定事) in a real browser, at
phone width."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gridgov.deliberation.models import Ballot, Proposal
from tests.browser.nav import go_to
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
REPRESENTATIVES = ["张三丰", "李四海", "王五洲", "赵六合", "钱七巧", "孙八方", "周九州"]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def act(page: Any, code: str, fill: dict[str, str] | None = None, select: dict[str, str] | None = None) -> None:
    if not page.is_visible(f"form[data-action={code}] button.primary"):
        page.click(f"details.action:has(form[data-action={code}]) summary")
    for name, value in (fill or {}).items():
        page.fill(f"form[data-action={code}] [name={name}]", value)
    for name, value in (select or {}).items():
        page.select_option(f"form[data-action={code}] [name={name}]", value)
    page.click(f"form[data-action={code}] button.primary")
    page.wait_for_load_state()


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"


def test_village_secretary_takes_a_proposal_through_publication_and_a_vote(world, live_server, browser):
    page = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "liqiang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # 提事: from the menu to the form.
    go_to(page, "群众议事")
    page.click("text=＋ 登记议事事项")
    page.select_option("#unit_id", str(world.village.pk))
    page.fill("#title", "硬化村东组道路")
    page.fill("#description", "村东组 800 米土路，雨天泥泞，老人孩子出行难。")
    page.select_option("#category", "infrastructure")
    page.select_option("#source", "visit")
    page.fill("#raiser_name", "王大山")
    page.click("button.primary")
    page.wait_for_load_state()
    assert "已登记议事事项" in page.content() and "王**" in page.content() and "王大山" not in page.content()
    proposal = Proposal.dangerously_unscoped.get()

    # 谋事: take it up, record the committees' opinion.
    act(page, "start_consult")
    act(page, "consult_note", fill={"text": "两委会议同意，资金从一事一议奖补列支。", "opinions": "5", "adopted": "3"},
        select={"kind": "committees"})
    # 亮事: the form will not take a notice of four days (the service would refuse it too); five is published.
    page.click("details.action:has(form[data-action=publish]) summary")
    page.fill("form[data-action=publish] [name=days]", "4")
    assert not page.evaluate("document.querySelector('form[data-action=publish] [name=days]').checkValidity()")
    act(page, "publish", fill={"notice_text": "拟硬化村东组道路 800 米，预算 24 万元。", "days": "5"})
    assert "已公示（亮事）" in page.content()
    shot(page, "deliberation-1-published")
    no_sideways_scroll(page)
    pdf = page.request.get(f"{live_server.url}/deliberation/{proposal.pk}/notice.pdf?kind=matter")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"

    # The vote must wait for the notice period …
    act(page, "open_vote", fill={"voters": "\n".join(REPRESENTATIVES)}, select={"body": "representatives"})
    assert "公示期未满" in page.content()
    # … which we let pass: the notice ran from six days ago.
    start = dt.date.today() - dt.timedelta(days=6)
    Proposal.dangerously_unscoped.filter(pk=proposal.pk).update(notice_start=start,
                                                                notice_end=start + dt.timedelta(days=4))
    page.reload()
    act(page, "open_vote", fill={"voters": "\n".join(REPRESENTATIVES), "place": "村委会议室"},
        select={"body": "representatives", "mode": "ballots"})
    assert "/vote/" in page.url and "应到" in page.content()
    no_sideways_scroll(page)

    # 定事: five representatives vote with the big buttons; two stay away.
    for seq, choice in ((1, "赞成"), (2, "赞成"), (3, "反对"), (4, "赞成"), (5, "弃权")):
        page.click(f"#v{seq} button:has-text('{choice}')")
        page.wait_for_load_state()
    assert Ballot.dangerously_unscoped.count() == 5
    assert page.locator("#v1 .cast").inner_text() == "已投：赞成"
    assert page.locator("#v1 button").count() == 0  # no second vote offered
    assert "按目前票数：通过" in page.content()
    shot(page, "deliberation-2-vote-sheet")
    page.click("text=结束表决，计算结果")
    page.wait_for_load_state()
    assert "表决通过" in page.content()
    proposal.refresh_from_db()
    assert proposal.stage == "implementing" and proposal.result == "passed"
    shot(page, "deliberation-3-decided")
    no_sideways_scroll(page)
    page.close()
