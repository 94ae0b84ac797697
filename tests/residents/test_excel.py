from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gridgov.core.errors import ValidationFailed
from gridgov.residents import excel
from gridgov.residents.models import Household, ImportJob, Resident, TagAssignment
from tests.residents.conftest import make_id
from tests.residents.excel_files import HEADERS, ledger_rows, row, xlsx
from tests.world import T0

pytestmark = pytest.mark.django_db


def submit(world, content: bytes, mode: str = "all", actor=None) -> ImportJob:  # type: ignore[no-untyped-def]
    job = excel.import_submit(actor=actor or world.li_qiang, now=T0, unit_id=world.village.pk, filename="台账.xlsx",
                              content=content, mode=mode)
    job.refresh_from_db()
    return job


def test_template_has_the_chinese_headers_and_text_columns():
    wb = load_workbook(io.BytesIO(excel.template_bytes()))
    ws = wb["户情台账"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.cell(row=3, column=HEADERS.index("身份证号") + 1).number_format == "@"


def test_two_hundred_rows_with_three_bad_import_nothing_then_valid_only(world, ledger):
    rows = ledger_rows(100)
    rows[5][HEADERS.index("身份证号")] = "140225196001010011"  # bad check digit
    rows[40][HEADERS.index("联系电话")] = "12345"
    rows[77][HEADERS.index("与户主关系")] = "邻居"
    job = submit(world, xlsx(rows))
    assert job.status == ImportJob.Status.REJECTED
    assert job.error_rows == 3
    assert [e["row"] for e in job.errors] == [7, 42, 79]
    assert "校验位" in job.errors[0]["reason"] and "*" in job.errors[0]["value"]
    assert not Household.dangerously_unscoped.filter(address="吴城村导入组").exists()  # nothing half imported
    job = submit(world, xlsx(rows), mode="valid_only")
    assert job.status == ImportJob.Status.DONE
    assert job.households_created == 97  # the three households with a bad row are left out whole
    assert Resident.dangerously_unscoped.filter(household__address="吴城村导入组").count() == 194
    assert TagAssignment.dangerously_unscoped.filter(tag__code="left_behind_elder",
                                                     note="导入").count() == 9  # 21: bad row


def test_fixed_file_imports_everything_and_reports_progress(world, ledger):
    job = submit(world, xlsx(ledger_rows(100)))
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.households_created, job.residents_created) == (100, 200)
    assert job.processed_rows == job.total_rows == 200 and job.percent == 100
    h = Household.dangerously_unscoped.filter(address="吴城村导入组").first()
    assert h.unit_id == world.grid_a1.pk  # grid by serial


def test_ids_and_phones_stored_by_excel_as_numbers(world, ledger):
    fifteen = "140225600101001"  # legacy 15 digits survive a float
    rows = [
        row(household_key="1", grid="吴城村第二网格", address="二组", relation="户主", name="郑一",
            id_number=float(fifteen), phone=13912345678.0),
        row(household_key="1", relation="子女", name="郑二", id_number=float(make_id(dt.date(1990, 1, 1), 11))),
        row(household_key="1", relation="子女", name="郑三", id_number="1.40225E+17"),
    ]
    job = submit(world, xlsx(rows), mode="valid_only")
    reasons = {e["row"]: e["reason"] for e in job.errors}
    assert "科学计数法" in reasons[3] and "科学计数法" in reasons[4]
    assert job.households_created == 0  # the household had bad rows
    job = submit(world, xlsx(rows[:1]))
    assert job.status == "done", job.errors
    r = Resident.dangerously_unscoped.get(name="郑一")
    assert r.birth_date == dt.date(1960, 1, 1) and r.phone_masked == "139****5678"


def test_duplicates_within_the_file_and_against_the_ledger(world, ledger):
    dup = make_id(dt.date(1970, 1, 1), 21)
    rows = [
        row(household_key="1", grid="A1", address="一组", relation="户主", name="钱一", id_number=dup),
        row(household_key="2", grid="A1", address="一组", relation="户主", name="钱二", id_number=dup),
        row(household_key="3", grid="A1", address="一组", relation="户主", name="王伟", id_number=ledger.wang_wei_id),
    ]
    job = submit(world, xlsx(rows))
    reasons = {e["row"]: e["reason"] for e in job.errors}
    assert reasons[3] == "与第 2 行的身份证号重复。"
    assert "吴城村第一网格" in reasons[4] and "王*" in reasons[4]
    assert ledger.wang_wei_id not in str(job.errors)


def test_grid_by_coordinates_and_household_rules(world, ledger):
    rows = [
        row(household_key="1", address="坐标户", lat=39.05, lng=113.15, relation="户主", name="孔一",
            id_number=make_id(dt.date(1971, 1, 1), 31)),
        row(household_key="2", address="无户主", grid="A1", relation="子女", name="孔二",
            id_number=make_id(dt.date(1972, 1, 1), 33)),
        row(household_key="3", address="外乡", lat=39.55, lng=113.55, relation="户主", name="孔三",
            id_number=make_id(dt.date(1973, 1, 1), 35)),
        row(household_key="4", address="两户主", grid="A1", relation="户主", name="孔四",
            id_number=make_id(dt.date(1974, 1, 1), 37)),
        row(household_key="4", relation="户主", name="孔五", id_number=make_id(dt.date(1975, 1, 1), 39)),
        row(household_key="5", address="歧义", grid="不存在网格", relation="户主", name="孔六",
            id_number=make_id(dt.date(1976, 1, 1), 41)),
    ]
    job = submit(world, xlsx(rows), mode="valid_only")
    reasons = " ".join(e["reason"] for e in job.errors)
    assert "没有户主" in reasons and "不止一位户主" in reasons and "不在「吴城村」的任何网格内" in reasons
    assert "找不到网格" in reasons
    assert Household.dangerously_unscoped.get(address="坐标户").unit_id == world.grid_a2.pk
    assert job.households_created == 1


def test_blank_rows_column_order_and_trailing_spaces_are_tolerated(world, ledger):
    headers = list(reversed(HEADERS))
    headers[headers.index("身份证号")] = " 身份证号码 "
    r = row(household_key="1", grid="A1 ", address=" 一组 ", relation=" 户主", name="冯一 ",
            id_number=make_id(dt.date(1980, 5, 5), 51) + " ")
    job = submit(world, xlsx([list(reversed(r)), [""] * len(HEADERS), [None] * len(HEADERS)], headers=headers))
    assert job.status == "done", job.errors
    assert Resident.dangerously_unscoped.get(name="冯一").household.address == "一组"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an excel file at all", "不是有效的 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
        (b"PK\x03\x04garbage", "损坏"),
        (b"", "请选择"),
    ],
)
def test_non_excel_content_is_refused_whatever_its_name(world, content, message):
    with pytest.raises(ValidationFailed) as exc:
        submit(world, content)
    assert message in exc.value.message


def test_wrong_sheet_merged_cells_and_formulas_fail_the_job_in_chinese(world, ledger):
    wrong = submit(world, xlsx(ledger_rows(2), headers=["甲", "乙", *HEADERS[2:4]]))
    assert wrong.status == "failed" and "没有找到包含「姓名」「身份证号」表头的工作表" in wrong.message
    merged = submit(world, xlsx(ledger_rows(2), merge="C2:C3"))
    assert merged.status == "failed" and "合并单元格" in merged.message
    # Formulas are found by the bounds check in the parsing child process, so the job fails (not the form).
    formula = submit(world, xlsx(ledger_rows(2), formula=True))
    assert formula.status == "failed" and "公式" in formula.message
    second_sheet = submit(world, xlsx(ledger_rows(2), extra_sheet_first=True))
    assert second_sheet.status == "done"


def test_import_outside_scope_or_without_right(world):
    with pytest.raises(Exception) as exc:
        excel.import_submit(actor=world.wang_fang, now=T0, unit_id=world.grid_a1.pk, filename="x.xlsx",
                            content=xlsx(ledger_rows(1)))
    assert exc.value.__class__.__name__ == "PermissionDenied"
    with pytest.raises(Exception) as exc:
        excel.import_submit(actor=world.sun_li, now=T0, unit_id=world.village.pk, filename="x.xlsx",
                            content=xlsx(ledger_rows(1)))
    assert exc.value.__class__.__name__ == "NotFound"


def test_import_pages_and_error_report_download(world, ledger, login):
    client = login(world.li_qiang)
    assert client.get(reverse("staff:household_import_template")).status_code == 200
    rows = ledger_rows(3)
    rows[0][HEADERS.index("身份证号")] = "140225196001010011"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("台账.xlsx", xlsx(rows))
    response = client.post(reverse("staff:household_import"), {"unit": world.village.pk, "file": upload,
                                                                 "mode": "all"})
    assert response.status_code == 302
    page = client.get(response.url)
    assert "校验位" in page.content.decode() and "全部未导入" in page.content.decode()
    job = ImportJob.dangerously_unscoped.latest("id")
    report = client.get(reverse("staff:household_import_report", args=[job.pk]))
    ws = load_workbook(io.BytesIO(report.content)).active
    assert [c.value for c in ws[1]] == ["行号", "列", "值（已脱敏）", "原因"]
    assert ws.cell(row=2, column=1).value == 2 and "*" in ws.cell(row=2, column=3).value
    assert login(world.sun_li).get(reverse("staff:household_import_job", args=[job.pk])).status_code == 404
    retry = client.post(reverse("staff:household_import_retry", args=[job.pk]))
    assert retry.status_code == 302
    assert ImportJob.dangerously_unscoped.latest("id").households_created == 2
    renamed = SimpleUploadedFile("台账.xlsx", b"%PDF-1.4 not excel")
    refused = client.post(reverse("staff:household_import"), {"unit": world.village.pk, "file": renamed})
    assert "不是有效的 Excel" in refused.content.decode()


def test_export_is_masked_and_scoped(world, ledger, login):
    response = login(world.zhang_wei).get(reverse("staff:household_export"))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    flat = " ".join(str(v) for r in values for v in r)
    assert ledger.wang_wei_id not in flat and ledger.wang_wei_phone not in flat
    assert "1402**********" in flat and "138****5678" in flat
    assert "孙强" not in flat  # 驼峰乡 is not 张伟's
    assert "王小宝" in flat  # township office may see minors
    assert login(world.wang_fang).get(reverse("staff:household_export")).status_code == 404
