"""In a real browser: import the template with 3 bad rows among 200, read the error report, fix the
file, import it; then search 王伟 and an ID number. Screenshots go to artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.residents.excel_files import HEADERS, ledger_rows, xlsx
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "residents"


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_import_fix_and_search_in_the_browser(live_server, world, ledger, page, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rows = ledger_rows(100)
    good = [list(r) for r in rows]
    rows[5][HEADERS.index("身份证号")] = "140225196001010011"
    rows[40][HEADERS.index("联系电话")] = "12345"
    rows[77][HEADERS.index("与户主关系")] = "邻居"
    bad_file, good_file = tmp_path / "台账.xlsx", tmp_path / "台账-已改.xlsx"
    bad_file.write_bytes(xlsx(rows))
    good_file.write_bytes(xlsx(good))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "liqiang")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/households/import/")
    page.set_input_files("#file", str(bad_file))
    page.click("button.primary")
    page.wait_for_selector("#import-errors")
    text = page.inner_text("main")
    assert "有错误，未导入" in text and "校验位" in text and "邻居" in text
    assert page.locator("#import-errors tbody tr").count() == 3
    page.screenshot(path=str(ARTIFACTS / "1-import-errors.png"), full_page=True)

    page.goto(f"{live_server.url}/households/import/")
    page.set_input_files("#file", str(good_file))
    page.click("button.primary")
    page.wait_for_selector("text=已导入 100 户、200 人")
    page.screenshot(path=str(ARTIFACTS / "2-import-done.png"), full_page=True)

    page.goto(f"{live_server.url}/households/")
    page.fill("#q", "王伟")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("table.cards")
    assert "王伟" in page.inner_text("table.cards") and "王伟民" in page.inner_text("table.cards")
    page.screenshot(path=str(ARTIFACTS / "3-search-name.png"), full_page=True)

    page.fill("#q", ledger.wang_wei_id)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("table.cards")
    body = page.content()
    assert ledger.wang_wei_id not in body  # echoed only masked
    assert page.locator("table.cards tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "4-search-id.png"), full_page=True)
    page.click("table.cards tbody tr a >> nth=0")
    page.wait_for_selector("text=家庭成员")
    page.screenshot(path=str(ARTIFACTS / "5-household-detail.png"), full_page=True)
