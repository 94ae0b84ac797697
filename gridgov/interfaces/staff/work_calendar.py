"""The working calendar page (工作日历): the year as month grids with the working days of each month; the county
office enters the year's holidays and make-up workdays by date ranges, by pasting the State Council notice, or
as CSV (one service call: cases.calendar.calendar_year_save). Other offices read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from gridgov.access.roles import P
from gridgov.cases import calendar
from gridgov.cases.deadlines import work_calendar
from gridgov.core.clock import local, now
from gridgov.core.errors import DomainError, PermissionDenied, ValidationFailed
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor

BLANK_ROWS = 6


def _year(raw: str, default: int) -> int:
    return int(raw) if raw.isdecimal() and calendar.FIRST_YEAR <= int(raw) <= calendar.LAST_YEAR else default


def _posted_rows(post: Any) -> tuple[list[dict[str, str]], list[calendar.Entry]]:
    """The range rows as typed (to show back) and as entries (blank rows skipped)."""
    rows: list[dict[str, str]] = []
    entries: list[calendar.Entry] = []
    count = int(post.get("rows", "0")) if str(post.get("rows", "0")).isdecimal() else 0
    for i in range(min(count, 200)):
        row = {k: str(post.get(f"{k}_{i}", "")).strip() for k in ("start", "end", "kind", "note")}
        rows.append(row)
        if not row["start"] and not row["end"]:
            continue
        try:
            start = dt.date.fromisoformat(row["start"])
            end = dt.date.fromisoformat(row["end"] or row["start"])
        except ValueError:
            raise ValidationFailed(f"第 {i + 1} 行的日期不正确，请用日期选择或写成 2027-02-06。", field="entries")
        if row["kind"] not in ("holiday", "workday"):
            raise ValidationFailed(f"第 {i + 1} 行请选择“放假”或“调休上班”。", field="entries")
        entries.append(calendar.Entry(start, end, row["kind"] == "workday", row["note"][:40]))
    return rows, entries


def _rows_of(entries: list[calendar.Entry]) -> list[dict[str, str]]:
    return [{"start": e.start.isoformat(), "end": e.end.isoformat(), "kind": "workday" if e.workday else "holiday",
             "note": e.note} for e in entries]


@scoped_view
def work_calendar_page(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    can_edit = scope.can(P.CATEGORY_MANAGE)
    if not (can_edit or scope.can(P.CASE_DISPATCH)):
        raise PermissionDenied("只有县、乡网格办可以查看工作日历。")
    moment = now()
    today = local(moment).date()
    year = _year(request.POST.get("year", "") or request.GET.get("year", ""),
                 today.year + 1 if today.month == 12 else today.year)
    error = ""
    notice = csv_text = ""
    rows: list[dict[str, str]] | None = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("只有县网格办可以修改工作日历。")
        notice = request.POST.get("notice", "")
        csv_text = request.POST.get("csv", "")
        try:
            rows, entries = _posted_rows(request.POST)
            if notice.strip():
                entries += calendar.parse_notice(notice, year)
            if csv_text.strip():
                entries += calendar.parse_csv(csv_text)
            if not entries:
                raise ValidationFailed("请至少填写一段放假或调休上班的日期。", field="entries")
            calendar.calendar_year_save(actor=staff_actor(request), now=moment, year=year, entries=entries)
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            error = exc.message
        else:
            messages.success(request, f"已保存 {year} 年工作日历，在办事件的时限将随之重新计算。")
            return redirect(f"{reverse('staff:work_calendar')}?year={year}")
    kept = calendar.calendar_year_get(year)
    entries_kept = [calendar.Entry.from_json(e) for e in kept.entries] if kept is not None else []
    if rows is None:
        rows = _rows_of(entries_kept)
    rows = rows + [{"start": "", "end": "", "kind": "holiday", "note": ""}] * BLANK_ROWS
    grids = calendar.month_grids(year, work_calendar())
    context = {
        "year": year, "years": [year - 1, year + 1], "kept": kept, "entries": entries_kept, "can_edit": can_edit,
        "rows": rows, "row_count": len(rows), "notice": notice, "csv": csv_text, "error": error,
        "grids": grids, "total": sum(g.working_days for g in grids), "weekdays": calendar.WEEKDAYS,
        "pending": calendar.pending_revisions(),
    }
    return render(request, "staff/work_calendar.html", context, status=400 if error else 200)
