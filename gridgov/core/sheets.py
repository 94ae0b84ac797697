"""Spreadsheets the product writes are neutral: a text cell that a spreadsheet would take for a formula
(starting with = + - @, a tab or a carriage return) is written as text, never as a formula. Every .xlsx
the product writes goes through `workbook_bytes` (ordinary workbooks) or `text_row` (write-only ones);
a CSV, if one is ever written, through `csv_text`.

In .xlsx the cell is stored as a string (`t="s"`/inline string) with the quote-prefix style, so it
shows exactly what was typed and stays text when the cell is edited; CSV has no types, so a leading
apostrophe is added (the usual neutralisation; Excel hides it)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def _as_text(cell: Any) -> None:
    cell.data_type = "s"
    cell.quotePrefix = True


def neutralize(wb: Workbook) -> Workbook:
    """Every formula-like text cell of an ordinary (not write-only) workbook made text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or formula_like(cell.value):
                    _as_text(cell)
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook, neutralized, as .xlsx bytes."""
    if not getattr(wb, "write_only", False):
        neutralize(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def text_row(ws: Any, values: Iterable[Any], *, font: Font | None = None, fill: PatternFill | None = None,
             alignment: Alignment | None = None) -> list[Any]:
    """A row for a write-only sheet's `append`: formula-like text as text cells, other values as they are."""
    out: list[Any] = []
    for value in values:
        if formula_like(value) or font or fill or alignment:
            cell = WriteOnlyCell(ws, value=value)
            if formula_like(value):
                _as_text(cell)
            if font:
                cell.font = font
            if fill:
                cell.fill = fill
            if alignment:
                cell.alignment = alignment
            out.append(cell)
        else:
            out.append(value)
    return out


def csv_text(value: Any) -> str:
    """A CSV cell's text, neutralized (a leading apostrophe before a formula trigger)."""
    text = "" if value is None else str(value)
    return "'" + text if formula_like(text) else text
