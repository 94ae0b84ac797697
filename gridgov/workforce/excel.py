"""The monthly assessment as an Excel workbook (openpyxl): the ranking of workers and of grids,
with the circular's commended and below-the-floor names marked. The first row says who exported
it and when."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgov.core import sheets

from .assessment import Result

BAND = {"commended": "通报表扬", "below": "低于合格线"}
_HEAD = PatternFill("solid", fgColor="FBE9E7")


def assessment_bytes(result: Result, *, watermark: str, published: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "网格员排名"
    title = f"{result.unit.name}{result.month:%Y年%m月}网格员考核{'' if published else '（预览，未发布）'}"
    s = result.setting
    rule = f"得分 = 基础分 {s.base} + 当月积分 + {s.duty_weight} × 责任清单按时完成率；合格线 {s.floor} 分"
    for sheet, lines, first in ((ws, result.workers, "姓名"), (wb.create_sheet("网格排名"), result.grids, "网格")):
        sheet.append([watermark])
        sheet.append([title])
        sheet.append([rule])
        sheet["A2"].font = Font(bold=True, size=14)
        header = ["名次", first, "所在网格", "积分", "应完成任务", "按时完成", "完成率", "得分", "通报"]
        sheet.append(header)
        for col in range(1, len(header) + 1):
            sheet.cell(row=4, column=col).font = Font(bold=True)
            sheet.cell(row=4, column=col).fill = _HEAD
        for line in lines:
            sheet.append([line.rank, line.name, line.grid_name, line.points, line.items_due, line.items_on_time,
                          line.rate_text, float(line.score), BAND.get(line.band, "")])
        for col, width in enumerate((6, 14, 22, 8, 10, 10, 8, 8, 12), start=1):
            sheet.column_dimensions[get_column_letter(col)].width = width
    return sheets.workbook_bytes(wb)
