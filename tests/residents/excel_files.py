"""Building .xlsx ledgers for the import tests (and the browser test)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook

from gridgov.residents.excel import COLUMNS
from tests.residents.conftest import make_id

HEADERS = [h for h, _, _, _ in COLUMNS]


def row(**values: Any) -> list[Any]:
    by_field = {f: h for h, f, _, _ in COLUMNS}
    out = {h: "" for h in HEADERS}
    for f, v in values.items():
        out[by_field[f]] = v
    return [out[h] for h in HEADERS]


def ledger_rows(n_households: int, *, grid: str = "A1", start: int = 0) -> list[list[Any]]:
    """Two rows per household (head and spouse), valid."""
    rows = []
    for i in range(start, start + n_households):
        key = str(i + 1)
        rows.append(row(household_key=key, grid=grid, address="吴城村导入组", house_number=str(i + 1),
                        relation="户主", name=f"张{chr(0x4E00 + i % 500)}", id_number=make_id(
                            dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), (2 * i + 1) % 1000, "140225"),
                        phone=f"139{i:08d}", tags="留守老人" if i % 10 == 0 else ""))
        rows.append(row(household_key=key, relation="配偶", name=f"李{chr(0x4E00 + i % 500)}",
                        id_number=make_id(dt.date(1962 + i % 40, 1 + i % 12, 1 + i % 28), (2 * i) % 1000, "140225")))
    return rows


def xlsx(rows: list[list[Any]], *, headers: list[str] | None = None, sheet: str = "户情台账",
         merge: str | None = None, formula: bool = False, extra_sheet_first: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    if extra_sheet_first:
        ws.title = "说明"
        ws.append(["这是说明"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    ws.append(headers or HEADERS)
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    if formula:
        ws["X2"] = "=1+1"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
