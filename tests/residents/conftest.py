"""The ledger part of the named world. (The guard that no response shows a full ID number or
phone to a user without resident.unmask covers the whole suite: see the root conftest.py.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from gridgov.residents import idnumber
from gridgov.residents.households import household_create
from gridgov.residents.members import resident_add
from gridgov.residents.models import Household, Resident
from tests.world import T0, World


def make_id(birth: dt.date, seq: int, region: str = "140225") -> str:
    return idnumber.make(region, birth, seq)


@dataclass
class Ledger:
    a1: Household  # 王伟's household in grid A1
    a1_b: Household
    a2: Household
    b1: Household
    c1: Household
    wang_wei: Resident
    wang_wei_id: str
    wang_wei_phone: str
    child: Resident  # 王小宝, 8 years old, in a1


def household(world: World, unit, address: str, head: str, id_number: str, phone: str = "", **kw) -> Household:  # type: ignore[no-untyped-def]
    h = household_create(actor=None, now=T0, unit_id=unit.pk, address=address, house_number=kw.pop("no", ""))
    resident_add(actor=None, now=T0, household_id=h.pk, name=head, id_number=id_number, relation="户主",
                          phone=phone)
    return h


@pytest.fixture
def ledger(world: World) -> Ledger:
    wang_wei_id = make_id(dt.date(1975, 4, 12), 31)
    a1 = household(world, world.grid_a1, "吴城村一组", "王伟", wang_wei_id, "13812345678", no="12")
    child = resident_add(actor=None, now=T0, household_id=a1.pk, name="王小宝",
                                  id_number=make_id(dt.date(2018, 6, 1), 13), relation="孙子女")
    a1_b = household(world, world.grid_a1, "吴城村一组", "王伟民", make_id(dt.date(1960, 1, 5), 51), no="14")
    a2 = household(world, world.grid_a2, "吴城村二组", "李梅", make_id(dt.date(1982, 9, 9), 22), "13900001111",
                   no="3")
    b1 = household(world, world.grid_b1, "东坊村", "赵刚", make_id(dt.date(1990, 2, 2), 71), no="8")
    c1 = household(world, world.grid_c1, "驼峰村", "孙强", make_id(dt.date(1970, 7, 7), 91, "140226"), no="1")
    wang_wei = Resident.dangerously_unscoped.get(household=a1, name="王伟")
    a1.refresh_from_db()
    return Ledger(a1=a1, a1_b=a1_b, a2=a2, b1=b1, c1=c1, wang_wei=wang_wei, wang_wei_id=wang_wei_id,
                  wang_wei_phone="13812345678", child=child)
