"""Generated sizes: S is one township (15k households, 200 grids, 180 staff), M a county (14 townships,
~210 villages, 2,600 grids, 2,500 staff); later generators run after the hierarchy and staff."""

from __future__ import annotations

import io
import random
import sys
import types
from collections import Counter

import pytest
from django.core.management import call_command
from faker import Faker

from gridgov.access.models import Grant, User
from gridgov.access.roles import CITY_ROLES, ROLE_DEFS
from gridgov.access.world import DEMO_USERNAMES, demo_accounts, plan_staff
from gridgov.interfaces.jobs.management.commands import seed_world as seed_world_command
from gridgov.units.divisions import townships
from gridgov.units.models import Unit
from gridgov.units.world import plan_size

pytestmark = pytest.mark.django_db


def test_size_s_is_one_township():
    call_command("seed_world", size="S", seed=4, stdout=io.StringIO())
    (county,) = Unit.dangerously_unscoped.filter(kind__code="county")
    (town,) = Unit.dangerously_unscoped.filter(kind__base__in=("township", "subdistrict"))
    real = {t.full_code: t.name for t in townships(county.division_code[:6])}
    assert real[town.division_code] == town.name
    grids = Unit.dangerously_unscoped.filter(kind__code="grid")
    assert grids.count() == 200
    assert sum(grids.values_list("household_estimate", flat=True)) == 15_000
    assert User.objects.filter(grants__isnull=False).distinct().count() == 180
    # A grid worker who looks after two grids keeps them in one village.
    for user_id, n in Counter(
        Grant.dangerously_unscoped.filter(role__field_worker=True).values_list("user_id", flat=True)
    ).items():
        if n > 1:
            villages = set(Grant.dangerously_unscoped.filter(user_id=user_id).values_list("unit__parent_id", flat=True))
            assert len(villages) == 1
    assert not Unit.dangerously_unscoped.filter(kind__code="grid", grants__isnull=True).exists()
    assert {a.role_code for a in demo_accounts()} == {r.code for r in ROLE_DEFS} - CITY_ROLES
    # Demo accounts below the county all work in the township.
    demo = Grant.dangerously_unscoped.filter(user__username__in=DEMO_USERNAMES.values()).exclude(unit=county)
    assert demo.exists() and all(g.unit.path.startswith(town.path) for g in demo.select_related("unit"))


def test_size_s_plan_is_deterministic():
    def plan(seed: int):  # type: ignore[no-untyped-def]
        rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        world = plan_size("S", rng)
        return world, plan_staff(world, rng, fake)

    assert plan(3) == plan(3)
    assert plan(3)[0].nodes[1].name != plan(4)[0].nodes[1].name or plan(3) != plan(4)


def test_size_m_plan_numbers():
    rng = random.Random(2)
    fake = Faker("zh_CN")
    fake.seed_instance(2)
    plan = plan_size("M", rng)
    kinds = Counter(n.kind for n in plan.nodes)
    assert kinds["county"] == 1
    assert kinds["township"] + kinds["subdistrict"] == 14
    assert kinds["village"] + kinds["community"] == 210
    assert kinds["grid"] == 2600
    assert sum(n.household_estimate or 0 for n in plan.leaves()) == 190_000
    staff = plan_staff(plan, rng, fake)
    assert len(staff.people) == 2500
    assert len({p.username for p in staff.people}) == 2500
    # Real township names and 12-digit codes of the chosen county.
    (county,) = plan.roots()
    assert county.division_code is not None and county.division_code.endswith("000000")
    real = {t.full_code: t.name for t in townships(county.division_code[:6])}
    towns = [n for n in plan.nodes if n.kind in ("township", "subdistrict")]
    assert all(real[t.division_code] == t.name for t in towns if t.division_code)


def test_later_steps_run_in_order_after_units_and_staff(monkeypatch):
    calls: list[tuple[str, dict]] = []

    def make(name: str):  # type: ignore[no-untyped-def]
        def step(*, seed, now, root, stdout):  # type: ignore[no-untyped-def]
            # Staff and units are there when a step runs.
            assert User.objects.filter(username="worker").exists()
            calls.append((name, {"seed": seed, "root": root.name, "aware": now.tzinfo is not None}))
        return step

    for name in ("residents_fake", "cases_fake"):
        module = types.ModuleType(f"tests_world_{name}")
        module.seed_world_step = make(name)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(seed_world_command, "STEPS", (
        "tests_world_residents_fake.seed_world_step",
        "tests_world_cases_fake.seed_world_step",
    ))
    call_command("seed_world", preset="wucheng", seed=9, stdout=io.StringIO())
    assert calls == [
        ("residents_fake", {"seed": 9, "root": "浑源县", "aware": True}),
        ("cases_fake", {"seed": 9, "root": "浑源县", "aware": True}),
    ]
