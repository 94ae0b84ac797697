"""Deadlines of a case's stages, computed on the working-day calendar (pure given the calendar)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gridgov.core.workdays import WorkCalendar, add_hours, add_working_days, calendar_with

from .models import CalendarOverride, Category

# Warn the holder this long before the resolution deadline.
WARN_BEFORE = dt.timedelta(hours=24)
WARN_BEFORE_EMERGENCY = dt.timedelta(hours=4)


@dataclass(frozen=True)
class StageDeadlines:
    respond_due: dt.datetime
    resolve_due: dt.datetime


def work_calendar() -> WorkCalendar:
    """The official calendar with this deployment's overrides (kept as data in CalendarOverride)."""
    return calendar_with(CalendarOverride.objects.values_list("date", "is_workday"))


def stage_deadlines(calendar: WorkCalendar, category: Category, urgency: str, start: dt.datetime) -> StageDeadlines:
    policy = category.policy(urgency)
    if "respond_hours" in policy:
        respond = add_hours(start, policy["respond_hours"])
    else:
        respond = add_working_days(calendar, start, policy.get("respond_days", 1))
    if "resolve_hours" in policy:
        resolve = add_hours(start, policy["resolve_hours"])
    else:
        resolve = add_working_days(calendar, start, policy.get("resolve_days", 7))
    return StageDeadlines(respond_due=respond, resolve_due=max(resolve, respond))


def extended(calendar: WorkCalendar, due: dt.datetime, days: int) -> dt.datetime:
    return add_working_days(calendar, due, days)


def warn_window(urgency: str) -> dt.timedelta:
    return WARN_BEFORE_EMERGENCY if urgency == "emergency" else WARN_BEFORE


def countdown(due: dt.datetime | None, now: dt.datetime) -> str:
    """A short Chinese countdown for pages: 剩 2 天 3 小时 / 已超期 5 小时."""
    if due is None:
        return ""
    delta = due - now
    late = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} 天 {hours} 小时"
    elif hours:
        text = f"{hours} 小时 {minutes} 分"
    else:
        text = f"{minutes} 分钟"
    return f"已超期 {text}" if late else f"剩 {text}"

# The note of the urge the deadline sweep writes when a case passes its resolve deadline; the workforce
# points feed tells that automatic urge from a person's by it (cases.selectors.worker_facts).
OVERDUE_URGE_NOTE = "已超过办理时限，系统自动催办"
