"""World generator step: a realistic visit history (走访日志) for a preset or sized world.

- The county's must-visit rules (五必访) from the key-group catalogue's suggested cadences.
- A visit campaign (集中走访) per township for the last quarter and the current one (four a year).
- About HISTORY_DAYS of visits by each household's grid worker: must-visit households roughly on
  their cadence (most on time, some late, a few forgotten), the others on the monthly door-knocking
  now and then; mostly at the door, some by phone or video, campaign visits inside the campaigns.
  Notes are sealed like the service seals them; a few visits found a problem (no case is raised here:
  the cases step writes its own history).

Rows are written with copy_insert (PostgreSQL COPY; bulk_create elsewhere). seed_world calls
`seed_world_step` by dotted path after the residents and cases steps.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import TextIO

from django.db import transaction

from gridgov.access.models import Grant
from gridgov.audit.services import audit_record
from gridgov.core import fieldcrypto
from gridgov.core.bulkload import copy_insert
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.residents.models import (
    AssignmentKind,
    Household,
    HouseholdAssignment,
    HouseholdStatus,
    ResidentStatus,
    Tag,
    TagAssignment,
)
from gridgov.units.models import Unit

from .models import Visit, VisitCampaign, VisitKind, VisitRule
from .services import NOTES_PURPOSE

HISTORY_DAYS = 90
# seed_world loads this table, when it starts empty on PostgreSQL, without its secondary indexes and
# foreign keys and rebuilds them after the step (gridgov.core.bulkload.without_indexes).
BULK_MODELS = (Visit,)
BATCH = 5000
ON_TIME_SHARE = 0.8  # of must-visit households, visited within their cadence
FORGOTTEN_SHARE = 0.05  # not visited at all in the history window
ROUTINE_PER_MONTH = 0.35  # other households: chance of a visit per month (monthly door-knocking, 敲门行动)

NOTES = (
    "老人身体还可以，血压偏高，叮嘱按时吃药。",
    "家里人都在外打工，老人一个人在家，生活能自理。",
    "低保金按时到账，反映冬季取暖费用压力大。",
    "孩子上学正常，爷爷奶奶照看，学习有些跟不上。",
    "询问医保报销政策，已讲解并留了村卫生室电话。",
    "房屋老旧，雨天屋顶漏水，已记录待处理。",
    "家中无异常，宣传了防诈骗和森林防火知识。",
    "反映村道路灯不亮，晚上出行不便。",
    "慢性病长期服药，药费负担重，建议申请大病救助。",
    "邻里关系和睦，对村里工作满意。",
    "电话联系了在外务工的子女，说明老人近况。",
    "残疾证年审材料已帮助准备齐全。",
)
PROBLEM_NOTES = {5, 7, 8}  # the notes above that report a problem


def _county(root: Unit) -> Unit:
    ids = root.ancestor_ids()
    top = Unit.dangerously_unscoped.filter(pk__in=ids).order_by("depth").first() if ids else None
    return top or root


def _rules(county: Unit, now: dt.datetime) -> dict[int, int]:
    """The rules at the county (from the catalogue unless some exist already): tag id → cadence."""
    existing = {r.tag_id: r.cadence_days for r in VisitRule.dangerously_unscoped.filter(unit=county, is_active=True)}
    if existing:
        return existing
    made = [VisitRule(unit=county, unit_path=county.path, tag=t, cadence_days=t.visit_cadence_days or 30,
                      created_at=now, updated_at=now)
            for t in Tag.objects.filter(is_active=True, visit_cadence_days__isnull=False)]
    VisitRule.dangerously_unscoped.bulk_create(made)
    return {r.tag_id: r.cadence_days for r in made}


def _quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    nxt = dt.date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return start, nxt - dt.timedelta(days=1)


def _campaigns(root: Unit, today: dt.date, start: dt.date, now: dt.datetime) -> list[VisitCampaign]:
    """The campaigns of this quarter and the last that fall inside the history window."""
    townships = list(Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base__in=["township",
                                                                                                  "subdistrict"],
                                          is_active=True))
    if not townships:
        townships = [root]
    current = _quarter(today)
    previous = _quarter(current[0] - dt.timedelta(days=1))
    made = []
    for t in townships:
        grant = (Grant.dangerously_unscoped.filter(unit=t, revoked_at__isnull=True,
                                                   role__code="township_office").first()
                 or Grant.dangerously_unscoped.filter(unit__path__startswith=t.path, revoked_at__isnull=True)
                 .order_by("unit__depth").first())
        if grant is None:
            continue
        organiser = grant.user_id
        for start, end in (previous, current):
            # The campaign runs the first three weeks of its quarter.
            c_end = min(end, start + dt.timedelta(days=20))
            name = f"{start.year}年第{(start.month - 1) // 3 + 1}季度集中走访"
            made.append(VisitCampaign(unit=t, unit_path=t.path, name=name, starts_on=start, ends_on=c_end,
                                      covers=VisitCampaign.Covers.ALL, created_by_id=organiser,
                                      created_at=dt.datetime.combine(start, dt.time(9), tzinfo=LOCAL_TZ)
                                      if start <= today else now))
    made = [c for c in made if start <= c.starts_on <= today]
    VisitCampaign.dangerously_unscoped.bulk_create(made)
    return made


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    if Visit.dangerously_unscoped.filter(unit_path__startswith=root.path).exists():
        stdout.write("visits: already present under this root, skipped\n")
        return
    rng = random.Random(f"{seed}:visits:{root.pk}")
    today = local(now).date()
    start = today - dt.timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        county = _county(root)
        rules = _rules(county, now)
        campaigns = _campaigns(root, today, start, now)
        count = _visits(rng, root=root, now=now, today=today, start=start, rules=rules, campaigns=campaigns)
        audit_record(action="visit.seed", actor=None, now=now, unit_path=root.path, role="system",
                     detail={"visits": count, "campaigns": len(campaigns), "rules": len(rules)})
    stdout.write(f"走访：{count} 条走访记录，{len(campaigns)} 次集中走访，{len(rules)} 条五必访规则（{root.name}）。\n")


def _visits(rng: random.Random, *, root: Unit, now: dt.datetime, today: dt.date, start: dt.date,
            rules: dict[int, int], campaigns: list[VisitCampaign]) -> int:
    households = list(Household.dangerously_unscoped.filter(unit__path__startswith=root.path,
                                                            status=HouseholdStatus.ACTIVE)
                      .values_list("pk", "unit_id", "unit__path", "lat", "lng").order_by("pk"))
    if not households:
        return 0
    worker = dict(HouseholdAssignment.dangerously_unscoped.filter(
        household__unit__path__startswith=root.path, kind=AssignmentKind.GRID_WORKER, ended_at__isnull=True)
        .values_list("household_id", "user_id"))
    cadence: dict[int, int] = {}
    on = TagAssignment.dangerously_unscoped.filter(tag_id__in=list(rules), end_date__isnull=True)
    for tag_id, hid in on.filter(household__unit__path__startswith=root.path).values_list("tag_id", "household_id"):
        cadence[hid] = min(cadence.get(hid, 999), rules[tag_id])
    for tag_id, hid in on.filter(resident__household__unit__path__startswith=root.path,
                                 resident__status=ResidentStatus.ACTIVE).values_list(
            "tag_id", "resident__household_id"):
        cadence[hid] = min(cadence.get(hid, 999), rules[tag_id])
    campaign_by_path: dict[str, list[VisitCampaign]] = defaultdict(list)
    for c in campaigns:
        campaign_by_path[c.unit_path].append(c)
    sealed = [fieldcrypto.encrypt(n, purpose=NOTES_PURPOSE) for n in NOTES]
    rows: list[Visit] = []
    total = 0
    for hid, unit_id, path, lat, lng in households:
        visitor = worker.get(hid)
        if visitor is None:
            continue
        days = _visit_days(rng, today=today, start=start, cadence=cadence.get(hid))
        mine = [c for p, cs in campaign_by_path.items() if path.startswith(p) for c in cs]
        for c in mine:
            # Most households are visited during each campaign (progress ~85–95%).
            if rng.random() < 0.9 and c.starts_on <= today:
                last = min(c.ends_on, today)
                span = (last - c.starts_on).days
                days.append((c.starts_on + dt.timedelta(days=rng.randint(0, max(span, 0))), c))
        for day, campaign in sorted(days, key=lambda x: x[0]):
            moment = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=LOCAL_TZ)
            if moment > now:
                continue
            if campaign is not None:
                kind = VisitKind.CAMPAIGN
            else:
                kind = rng.choices([VisitKind.HOME, VisitKind.PHONE, VisitKind.VIDEO], weights=[78, 18, 4])[0]
            note = rng.randrange(len(NOTES))
            near = (lat, lng) if lat is not None and lng is not None and rng.random() < 0.7 else None
            if kind not in (VisitKind.HOME, VisitKind.CAMPAIGN):
                near = None
            rows.append(Visit(
                household_id=hid, unit_id=unit_id, unit_path=path, visitor_id=visitor, visited_at=moment, kind=kind,
                campaign=campaign, notes_cipher=sealed[note], notes_length=len(NOTES[note]),
                lat=round(near[0] + rng.uniform(-0.0002, 0.0002), 6) if near else None,
                lng=round(near[1] + rng.uniform(-0.0002, 0.0002), 6) if near else None,
                problem_found=note in PROBLEM_NOTES, created_at=moment,
            ))
        if len(rows) >= BATCH:
            copy_insert(Visit, rows)
            total += len(rows)
            rows = []
    copy_insert(Visit, rows)
    return total + len(rows)


def _visit_days(rng: random.Random, *, today: dt.date, start: dt.date,
                cadence: int | None) -> list[tuple[dt.date, VisitCampaign | None]]:
    days: list[tuple[dt.date, VisitCampaign | None]] = []
    if cadence is None:
        month = start
        while month <= today:
            if rng.random() < ROUTINE_PER_MONTH:
                days.append((month + dt.timedelta(days=rng.randint(0, 29)), None))
            month += dt.timedelta(days=30)
        return [(d, c) for d, c in days if d <= today]
    if rng.random() < FORGOTTEN_SHARE:
        return days
    on_time = rng.random() < ON_TIME_SHARE
    day = start + dt.timedelta(days=rng.randint(0, cadence))
    while day <= today:
        days.append((day, None))
        gap = rng.randint(max(1, cadence - 3), cadence) if on_time else rng.randint(cadence, cadence * 2)
        day += dt.timedelta(days=gap)
    # A household kept on time has had its last visit within its cadence of today.
    if on_time and days and (today - days[-1][0]).days > cadence:
        days.append((today - dt.timedelta(days=rng.randint(0, cadence)), None))
    return days
