"""Weekly and monthly reports of a unit, as PDF (WeasyPrint) and Excel (openpyxl).

The figures are the dashboard's: the same measures over the report's period, read through the scope
of the person who asked for the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from weasyprint import HTML

from gridgov.access.scope import scope_for
from gridgov.cases.models import Channel
from gridgov.core import sheets
from gridgov.core.clock import local
from gridgov.core.errors import ValidationFailed

from .board import Board, board
from .charts import columns_svg, hbar_svg
from .measures import MEASURE_BY_CODE, MEASURES, Period
from .models import ReportKind, ReportRun

# The 12345 weekly report leads with the hotline's three rates (三率).
HOTLINE_HEADLINE = ("response_rate", "resolution_rate", "satisfaction_rate")


def report_period(kind: str, day: dt.date, today: dt.date) -> Period:
    """The week (Monday–Sunday) or month containing `day`, ending today at the latest."""
    if day > today:
        raise ValidationFailed("所选日期在未来，请选择今天或以前的日期。", field="day")
    if kind == ReportKind.MONTHLY:
        start = day.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
    else:
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=6)
    return Period(start, min(end, today))


def build_board(run: ReportRun, now: dt.datetime) -> Board:
    scope = scope_for(run.requested_by)
    channel = Channel.HOTLINE if run.kind == ReportKind.HOTLINE_WEEKLY else ""
    return board(scope=scope, unit=run.unit, period=Period(run.period_start, run.period_end), now=now,
                 channel=channel, rank_measure="on_time_rate")


def _rate_pct(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 1)


def work_rows(run: ReportRun, now: dt.datetime) -> list[tuple[str, str, str, str]]:
    """The grid work beside the cases, as the dashboard shows it to the person who asked for the report:
    visit compliance, mediation, deliberation counts and, for assessors, duty lists and points.
    Rows of (label, value, numerator/denominator or note, definition); "—" where there is nothing to divide."""
    from gridgov.access.roles import P

    from . import deliberation_measures, visit_measures, workforce_measures
    from .mediation_measures import DEFINITIONS, mediation_figures

    scope = scope_for(run.requested_by)
    period = Period(run.period_start, run.period_end)
    rows: list[tuple[str, str, str, str]] = []
    vc = visit_measures.visit_compliance(unit=run.unit, period=period, today=local(now).date())
    rows.append(("走访达标率", vc.text, vc.parts, visit_measures.DEFINITION))
    if scope.can(P.MEDIATION_VIEW):
        mf = mediation_figures(scope=scope, unit=run.unit, period=period, now=now)
        rows.append(("调解方式", "、".join(f"{r['mode']} {r['count']} 件（{r['share']}）" for r in mf.rows()),
                     f"受理 {mf.registered} 件", DEFINITIONS["mode_split"]))
        rows.append(("调解成功率", mf.success_rate_text, f"{mf.agreed}/{mf.concluded}", DEFINITIONS["success_rate"]))
        rows.append(("按期调结率", mf.on_time_rate_text, f"{mf.on_time}/{mf.concluded}", DEFINITIONS["on_time_rate"]))
        rows.append(("期末在调解", str(mf.open_at_end), f"其中超期 {mf.overdue_at_end}", DEFINITIONS["open"]))
    df = deliberation_measures.deliberation_figures(scope=scope, unit=run.unit, period=period)
    if df is not None:
        rows.extend((m.label, text, "", m.definition) for m, text in df.values)
    wf = workforce_measures.figures_for(scope=scope, unit=run.unit, period=period)
    if wf is not None:
        rows.extend((v.measure.label, v.text, v.parts, v.measure.definition) for v in wf)
    return rows


def report_context(run: ReportRun, b: Board, now: dt.datetime) -> dict[str, Any]:
    headline = HOTLINE_HEADLINE if run.kind == ReportKind.HOTLINE_WEEKLY else (
        "response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "overdue_open")
    by_code = {v.measure.code: v for v in b.values}
    charts = {
        "category": hbar_svg([n for n, _ in b.by_category], [float(v) for _, v in b.by_category], suffix=" 件"),
        "ranking": hbar_svg([r.unit.name for r in b.ranking],
                            [_rate_pct(r.value("on_time_rate").value) for r in b.ranking], suffix="%",
                            fmt="{:.1f}", color="#ef6c00"),
        "days": columns_svg([d for d, _, _ in b.by_day],
                            [("登记", [r for _, r, _ in b.by_day]), ("办结", [c for _, _, c in b.by_day])]),
    }
    return {
        "run": run, "board": b, "headline": [by_code[c] for c in headline], "values": b.values,
        "charts": {k: mark_safe(v) for k, v in charts.items()},  # noqa: S308 - SVG built from numbers, labels escaped
        "generated_at": local(now), "hotline": run.kind == ReportKind.HOTLINE_WEEKLY,
        # The 12345 weekly report is about the hotline's cases only.
        "work": [] if run.kind == ReportKind.HOTLINE_WEEKLY else work_rows(run, now),
        "rank_columns": [MEASURE_BY_CODE[c] for c in ("response_rate", "resolution_rate", "satisfaction_rate",
                                                        "on_time_rate", "overdue_open", "return_rate")],
    }


def render_report_pdf(context: dict[str, Any]) -> bytes:
    pdf: bytes = HTML(string=render_to_string("insights/report.html", context)).write_pdf()
    return pdf


_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="FBE9E7")


def _sheet_header(ws: Any, titles: list[str]) -> None:
    ws.append(titles)
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = _HEAD, _FILL


def render_report_xlsx(context: dict[str, Any]) -> bytes:
    run: ReportRun = context["run"]
    b: Board = context["board"]
    wb = Workbook()
    ws = wb.active
    ws.title = "主要指标"
    ws.append([run.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"统计时段：{b.period.label}；对比上期：{b.previous.label}"])
    _sheet_header(ws, ["指标", "本期", "分子/分母", "上期", "较上期", "口径"])
    for v in b.values:
        prev = v.measure.fmt(v.previous) if v.previous is not None else "—"
        ws.append([v.measure.label, v.text, v.parts, prev, v.trend_text or "—", v.measure.definition])
    for col, width in zip("ABCDEF", (14, 12, 12, 12, 18, 90), strict=True):
        ws.column_dimensions[col].width = width
    for cells in ws.iter_rows(min_row=4, min_col=6, max_col=6):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    rk = wb.create_sheet("下级单位排名")
    _sheet_header(rk, ["名次", "单位", *[m.label for m in MEASURES]])
    for r in b.ranking:
        row: list[Any] = [r.rank, r.unit.name]
        for v in r.values:
            if v.value is None:
                row.append("—")
            elif v.measure.kind == "rate":
                row.append(round(v.value * 100, 1))
            else:
                row.append(round(v.value, 1))
        rk.append(row)
    rk.column_dimensions["B"].width = 18
    if b.ranking:
        chart = BarChart()
        chart.title = "按期办结率（%）"
        on_time_col = 2 + [m.code for m in MEASURES].index("on_time_rate") + 1
        chart.add_data(Reference(rk, min_col=on_time_col, min_row=1, max_row=1 + len(b.ranking)), titles_from_data=True)
        chart.set_categories(Reference(rk, min_col=2, min_row=2, max_row=1 + len(b.ranking)))
        chart.height, chart.width = 8, 16
        rk.add_chart(chart, f"A{len(b.ranking) + 4}")

    cir = wb.create_sheet("通报")
    _sheet_header(cir, ["单位", "低于标准的指标"])
    for r, low in b.circular:
        cir.append([r.unit.name, "；".join(f"{v.measure.label} {v.text}（标准 {v.measure.floor:.0%}）" for v in low)])
    cir.column_dimensions["A"].width, cir.column_dimensions["B"].width = 18, 80

    cat = wb.create_sheet("按类别")
    _sheet_header(cat, ["类别", "登记件数"])
    for name, n in b.by_category:
        cat.append([name, n])
    if b.by_category:
        chart = BarChart()
        chart.type, chart.title = "bar", "按类别登记件数"
        chart.add_data(Reference(cat, min_col=2, min_row=1, max_row=1 + len(b.by_category)), titles_from_data=True)
        chart.set_categories(Reference(cat, min_col=1, min_row=2, max_row=1 + len(b.by_category)))
        cat.add_chart(chart, "D2")

    if context.get("work"):
        wk = wb.create_sheet("走访调解议事考核")
        _sheet_header(wk, ["指标", "本期", "分子/分母", "口径"])
        for row in context["work"]:
            wk.append(list(row))
        for col, width in zip("ABCD", (16, 40, 16, 90), strict=True):
            wk.column_dimensions[col].width = width

    od = wb.create_sheet("超期事件")
    _sheet_header(od, ["编号", "标题", "类别", "网格", "当前承办", "办理时限"])
    for c in b.worst_overdue:
        holder = c.holder_department.name if c.holder_department else (c.holder_unit.name if c.holder_unit else "")
        od.append([c.number, c.title, c.category.name, c.unit.name, holder,
                   local(c.resolve_due).strftime("%Y-%m-%d %H:%M") if c.resolve_due else ""])
    return sheets.workbook_bytes(wb)


def generate(run: ReportRun, now: dt.datetime, progress: Callable[[int, str], None]) -> tuple[bytes, bytes]:
    progress(10, "正在统计指标")
    b = build_board(run, now)
    progress(50, "正在绘制图表")
    context = report_context(run, b, now)
    progress(70, "正在生成 PDF")
    pdf = render_report_pdf(context)
    progress(90, "正在生成 Excel")
    xlsx = render_report_xlsx(context)
    return pdf, xlsx
