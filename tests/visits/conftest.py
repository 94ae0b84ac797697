"""The visits part of the named world: households in A1 (王芳's grid), A2 (钱多's), B1 and C1 (驼峰乡),
key-group tags on some of them, and the county's must-visit rules (五必访) kept by 陈静."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from gridgov.residents.models import Household, Resident, Tag
from gridgov.residents.tags import tag_assign
from gridgov.visits import services
from gridgov.visits.models import Visit
from tests.residents.conftest import household, make_id
from tests.world import T0, World

# A Monday morning, a fortnight after the world was built (T0 = 2026-03-02 09:00 UTC).
NOW = dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 China time


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class VisitWorld:
    w: World
    a1: Household  # 王伟's: 低保户 (sensitive), since T0
    a1_elder: Household  # 张奶奶 living alone (独居老人, a member's tag), since T0
    a1_plain: Household  # no key group
    a2: Household  # 李梅's in A2: 困难户
    b1: Household
    c1: Household  # in the sibling township
    elder: Resident

    def record(self, actor: Any = None, household: Household | None = None, now: dt.datetime = NOW,
               **kw: Any) -> Visit:
        data: dict[str, Any] = {"kind": "home", "notes": "老人血压偏高，低保金按时到账。"}
        data.update(kw)
        return services.visit_record(actor=actor or self.w.wang_fang, now=now,
                                     household_id=(household or self.a1).pk, **data).visit


def tag_on(code: str, *, household: Household | None = None, resident: Resident | None = None,
           start: dt.date) -> None:
    tag_assign(actor=None, now=T0 + dt.timedelta(days=30), tag_code=code,
                      household_id=household.pk if household else None,
                      resident_id=resident.pk if resident else None, start_date=start)


@pytest.fixture
def vw(world: World) -> VisitWorld:
    a1 = household(world, world.grid_a1, "吴城村一组", "王伟", make_id(dt.date(1975, 4, 12), 31), no="12")
    a1_elder = household(world, world.grid_a1, "吴城村一组", "张桂兰", make_id(dt.date(1940, 3, 3), 42), no="15")
    a1_plain = household(world, world.grid_a1, "吴城村一组", "王伟民", make_id(dt.date(1960, 1, 5), 51), no="14")
    a2 = household(world, world.grid_a2, "吴城村二组", "李梅", make_id(dt.date(1982, 9, 9), 22), no="3")
    b1 = household(world, world.grid_b1, "东坊村", "赵刚", make_id(dt.date(1990, 2, 2), 71), no="8")
    c1 = household(world, world.grid_c1, "驼峰村", "孙强", make_id(dt.date(1970, 7, 7), 91, "140226"), no="1")
    elder = Resident.dangerously_unscoped.get(household=a1_elder)
    start = dt.date(2026, 3, 2)
    tag_on("dibao", household=a1, start=start)
    tag_on("elder_alone", resident=elder, start=start)
    tag_on("hardship", household=a2, start=start)
    tag_on("dibao", household=c1, start=start)
    # The county's rules: 低保户 every 30 days, 独居老人 every 7, 困难户 every 60.
    for code, days in (("dibao", 30), ("elder_alone", 7), ("hardship", 60)):
        services.rule_set(actor=world.chen_jing, now=T0, unit_id=world.county.pk,
                          tag_id=Tag.objects.get(code=code).pk, cadence_days=days)
    return VisitWorld(w=world, a1=a1, a1_elder=a1_elder, a1_plain=a1_plain, a2=a2, b1=b1, c1=c1, elder=elder)
