"""In a real browser: import the template with 3 bad rows among 200, read the error report, fix the
file, import it; then search 王伟 and an ID number. Screenshots go to artifacts/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

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
    good_file.write_bytes(xlsx(good))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "liqiang")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/households/import/")
    # The template downloaded from the page, filled in as a cadre would (example row deleted).
    with page.expect_download() as download:
        page.click("text=下载导入模板")
    assert download.value.suggested_filename == "户情台账导入模板.xlsx"
    template = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = template["户情台账"]
    assert [c.value for c in sheet[1]] == HEADERS
    sheet.delete_rows(2)
    for r in rows:
        sheet.append(r)
    template.save(bad_file)
    page.set_input_files("#file", str(bad_file))
    page.click("button.primary")
    page.wait_for_selector("#import-errors")
    text = page.inner_text("main")
    assert "有错误，未导入" in text and "校验位" in text and "邻居" in text
    assert page.locator("#import-errors tbody tr").count() == 3
    page.screenshot(path=str(ARTIFACTS / "1-import-errors.png"), full_page=True)
    with page.expect_download() as report:
        page.click("text=下载错误报告（Excel）")
    report_book = load_workbook(io.BytesIO(Path(report.value.path()).read_bytes()))
    report_rows = list(report_book.active.iter_rows(min_row=2, values_only=True))
    assert len(report_rows) == 3 and "140225196001010011" not in str(report_rows)  # values masked

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

    # The pages this issue added, at 360 px: contacts board of grid A1.
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{live_server.url}/households/contacts/{world.grid_a1.pk}/")
    page.wait_for_selector("text=本网格在册户")
    page.check(f"input[name=households][value='{ledger.a1.pk}']")
    page.check(f"input[name=households][value='{ledger.a1_b.pk}']")
    page.screenshot(path=str(ARTIFACTS / "6-contacts-360.png"))  # what the phone shows: the bar stays in reach
    page.click("button[value=worker]")
    page.wait_for_selector("text=已分配 2 户给 王芳")
    page.screenshot(path=str(ARTIFACTS / "6b-contacts-assigned-360.png"))


def test_key_group_catalogue_in_the_browser(live_server, world, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "chenjing")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/households/key-groups/")
    page.fill("#id_name", "低保户")
    page.select_option("#id_applies_to", "household")
    page.click("button.primary")
    page.wait_for_selector("text=已有名为「低保户」的标签。")
    page.fill("#id_name", "重点青少年")
    page.select_option("#id_applies_to", "resident")
    page.select_option("#id_sensitivity", "sensitive")
    page.fill("#id_visit_cadence_days", "14")
    page.click("button.primary")
    page.wait_for_selector("text=已添加标签「重点青少年」。")
    assert "每 14 天" in page.inner_text("table.cards")
    page.screenshot(path=str(ARTIFACTS / "7-key-groups-360.png"), full_page=True)


def test_contact_choices_load_when_the_section_is_opened(live_server, world, ledger, page):
    """The household page's 联系网格员和联系党员 section fetches its choice lists when opened (#8), and
    its forms work as before, at 390 px."""
    from gridgov.residents.members import resident_update
    from tests.world import T0

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    resident_update(actor=None, now=T0, resident_id=ledger.wang_wei.pk, political_status="中共党员")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "liqiang")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/households/{ledger.a1_b.pk}/")
    assert page.locator("#a-party").count() == 0
    page.click("#assign summary")
    page.wait_for_selector("#a-party")
    assert page.locator("#a-user option").all_inner_texts() == ["王芳"]
    page.select_option("#a-party", str(ledger.wang_wei.pk))
    page.screenshot(path=str(ARTIFACTS / "8-household-contacts-390.png"), full_page=True)
    page.click("#assign form:has(#a-party) button[type=submit]")
    page.wait_for_selector("text=已添加联系党员。")
    assert page.inner_text("dl.facts dt:has-text('联系党员') + dd") == "王伟"
