"""The working calendar, maintained by the county office: each year's holidays and make-up workdays (调休上班)
entered as date ranges (by hand, pasted from the State Council notice, or as CSV), kept as CalendarOverride rows
on top of the `holidays` package, and carried into open cases' deadlines by the deadline sweep.

Saving a year (`calendar_year_save`) replaces that year's overrides, records a CalendarRevision with the whole
override table before and after, and audits it, in one transaction; intake and every later action use the new
calendar at once (the reference stamp changes with the overrides). `calendar_recompute`, run by the deadline
sweep, then moves each open case's working-day deadlines that lie after the change: the working days still to
run, counted from the day the change was saved, are counted again on the new calendar (core.workdays.shift_due),
with a history row ("calendar") and an audit row on each case it changes. Idempotent and safe to kill midway:
a case changed for a revision carries that revision's history row and is not selected again.
"""

from __future__ import annotations

import calendar as pycalendar
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_build, audit_record, audit_record_many
from gridgov.core.clock import local
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.core.workdays import WorkCalendar, calendar_with, official_working_day, shift_due

from .models import CalendarOverride, CalendarRevision, CalendarYear, Case, CaseEvent
from .states import CLOCKED

WEEKDAYS = "一二三四五六日"
# The earliest and latest year the page accepts (a typo such as 20277 must not write anything).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The history row's action for a deadline moved by a calendar change (labelled on the case page).
RECOMPUTE_ACTION = "calendar"
BATCH = 200


@dataclass(frozen=True)
class Entry:
    """A range of days off (holiday) or of make-up workdays (调休上班), both ends included."""

    start: dt.date
    end: dt.date
    workday: bool
    note: str = ""

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "workday": self.workday,
                "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(start=dt.date.fromisoformat(data["start"]), end=dt.date.fromisoformat(data["end"]),
                   workday=bool(data["workday"]), note=str(data.get("note", "")))

    def label(self) -> str:
        return _md(self.start) if self.start == self.end else f"{_md(self.start)}至{_md(self.end)}"


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _date(year: int, month: int, day: int, where: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValidationFailed(f"「{where}」中的 {year}年{month}月{day}日 不是有效日期。", field="entries")


# --- reading what the office typed ---------------------------------------------------------------

_ITEM = re.compile(r"[一二三四五六七八九十]+、")
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_DATE = r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日"
_RANGE = re.compile(_DATE + r"(?:\s*[至到\-－—~～]+\s*(?:(?:(\d{4})年)?(\d{1,2})月)?(\d{1,2})日)?")
_ONE_DATE = re.compile(_DATE)
_TOTAL = re.compile(r"共\s*(\d+)\s*天")


def parse_notice(text: str, year: int) -> list[Entry]:
    """Entries from the lines of the State Council notice (国务院办公厅关于…部分节假日安排的通知), e.g.
    「二、春节：2月15日至23日放假调休，共9天。2月14日（星期六）、2月28日（星期六）上班。」"""
    entries: list[Entry] = []
    # Parentheses first: 「（农历腊月二十九、周五）」 must not read as item 九.
    items = [part for part in _ITEM.split(_PAREN.sub("", text.replace("\r", ""))) if part.strip()]
    for item in items:
        name = ""
        body = item.strip()
        if "：" in body or ":" in body:
            name, body = re.split(r"[：:]", body, maxsplit=1)
            name = name.strip()[:20]
        for sentence in re.split(r"[。；;\n]", body):
            plain = _PAREN.sub("", sentence).strip()
            if not plain:
                continue
            if "上班" in plain:
                for y, m, d in _ONE_DATE.findall(plain):
                    day = _date(int(y or year), int(m), int(d), sentence.strip())
                    entries.append(Entry(day, day, True, f"{name}调休上班" if name else "调休上班"))
            elif "放假" in plain or "休息" in plain:
                match = _RANGE.search(plain)
                if match is None:
                    raise ValidationFailed(f"「{sentence.strip()}」中没有找到放假日期。", field="notice")
                y1, m1, d1, y2, m2, d2 = match.groups()
                start = _date(int(y1 or year), int(m1), int(d1), sentence.strip())
                if d2:
                    end_month = int(m2 or m1)
                    end_year = int(y2 or (start.year + 1 if end_month < start.month else start.year))
                    end = _date(end_year, end_month, int(d2), sentence.strip())
                else:
                    end = start
                if end < start:
                    raise ValidationFailed(f"「{sentence.strip()}」的结束日期早于开始日期。", field="notice")
                total = _TOTAL.search(plain)
                if total and int(total.group(1)) != (end - start).days + 1:
                    raise ValidationFailed(
                        f"「{sentence.strip()}」写共{total.group(1)}天，但{_md(start)}至{_md(end)}是"
                        f"{(end - start).days + 1}天，请核对。", field="notice")
                entries.append(Entry(start, end, False, name))
            elif _ONE_DATE.search(plain):
                raise ValidationFailed(f"看不懂「{sentence.strip()}」：请写明“放假”或“上班”。", field="notice")
    return entries


_CSV_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _csv_date(raw: str, line: int) -> dt.date:
    match = _CSV_DATE.match(raw.strip())
    if match is None:
        raise ValidationFailed(f"第 {line} 行的日期「{raw.strip()}」应写成 2027-02-06。", field="csv")
    y, m, d = (int(g) for g in match.groups())
    return _date(y, m, d, f"第 {line} 行")


def parse_csv(text: str) -> list[Entry]:
    """Entries from CSV lines: 开始日期,结束日期,放假 或 上班,说明 (a header line is skipped)."""
    entries: list[Entry] = []
    for line, row in enumerate(csv.reader(io.StringIO(text.strip())), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and not _CSV_DATE.match(cells[0]):
            continue  # the header
        if len(cells) < 3:
            raise ValidationFailed(f"第 {line} 行应有开始日期、结束日期、放假或上班三项。", field="csv")
        start, end = _csv_date(cells[0], line), _csv_date(cells[1] or cells[0], line)
        if cells[2] not in ("放假", "上班"):
            raise ValidationFailed(f"第 {line} 行第三项应为“放假”或“上班”。", field="csv")
        if end < start:
            raise ValidationFailed(f"第 {line} 行的结束日期早于开始日期。", field="csv")
        entries.append(Entry(start, end, cells[2] == "上班", cells[3][:40] if len(cells) > 3 else ""))
    return entries


def check_entries(year: int, entries: Iterable[Entry]) -> list[Entry]:
    """The entries of one year, sorted, repeated lines dropped; a clear message for anything impossible."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed("年份不正确。", field="year")
    unique = sorted(set(entries), key=lambda e: (e.start, e.end, e.workday))
    taken: dict[dt.date, Entry] = {}
    for entry in unique:
        if entry.end < entry.start:
            raise ValidationFailed(f"{entry.label()}：结束日期早于开始日期。", field="entries")
        if entry.start.year != year or entry.end.year != year:
            raise ValidationFailed(f"{entry.start.year}年{entry.label()} 不在 {year} 年内。", field="entries")
        if (entry.end - entry.start).days >= 31:
            raise ValidationFailed(f"{entry.label()} 超过一个月，请核对日期。", field="entries")
        for day in entry.days():
            other = taken.get(day)
            if other is not None:
                if other.workday != entry.workday:
                    holiday = other if not other.workday else entry
                    raise ValidationFailed(
                        f"{_md(day)} 既是放假日（{holiday.note or holiday.label()}）又是调休上班日，请核对。",
                        field="entries")
                raise ValidationFailed(f"{other.label()} 与 {entry.label()} 的日期重叠，请合并为一段。",
                                       field="entries")
            taken[day] = entry
            if entry.workday and day.weekday() < 5:
                raise ValidationFailed(f"{_md(day)} 是星期{WEEKDAYS[day.weekday()]}，本来就上班，"
                                       "不是调休上班日。", field="entries")
    return unique


def year_days(year: int, entries: Iterable[Entry]) -> dict[dt.date, bool]:
    """Every day of the year → working day, as the entries say (weekends off unless a make-up workday)."""
    marked = {day: e.workday for e in entries for day in e.days()}
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return {first + dt.timedelta(days=i): marked.get(first + dt.timedelta(days=i),
                                                     (first + dt.timedelta(days=i)).weekday() < 5)
            for i in range((last - first).days + 1)}


# --- the write path ------------------------------------------------------------------------------


def _require_editor(actor: User | None) -> str:
    if actor is None:
        return "system"
    scope = scope_for(actor)
    if not scope.can(P.CATEGORY_MANAGE):
        raise PermissionDenied("只有县网格办可以修改工作日历。")
    county = next((g.path for g in scope.grants if P.CATEGORY_MANAGE in g.permissions), "")
    return scope.role_at(county) if county else "county_office"


def _overrides() -> dict[str, bool]:
    return {d.isoformat(): w for d, w in CalendarOverride.objects.order_by("date").values_list("date", "is_workday")}


def calendar_year_save(*, actor: User | None, now: dt.datetime, year: int, entries: Iterable[Entry]) -> CalendarYear:
    """Confirm a year's holidays and make-up workdays: its overrides replaced, a revision for the sweep to
    carry into open cases' deadlines, an audit row; all in one transaction, nothing written on bad input."""
    role = _require_editor(actor)
    clean = check_entries(year, entries)
    wanted = year_days(year, clean)
    notes = {day: e.note for e in clean for day in e.days()}
    with transaction.atomic():
        before = _overrides()
        # Only where the package's answer differs from the office's: the package stays the base.
        rows = [CalendarOverride(date=day, is_workday=work, note=notes.get(day, "")[:80])
                for day, work in wanted.items() if official_working_day(day) != work]
        CalendarOverride.objects.filter(date__year=year).delete()
        CalendarOverride.objects.bulk_create(rows)
        after = _overrides()
        kept, created = CalendarYear.objects.update_or_create(
            year=year, defaults={"entries": [e.as_json() for e in clean], "confirmed_at": now,
                                 "confirmed_by": actor if actor is not None else None})
        changed = sorted(set(before.items()) ^ set(after.items()))
        if before != after:
            CalendarRevision.objects.create(year=year, saved_at=now, before=before, after=after)
        audit_record(action="case.calendar_save", actor=actor, now=now, obj=kept, role=role,
                     detail={"year": year, "created": created, "holidays": sum(not e.workday for e in clean),
                             "workdays": sum(e.workday for e in clean),
                             "changed_days": len({d for d, _ in changed})})
    return kept


# --- the sweep's part: carrying a change into open cases' deadlines -------------------------------


def _calendar_of(snapshot: dict[str, bool]) -> WorkCalendar:
    return calendar_with((dt.date.fromisoformat(d), bool(w)) for d, w in snapshot.items())


def calendar_recompute(*, now: dt.datetime, limit: int = 2000) -> int:
    """Apply the saved calendar changes, oldest first, to open cases' deadlines; returns the cases changed."""
    changed = 0
    for revision in CalendarRevision.objects.filter(applied_at__isnull=True, saved_at__lte=now).order_by("id"):
        moved, done = _apply(revision, now=now, limit=limit - changed)
        changed += moved
        if not done:
            break  # the next run goes on with this revision; later ones wait for it
        CalendarRevision.objects.filter(pk=revision.pk).update(applied_at=now, recomputed=revision.recomputed + moved)
    return changed


def _apply(revision: CalendarRevision, *, now: dt.datetime, limit: int) -> tuple[int, int]:
    before, after = _calendar_of(revision.before), _calendar_of(revision.after)
    since = local(revision.saved_at).date()
    due = (Case.dangerously_unscoped.filter(status__in=[s.value for s in CLOCKED], created_at__lt=revision.saved_at)
           .filter(Q(resolve_due__gt=revision.saved_at) | Q(respond_due__gt=revision.saved_at))
           .order_by("pk"))
    moved = 0
    last = 0
    while moved < limit:
        with transaction.atomic():
            cases = list(due.filter(pk__gt=last).select_related("category")
                         .select_for_update(of=("self",))[:BATCH])
            if not cases:
                return moved, True
            last = cases[-1].pk
            moved += _apply_batch(revision, cases, before, after, since, now)
    return moved, False


def _apply_batch(revision: CalendarRevision, cases: list[Case], before: WorkCalendar, after: WorkCalendar,
                 since: dt.date, now: dt.datetime) -> int:
    ids = [c.pk for c in cases]
    seq = dict(CaseEvent.dangerously_unscoped.filter(case_id__in=ids).values("case_id").annotate(m=Max("seq"))
               .values_list("case_id", "m"))
    # Deadlines set after the change was saved were computed on the new calendar already; a case this
    # revision already moved carries its history row.
    settled = set()
    for case_id, action, detail, old, new in (CaseEvent.dangerously_unscoped.filter(case_id__in=ids,
                                                                                    at__gte=revision.saved_at)
                                              .values_list("case_id", "action", "detail", "resolve_due_before",
                                                           "resolve_due_after")):
        if action == RECOMPUTE_ACTION:
            if (detail or {}).get("revision") == revision.pk:
                settled.add(case_id)
        elif old != new:
            settled.add(case_id)
    events: list[CaseEvent] = []
    audits = []
    changed: list[Case] = []
    for case in cases:
        if case.pk in settled:
            continue
        policy = case.category.policy(case.urgency)
        respond, resolve = case.respond_due, case.resolve_due
        if respond is not None and "respond_hours" not in policy and respond > revision.saved_at:
            respond = shift_due(before, after, respond, since)
        if resolve is not None and "resolve_hours" not in policy and resolve > revision.saved_at:
            resolve = shift_due(before, after, resolve, since)
        if respond == case.respond_due and resolve == case.resolve_due:
            continue
        old_resolve = case.resolve_due
        case.respond_due, case.resolve_due = respond, resolve
        if resolve is not None and resolve > now:
            case.overdue = False
        case.version += 1
        case.updated_at = now
        changed.append(case)
        seq[case.pk] = seq.get(case.pk, 0) + 1
        text = (f"工作日历调整，办理时限由 {local(old_resolve):%Y年%-m月%-d日 %H:%M} 改为 "
                f"{local(resolve):%Y年%-m月%-d日 %H:%M}" if old_resolve and resolve and old_resolve != resolve
                else "工作日历调整，签收时限重新计算")
        events.append(CaseEvent(
            case=case, seq=seq[case.pk], action=RECOMPUTE_ACTION, at=now, actor=None, actor_role="system",
            from_status=case.status, to_status=case.status, from_unit_id=case.holder_unit_id,
            to_unit_id=case.holder_unit_id, from_department_id=case.holder_department_id,
            to_department_id=case.holder_department_id, note=text,
            resolve_due_before=old_resolve, resolve_due_after=resolve,
            detail={"revision": revision.pk, "year": revision.year,
                    "respond_due": respond.isoformat() if respond else None}))
        audits.append(audit_build(action="case.calendar_recompute", actor=None, now=now, obj=case,
                                  unit_path=case.owner_path, role="system",
                                  detail={"number": case.number, "revision": revision.pk}))
    if changed:
        Case.dangerously_unscoped.bulk_update(changed, ["respond_due", "resolve_due", "overdue", "version",
                                                        "updated_at"])
        CaseEvent.dangerously_unscoped.bulk_create(events)
        audit_record_many(audits)
    return len(changed)


# --- reads for the page and the home page --------------------------------------------------------


@dataclass(frozen=True)
class DayCell:
    day: dt.date | None
    working: bool = False
    kind: str = ""  # "holiday" | "makeup" | "weekend" | "" (an ordinary working day)


@dataclass(frozen=True)
class MonthGrid:
    month: int
    weeks: list[list[DayCell]]
    working_days: int


def month_grids(year: int, calendar: WorkCalendar) -> list[MonthGrid]:
    """The year as twelve month grids (weeks from Monday) on the given calendar, with working days per month."""
    grids = []
    for month in range(1, 13):
        weeks = []
        count = 0
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row = []
            for day in week:
                if day.month != month:
                    row.append(DayCell(None))
                    continue
                working = calendar.is_working_day(day)
                count += working
                weekend = day.weekday() >= 5
                kind = ("makeup" if working and weekend else "holiday" if not working and not weekend
                        else "weekend" if not working else "")
                row.append(DayCell(day, working, kind))
            weeks.append(row)
        grids.append(MonthGrid(month, weeks, count))
    return grids


def calendar_year_get(year: int) -> CalendarYear | None:
    return CalendarYear.objects.filter(year=year).select_related("confirmed_by").first()


def unconfirmed_next_year(now: dt.datetime) -> int | None:
    """From 1 December: next year, when its calendar has not been confirmed (the home page warns offices)."""
    today = local(now).date()
    if today.month != 12:
        return None
    year = today.year + 1
    return None if CalendarYear.objects.filter(year=year).exists() else year


def pending_revisions() -> int:
    return CalendarRevision.objects.filter(applied_at__isnull=True).count()
