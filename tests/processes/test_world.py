"""The demo world's routines (processes/world.py) on the named test world."""

from __future__ import annotations

import io

import pytest

from gridgov.processes import routines
from gridgov.processes.models import Routine, RoutineOccurrence
from gridgov.processes.world import seed_world_step
from tests.processes.test_routines import NOW

pytestmark = pytest.mark.django_db


def test_the_seeds_routines_are_in_the_demo_world(world):
    out = io.StringIO()
    seed_world_step(seed=1, now=NOW, root=world.county, stdout=out)
    made = {(r.unit.name,
             r.name): routines.describe(r.rule) for r in Routine.dangerously_unscoped.select_related("unit")}
    assert made[("吴城村", "支部说事日")] == "每月10日"
    assert made[("吴城村", "五个到户敲门行动")] == "每月12日"
    assert made[("吴城村", "周五说事")] == "每周五"
    assert made[("吴城村", "网格例会")] == "每月5日"
    assert made[("吴城乡", "村（社区）例会")] == "每月25日"
    assert made[("吴城乡", "集中走访")] == "每季度首月15日"
    assert made[("吴城乡", "季度工作通报")] == "每季度首月1日"
    assert made[("浑源县", "乡镇网格工作例会")] == "每月28日"
    assert "refused" not in out.getvalue()
    # 2 March: within 14 days come the talk day (10th), door-knocking (12th), Fridays 6 and 13, the meeting (5th).
    assert RoutineOccurrence.objects.count() >= 5
    seed_world_step(seed=1, now=NOW, root=world.county, stdout=out)
    assert "already present" in out.getvalue()
