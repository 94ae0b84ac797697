"""Routines (例行工作): recurring work kept as data — an RRULE recurrence (python-dateutil), the unit it applies to
and what each occurrence creates through the owning workflow app's public service:

- a talk day (支部说事日, 周五说事) — deliberation.services.talk_day_create(planned=True);
- a visit campaign (集中走访, 五个到户敲门行动) — visits.services.campaign_create;
- a duty list to the unit's sub-units (monthly grid/village/township meetings, quarterly circulars, until the
  meetings app exists) — workforce.services.duty_list_issue.

`routines_run` (a periodic job) creates each occurrence LEAD_DAYS ahead, once: the occurrence row (unique per
routine and date) and the workflow's object are written in one transaction, so a second runner, a rerun or a
run killed midway creates nothing twice. The occurrence is created as the routine's owner (their rights are
checked by the workflow's service each time: someone who lost them gets no new occurrences, and the failure is
counted and logged). The day before each occurrence its owner and those holding the kind's right at the unit get
an in-app message (notify, keyed per occurrence).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr  # type: ignore[import-untyped]
from django.db import IntegrityError, transaction

from gridgov.access.models import Grant, User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gridgov.deliberation import services as deliberation
from gridgov.notify.services import notify_many
from gridgov.units.models import Unit
from gridgov.visits import services as visits
from gridgov.workforce import services as workforce

from .models import Routine, RoutineKind, RoutineOccurrence

log = logging.getLogger(__name__)

# Occurrences are created this many days ahead.
LEAD_DAYS = 14
# A rule must give a date within this many days of its start, or it is refused as never happening.
HORIZON_DAYS = 2 * 366
# The right needed at the unit to set a routine of each kind (the same its workflow asks to create one).
KIND_PERM = {RoutineKind.TALK_DAY: P.DELIBERATION_MANAGE, RoutineKind.VISIT_CAMPAIGN: P.UNIT_EDIT,
             RoutineKind.DUTY_LIST: P.DUTY_ISSUE}
WEEKDAY_NAMES = "一二三四五六日"
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# --- presets: what the page offers instead of raw RRULE text ---------------------------------------


@dataclass(frozen=True)
class Preset:
    code: str
    label: str
    needs: str  # "monthday" | "weekday"


PRESETS = (
    Preset("monthly", "每月", "monthday"),
    Preset("weekly", "每周", "weekday"),
    Preset("quarterly", "每季度（1、4、7、10月）", "monthday"),
)


def preset_rule(preset: str, day: Any) -> str:
    """每月10日 → FREQ=MONTHLY;BYMONTHDAY=10; 每周五 → FREQ=WEEKLY;BYDAY=FR; 每季度 → FREQ=MONTHLY;INTERVAL=3;…"""
    raw = str(day or "").strip()
    if preset == "weekly":
        if raw not in {str(i) for i in range(7)}:
            raise ValidationFailed("请选择星期几。", field="day")
        return f"FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[int(raw)]}"
    if preset in ("monthly", "quarterly"):
        if not raw.isdecimal() or not 1 <= int(raw) <= 31:
            raise ValidationFailed("每月的日子应在 1 到 31 日之间。", field="day")
        if preset == "monthly":
            return f"FREQ=MONTHLY;BYMONTHDAY={int(raw)}"
        return f"FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY={int(raw)}"
    raise ValidationFailed("请选择重复方式。", field="preset")


def describe(rule: str) -> str:
    """The rule in the page's words (每月10日, 每周五, 每季度首月10日); other rules as 自定义规则."""
    if m := re.fullmatch(r"FREQ=MONTHLY;BYMONTHDAY=(\d+)", rule):
        return f"每月{m.group(1)}日"
    if m := re.fullmatch(r"FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)", rule):
        return f"每周{WEEKDAY_NAMES[WEEKDAY_CODES.index(m.group(1))]}"
    if m := re.fullmatch(r"FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=(\d+)", rule):
        return f"每季度首月{m.group(1)}日"
    return "自定义规则"


def preset_of(rule: str) -> tuple[str, str]:
    if m := re.fullmatch(r"FREQ=MONTHLY;BYMONTHDAY=(\d+)", rule):
        return "monthly", m.group(1)
    if m := re.fullmatch(r"FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)", rule):
        return "weekly", str(WEEKDAY_CODES.index(m.group(1)))
    if m := re.fullmatch(r"FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=(\d+)", rule):
        return "quarterly", m.group(1)
    return "", ""


def _recurrence(rule: str, starts_on: dt.date) -> rrule:
    start = dt.datetime.combine(starts_on, dt.time())
    try:
        parsed = rrulestr(rule, dtstart=start)
    except (ValueError, TypeError):
        raise ValidationFailed("重复规则看不懂，请从列表中选择。", field="preset") from None
    if not isinstance(parsed, rrule):
        raise ValidationFailed("重复规则看不懂，请从列表中选择。", field="preset")
    if parsed._freq not in (DAILY, WEEKLY, MONTHLY, YEARLY):
        raise ValidationFailed("例行工作最多每天一次，不能按小时或分钟重复。", field="preset")
    return parsed


def check_rule(rule: str, starts_on: dt.date) -> list[dt.date]:
    """The rule's first dates within HORIZON_DAYS; refused if there is none."""
    parsed = _recurrence(rule, starts_on)
    until = dt.datetime.combine(starts_on + dt.timedelta(days=HORIZON_DAYS), dt.time())
    dates = [d.date() for d in parsed.between(dt.datetime.combine(starts_on, dt.time()), until, inc=True)]
    if not dates:
        raise ValidationFailed("按这个规则，两年内一次也不会发生，请检查日子（如每月31日、2月30日）。",
                               field="day")
    return dates


def occurrences(routine: Routine, first: dt.date, last: dt.date) -> list[dt.date]:
    parsed = _recurrence(routine.rule, routine.starts_on)
    start = max(first, routine.starts_on)
    return [d.date() for d in parsed.between(dt.datetime.combine(start, dt.time()),
                                             dt.datetime.combine(last, dt.time()), inc=True)]


# --- the write path (the staff page) --------------------------------------------------------------


def _unit_for(scope: Scope, unit_id: Any, kind: str) -> Unit:
    try:
        pk = int(unit_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择单位。", field="unit_id") from None
    unit = Unit.dangerously_unscoped.filter(pk=pk, is_active=True).first()
    if unit is None or not scope.covers(unit.path):
        raise ValidationFailed("请选择单位。", field="unit_id")
    if not scope.can(KIND_PERM[RoutineKind(kind)], unit.path):
        raise PermissionDenied(f"您不能为{unit.name}设置「{RoutineKind(kind).label}」例行工作。")
    if kind == RoutineKind.DUTY_LIST and not Unit.dangerously_unscoped.filter(parent=unit, is_active=True).exists():
        raise ValidationFailed(f"{unit.name}没有下级单位，不能按月下发责任清单。", field="unit_id")
    return unit


def _clean(*, kind: Any, name: Any, description: Any, rule: Any, starts_on: Any, span_days: Any) -> dict[str, Any]:
    if kind not in RoutineKind.values:
        raise ValidationFailed("请选择例行工作的类型。", field="kind")
    title = str(name or "").strip()
    if not 2 <= len(title) <= 40:
        raise ValidationFailed("名称应为 2 到 40 个字。", field="name")
    text = str(description or "").strip()
    if len(text) > 400:
        raise ValidationFailed("要求不能超过 400 个字。", field="description")
    if isinstance(starts_on, dt.date):
        start = starts_on
    else:
        try:
            start = dt.date.fromisoformat(str(starts_on or "").strip())
        except ValueError:
            raise ValidationFailed("请填写开始日期。", field="starts_on") from None
    raw_span = str(span_days if span_days not in (None, "") else 1).strip()
    if not raw_span.isdecimal() or not 1 <= int(raw_span) <= 31:
        raise ValidationFailed("持续天数应在 1 到 31 天之间。", field="span_days")
    check_rule(str(rule or ""), start)
    return {"kind": kind, "name": title, "description": text, "rule": str(rule), "starts_on": start,
            "span_days": int(raw_span)}


@transaction.atomic
def routine_create(*, actor: User | None, now: dt.datetime, unit_id: Any, kind: Any, name: Any, rule: Any,
                   starts_on: Any, description: Any = "", span_days: Any = 1) -> Routine:
    if actor is None:
        raise PermissionDenied()
    scope = scope_for(actor)
    clean = _clean(kind=kind, name=name, description=description, rule=rule, starts_on=starts_on,
                   span_days=span_days)
    unit = _unit_for(scope, unit_id, clean["kind"])
    routine = Routine.dangerously_unscoped.create(unit=unit, unit_path=unit.path, owner=actor, created_at=now,
                                                  updated_at=now,
                                      **clean)
    audit_record(action="routine.create", actor=actor, now=now, obj=routine, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": routine.kind, "name": routine.name,
                                                        "rule": routine.rule})
    return routine


@transaction.atomic
def routine_update(*, actor: User | None, now: dt.datetime, routine_id: Any, name: Any, rule: Any, starts_on: Any,
                   description: Any = "", span_days: Any = 1, is_active: bool = True) -> Routine:
    """Change a routine (the editor becomes its owner). Occurrences already created stay."""
    if actor is None:
        raise PermissionDenied()
    scope = scope_for(actor)
    routine = routine_get(scope=scope, routine_id=routine_id, lock=True)
    clean = _clean(kind=routine.kind, name=name, description=description, rule=rule, starts_on=starts_on,
                   span_days=span_days)
    _unit_for(scope, routine.unit_id, routine.kind)
    for key, value in clean.items():
        setattr(routine, key, value)
    routine.is_active = bool(is_active)
    routine.owner = actor
    routine.updated_at = now
    routine.save()
    audit_record(action="routine.update", actor=actor, now=now, obj=routine, unit_path=routine.unit_path,
                 role=scope.role_at(routine.unit_path),
                 detail={"name": routine.name, "rule": routine.rule, "active": routine.is_active})
    return routine


# --- reads ------------------------------------------------------------------------------------------


def routine_get(*, scope: Scope, routine_id: Any, lock: bool = False) -> Routine:
    try:
        pk = int(routine_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = Routine.objects.within(scope).select_related("unit", "owner")
    if lock:
        qs = qs.select_for_update(of=("self",))
    routine = qs.filter(pk=pk).first()
    if routine is None:
        raise NotFound()
    return routine


def routine_list(*, scope: Scope) -> list[Routine]:
    return list(Routine.objects.within(scope).select_related("unit", "owner").order_by("unit_path", "kind", "id"))


def upcoming(*, routine: Routine, today: dt.date, count: int = 3) -> list[dt.date]:
    return occurrences(routine, today, today + dt.timedelta(days=HORIZON_DAYS))[:count]


# --- the runner ------------------------------------------------------------------------------------


@dataclass
class RunReport:
    created: int = 0
    reminded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "reminded": self.reminded, "failed": self.failed}


def _create(routine: Routine, on: dt.date, now: dt.datetime) -> tuple[str, str]:
    """Create the occurrence's object through its workflow's public service, as the routine's owner."""
    actor = routine.owner
    label = f"{routine.name}（{on.month}月{on.day}日）"
    if routine.kind == RoutineKind.TALK_DAY:
        talk = deliberation.talk_day_create(actor=actor, now=now, unit_id=routine.unit_id, held_on=on.isoformat(),
                                            topic=routine.name, planned=True)
        return "deliberation.talkday", str(talk.pk)
    if routine.kind == RoutineKind.VISIT_CAMPAIGN:
        campaign = visits.campaign_create(actor=actor, now=now, unit_id=routine.unit_id, name=label,
                                          starts_on=on.isoformat(),
                                          ends_on=(on + dt.timedelta(days=routine.span_days - 1)).isoformat())
        return "visits.visitcampaign", str(campaign.pk)
    children = list(Unit.dangerously_unscoped.filter(parent_id=routine.unit_id, is_active=True).values_list("pk",
                                                                                                            flat=True))
    due = dt.datetime.combine(on + dt.timedelta(days=routine.span_days - 1), dt.time(18, 0), tzinfo=LOCAL_TZ)
    duty = workforce.duty_list_issue(actor=actor, now=now, unit_id=routine.unit_id, title=label,
                                     description=routine.description or routine.name, due_at=due,
                                     target_unit_ids=children)
    return "workforce.dutylist", str(duty.pk)


def routines_run(*, now: dt.datetime, lead_days: int = LEAD_DAYS) -> RunReport:
    """Create every active routine's occurrences up to `lead_days` ahead (once each), then send the day-before
    reminders. Idempotent; one transaction per occurrence, so a failure leaves the others done."""
    report = RunReport()
    today = local(now).date()
    for routine in Routine.dangerously_unscoped.filter(is_active=True).select_related("owner").order_by("id"):
        dates = occurrences(routine, today, today + dt.timedelta(days=lead_days))
        done = set(RoutineOccurrence.objects.filter(routine=routine, on_date__in=dates)
                   .values_list("on_date", flat=True))
        for on in dates:
            if on in done:
                continue
            try:
                with transaction.atomic():
                    occurrence = RoutineOccurrence.objects.create(routine=routine, on_date=on, created_at=now)
                    occurrence.object_type, occurrence.object_id = _create(routine, on, now)
                    occurrence.save(update_fields=["object_type", "object_id"])
                    audit_record(action="routine.occurrence", actor=None, now=now, obj=occurrence,
                                 unit_path=routine.unit_path, role="system",
                                 detail={"routine": routine.pk, "on": on.isoformat(),
                                         "object": f"{occurrence.object_type}:{occurrence.object_id}"})
                report.created += 1
            except IntegrityError:
                continue  # another runner created it meanwhile
            except DomainError as exc:
                report.failed += 1
                report.errors.append(f"{routine.pk}@{on}: {exc.message}")
                log.warning("routine %s occurrence %s not created: %s", routine.pk, on, exc.message)
    report.reminded = _remind(now=now)
    return report


def _responsible(routine: Routine) -> list[int]:
    perm = KIND_PERM[RoutineKind(routine.kind)]
    ids = {routine.owner_id}
    for user_id, perms in (Grant.dangerously_unscoped.filter(unit_id=routine.unit_id, revoked_at__isnull=True,
                                                 user__is_active=True)
                           .values_list("user_id", "role__permissions")):
        if perm in (perms or []):
            ids.add(user_id)
    return sorted(ids)


_LINKS = {"deliberation.talkday": "/deliberation/", "visits.visitcampaign": "/visits/",
          "workforce.dutylist": "/workforce/lists/"}


def _remind(*, now: dt.datetime) -> int:
    tomorrow = local(now).date() + dt.timedelta(days=1)
    sent = 0
    due = (RoutineOccurrence.objects.filter(on_date=tomorrow, reminded_at__isnull=True, routine__is_active=True)
           .select_related("routine", "routine__unit"))
    for occurrence in due:
        routine = occurrence.routine
        with transaction.atomic():
            if not RoutineOccurrence.objects.select_for_update().filter(pk=occurrence.pk,
                                                                        reminded_at__isnull=True).exists():
                continue
            notify_many([{"user_ids": _responsible(routine), "topic": "routine.reminder",
                          "title": f"明天：{routine.name}",
                          "body": f"{routine.unit.name} · {tomorrow.month}月{tomorrow.day}日 · "
                                  f"{RoutineKind(routine.kind).label}",
                          "link": _LINKS.get(occurrence.object_type, "/"),
                          "dedupe_key": f"routine:{occurrence.pk}:remind"}], now=now)
            RoutineOccurrence.objects.filter(pk=occurrence.pk).update(reminded_at=now)
        sent += 1
    return sent
