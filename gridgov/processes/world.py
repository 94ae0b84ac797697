"""World generator step: the seeds' routines (例行工作) for the demo township, then their first occurrences.

- 支部说事日 on the 10th of each month in each village (seed 002);
- 五个到户敲门行动 on the 12th, after 主题党日, in each village, three days (001); 周五说事 in the first villages (001);
- monthly meetings (003) as duty lists until the meetings app exists: 网格例会 from each village to its grids,
  村（社区）例会 from the township to its villages, 乡镇网格工作例会 from the county to its townships;
- 集中走访 each quarter at the township, a week long (003: at least four a year);
- 季度工作通报 each quarter from the township to its villages (004), also a duty list.
Each routine is made by routine_create as the unit's secretary or office (audited); the runner then creates
what falls within its lead time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO

from gridgov.access.models import Grant
from gridgov.core.clock import local
from gridgov.units.models import Unit

from . import routines
from .models import Routine

TOWNSHIP_BASES = ("township", "subdistrict")
VILLAGE_BASES = ("village", "community")
MAX_VILLAGES = 12


def _holder(unit: Unit, role: str) -> Any:
    grant = (Grant.dangerously_unscoped.filter(unit=unit, revoked_at__isnull=True, role__code=role)
             .select_related("user").order_by("id").first())
    return grant.user if grant is not None else None


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    if Routine.dangerously_unscoped.filter(unit_path__startswith=root.path).exists():
        stdout.write("routines: already present under this root, skipped\n")
        return
    township = (Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base__in=TOWNSHIP_BASES,
                                                 is_active=True)
                .order_by("depth", "sort_order", "id").first())
    if township is None:
        stdout.write("routines: no township under this root, skipped\n")
        return
    start = local(now).date().replace(day=1)
    made = 0

    def make(unit: Unit, owner: Any, kind: str, name: str, preset: str, day: Any, span: int = 1,
             description: str = "") -> None:
        nonlocal made
        if owner is None:
            return
        routines.routine_create(actor=owner, now=now, unit_id=unit.pk, kind=kind, name=name,
                                rule=routines.preset_rule(preset, day), starts_on=start, span_days=span,
                                description=description)
        made += 1

    villages = list(Unit.dangerously_unscoped.filter(path__startswith=township.path, kind__base__in=VILLAGE_BASES,
                                         is_active=True).order_by("sort_order", "id")[:MAX_VILLAGES])
    for i, village in enumerate(villages):
        secretary = _holder(village, "village_secretary")
        make(village, secretary, "talk_day", "支部说事日", "monthly", 10)
        make(village, secretary, "visit_campaign", "五个到户敲门行动", "monthly", 12, span=3)
        if i < 2:
            make(village, secretary, "talk_day", "周五说事", "weekly", 4)
        if Unit.dangerously_unscoped.filter(parent=village, is_active=True).exists():
            make(village, secretary, "duty_list", "网格例会", "monthly", 5, span=3,
                 description="召开本月网格例会，上传会议记录和签到表。")
    office = _holder(township, "township_office")
    make(township, office, "duty_list", "村（社区）例会", "monthly", 25, span=3,
         description="召开本月村（社区）网格工作例会，上传会议记录。")
    make(township, office, "visit_campaign", "集中走访", "quarterly", 15, span=7)
    make(township, office, "duty_list", "季度工作通报", "quarterly", 1, span=10,
         description="组织学习本季度网格工作通报，整改通报指出的问题并上报。")
    county = township.parent if township.parent is not None else None
    if county is not None:
        make(county, _holder(county, "county_office"), "duty_list", "乡镇网格工作例会", "monthly", 28, span=3,
             description="召开本月乡镇网格工作例会，上传会议记录。")
    report = routines.routines_run(now=now)
    stdout.write(f"routines: {made} routines in {township.name}, {report.created} occurrences created"
                 f"{f', {report.failed} refused' if report.failed else ''}\n")
