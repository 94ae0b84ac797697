"""seed_world reproduces the five reference systems' numbers (DESIGN.md, ../shared/seeds/)."""

from __future__ import annotations

import io
import random
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from faker import Faker
from shapely.strtree import STRtree

from gridgov.access.models import Department, Grant, User
from gridgov.access.roles import CITY_ROLES, ROLE_DEFS
from gridgov.access.scope import scope_for
from gridgov.access.world import DEMO_PASSWORD, DEMO_USERNAMES, demo_accounts, plan_staff
from gridgov.geo.geometry import parse_boundary
from gridgov.units import locate
from gridgov.units.models import LevelName, Unit
from gridgov.units.world import PRESETS, plan_preset

pytestmark = pytest.mark.django_db

WORKER_ROLES = ("grid_worker_full", "grid_worker_part")


def seed(preset: str, seed: int = 1) -> str:
    out = io.StringIO()
    call_command("seed_world", preset=preset, seed=seed, units_only=True, stdout=out)
    locate.invalidate()
    return out.getvalue()


def units(kind: str | None = None, **kw: object) -> list[Unit]:
    qs = Unit.dangerously_unscoped.select_related("kind").filter(**kw)
    if kind:
        qs = qs.filter(kind__code=kind)
    return list(qs)


def leaves() -> list[Unit]:
    parents = set(Unit.dangerously_unscoped.exclude(parent=None).values_list("parent_id", flat=True))
    return [u for u in Unit.dangerously_unscoped.all() if u.pk not in parents]


def grants(*roles: str) -> list[Grant]:
    return list(Grant.dangerously_unscoped.filter(role__code__in=roles).select_related("unit", "user", "role"))


def level_names(unit: Unit) -> dict[int, str]:
    return dict(LevelName.objects.filter(root=unit).values_list("level", "name"))


def test_wucheng_three_levels_and_staff():
    seed("wucheng")
    (county,) = units("county")
    (town,) = units("township")
    assert (county.name, county.division_code) == ("浑源县", "140225000000")
    assert (town.name, town.division_code, town.grid_level) == ("吴城乡", "140225210000", 1)
    assert level_names(town) == {1: "一级网格", 2: "二级网格", 3: "三级网格"}
    villages = units("village")
    grids = units("grid")
    assert len(villages) == 10 and all(v.grid_level == 2 and v.parent_id == town.pk for v in villages)
    assert len(grids) == 35 and all(g.grid_level == 3 and g.parent.kind.code == "village" for g in grids)
    assert sum(g.household_estimate or 0 for g in grids) == 3454
    assert {u.pk for u in leaves()} == {g.pk for g in grids}
    heads = grants("grid_head")
    assert len(heads) == 10 and len({g.user_id for g in heads}) == 10
    assert {g.unit_id for g in heads} == {v.pk for v in villages}
    workers = grants(*WORKER_ROLES)
    assert len(workers) == 105 and len({g.user_id for g in workers}) == 105
    assert Counter(g.unit_id for g in workers) == dict.fromkeys((g.pk for g in grids), 3)
    # The grid map shows a grid's themes (多网合一) and every grid lies in the township.
    assert all(set(g.themes.values_list("code", flat=True)) >= {"party_building", "public_safety"} for g in grids)


def test_suoxiyu_grid_types_and_red_micro_grids():
    seed("suoxiyu")
    (street,) = units("subdistrict")
    assert street.name == "索溪峪街道"
    assert len(units("community")) == 5 and len(units("village")) == 4
    grids = [u for u in units() if u.kind.base == "grid"]
    assert len(grids) == 176
    assert {g.grid_type for g in grids} == {"hamlet", "residential", "institution", "scenic"}
    hamlets = units("hamlet_grid")
    assert hamlets and all(h.kind.name == "屋场网格" and h.grid_type == "hamlet" for h in hamlets)
    # 9 村社区均有屋场网格; each 屋场网格 has 2 to 3 red micro-grids.
    assert len({h.parent_id for h in hamlets}) == 9
    micro = units("red_micro_grid")
    assert len(micro) == 357
    per_hamlet = Counter(m.parent_id for m in micro)
    assert set(per_hamlet) == {h.pk for h in hamlets} and set(per_hamlet.values()) <= {2, 3}
    # One party member heads each red micro-grid, linking about 10 households.
    heads = grants("grid_head")
    assert sorted(g.unit_id for g in heads) == sorted(m.pk for m in micro)
    assert all(g.title == "党员网格长" for g in heads)
    assert all(8 <= (m.household_estimate or 0) <= 13 for m in micro)


def test_wangdian_330_grids_470_workers():
    seed("wangdian")
    (town,) = units("township")
    assert (town.name, town.division_code) == ("王店镇", "341202100000")
    assert Unit.dangerously_unscoped.get(depth=0).division_code == "341202000000"
    grids = units("grid")
    assert len(grids) == 330
    workers = grants(*WORKER_ROLES)
    assert len(workers) == 470 and len({g.user_id for g in workers}) == 470
    assert all(
        set(g.themes.values_list("code", flat=True))
        == {"party_building", "public_safety", "civil_affairs", "relapse_monitoring", "rural_revitalisation"}
        for g in grids
    )


def test_plan2024_dual_grids():
    seed("plan2024")
    areas = units("area")
    assert len(areas) == 8 and all(a.grid_level == 2 and a.parent.kind.code == "township" for a in areas)
    villages = units("village")
    assert all(v.parent.kind.code == "area" for v in villages)
    per_village = Counter(g.parent.name for g in units("grid"))
    assert {v: n for v, n in per_village.items() if n != 1} == {"五都村": 2, "石门村": 2, "王村": 2}
    assert set(per_village) == {v.name for v in villages}
    for grid in units("grid"):
        assert 180 <= (grid.household_estimate or 0) <= 220
        # A service team of at least 5 per responsibility grid.
        assert Grant.dangerously_unscoped.filter(unit=grid).count() >= 5
    assert len(grants("area_head")) == 8


def test_xilujiao_1_6_23_n():
    seed("xilujiao")
    (village,) = units("village")
    assert village.name == "西鹿角村" and village.grid_level == 1
    assert level_names(village) == {1: "总网格", 2: "片区", 3: "网格", 4: "微网格"}
    (chief,) = grants("chief_grid_head")
    assert chief.unit_id == village.pk
    areas = units("area")
    assert len(areas) == 6 and {g.unit_id for g in grants("area_head")} == {a.pk for a in areas}
    grids = units("grid")
    assert len(grids) == 23 and all(g.parent.kind.code == "area" for g in grids)
    micro = units("micro_grid")
    assert len(micro) >= 2 * 23 and {m.parent_id for m in micro} == {g.pk for g in grids}
    households = Counter()
    for m in micro:
        households[m.parent_id] += m.household_estimate or 0
    assert sum(households.values()) == 23 * 58
    assert all(45 <= n <= 72 for n in households.values())
    workers = grants(*WORKER_ROLES)
    assert sorted(g.unit_id for g in workers) == sorted(g.pk for g in grids)
    titles = Counter(g.title for g in workers)
    assert (titles["协管员"], titles["创城、接诉即办专员"], titles["村委会后勤人员"]) == (7, 5, 8)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_has_a_demo_account_per_role_and_departments(preset):
    seed(preset)
    accounts = demo_accounts()
    assert {a.role_code for a in accounts} == {r.code for r in ROLE_DEFS} - CITY_ROLES
    assert {a.username for a in accounts} <= set(DEMO_USERNAMES.values())
    assert all(a.password == DEMO_PASSWORD for a in accounts)
    # Each role's own account is used wherever one person does not hold two roles.
    assert sum(DEMO_USERNAMES[a.role_code] == a.username for a in accounts) >= len(ROLE_DEFS) - len(CITY_ROLES) - 1
    user = User.objects.get(username="township")
    assert user.check_password(DEMO_PASSWORD)
    town = Unit.dangerously_unscoped.get(kind__base__in=("township", "subdistrict"))
    names = set(Department.dangerously_unscoped.filter(unit=town).values_list("name", flat=True))
    assert {f"{town.name}{d}" for d in ("派出所", "国土所", "民政办", "司法所", "综合执法队", "卫生院")} <= names
    assert all(g.department_id for g in grants("department_handler"))
    # Staff have work phones (shown on grid boards).
    assert not User.objects.filter(grants__isnull=False, work_phone="").exists()
    # Every deepest unit has a household estimate for the residents generator.
    assert all(u.household_estimate is not None for u in leaves())


@pytest.mark.parametrize("preset", PRESETS)
def test_boundaries_nest_do_not_overlap_and_locate_the_right_grid(preset):
    seed(preset)
    all_units = units()
    shapes = {u.pk: parse_boundary(u.boundary) for u in all_units}
    assert len(shapes) == len(all_units)
    children: dict[int, list[int]] = {}
    for u in all_units:
        if u.parent_id is not None:
            assert shapes[u.pk].within(shapes[u.parent_id]), u.name
            children.setdefault(u.parent_id, []).append(u.pk)
    for kids in children.values():
        if len(kids) > 40:
            tree = STRtree([shapes[k] for k in kids])
            for i, k in enumerate(kids):
                hits = [int(j) for j in tree.query(shapes[k], predicate="intersects")]
                assert hits == [i]
        else:
            for a, b in combinations(kids, 2):
                assert not shapes[a].intersects(shapes[b])
    for leaf in random.Random(0).sample(leaves(), 10):
        point = shapes[leaf.pk].representative_point()
        assert locate.unit_id_at(point.y, point.x) == leaf.pk
        assert 3 < point.y < 54 and 73 < point.x < 136  # inside China


def test_township_office_sees_the_wucheng_tree():
    seed("wucheng")
    scope = scope_for(User.objects.get(username="township"))
    visible = Unit.objects.within(scope)
    assert visible.filter(kind__code="village").count() == 10
    assert visible.filter(kind__code="grid").count() == 35
    assert not visible.filter(kind__code="county").exists()


@pytest.mark.parametrize("preset", PRESETS)
def test_a_seed_gives_the_same_world(preset):
    def plan(seed: int):  # type: ignore[no-untyped-def]
        rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        world = plan_preset(preset, rng)
        return world, plan_staff(world, rng, fake)

    assert plan(5) == plan(5)
    other, other_staff = plan(6)
    world, staff = plan(5)
    assert [p.full_name for p in staff.people] != [p.full_name for p in other_staff.people]
    assert [n.boundary for n in world.nodes] != [n.boundary for n in other.nodes]


def unit_rows() -> list[tuple]:
    fields = ("name", "serial", "household_estimate", "boundary")
    return list(Unit.dangerously_unscoped.order_by("depth", "parent__sort_order", "sort_order").values_list(*fields))


def test_seeding_twice_with_the_same_seed_writes_the_same_names():
    seed("wucheng", seed=3)
    first = unit_rows()
    people = list(User.objects.order_by("username").values_list("username", "full_name", "work_phone"))
    Grant.dangerously_unscoped.all().delete()
    Department.dangerously_unscoped.all().delete()
    User.objects.all().delete()
    LevelName.objects.all().delete()
    for depth in sorted(set(Unit.dangerously_unscoped.values_list("depth", flat=True)), reverse=True):
        for u in Unit.dangerously_unscoped.filter(depth=depth):
            u.events.all().delete()
            u.delete()
    seed("wucheng", seed=3)
    assert unit_rows() == first
    assert list(User.objects.order_by("username").values_list("username", "full_name", "work_phone")) == people


def test_if_empty_keeps_an_existing_world_and_refuses_without_it():
    seed("wucheng")
    count = Unit.dangerously_unscoped.count()
    out = io.StringIO()
    call_command("seed_world", preset="suoxiyu", if_empty=True, stdout=out)
    assert "跳过" in out.getvalue() and Unit.dangerously_unscoped.count() == count
    with pytest.raises(CommandError, match="已有单位"):
        call_command("seed_world", preset="suoxiyu", stdout=io.StringIO())


def test_demo_accounts_prints_every_role():
    seed("wucheng")
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for username in DEMO_USERNAMES.values():
        assert f"\n{username} " in text
    assert len(text.strip().splitlines()) == 2 + len(DEMO_USERNAMES)
    assert "乡镇网格办" in text and DEMO_PASSWORD in text


def test_readme_lists_the_demo_accounts_of_make_demo():
    seed("wucheng", seed=1)
    out = io.StringIO()
    call_command("demo_accounts", markdown=True, stdout=out)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- demo-accounts:begin")[1].split("<!-- demo-accounts:end -->")[0]
    assert block.split("-->", 1)[1].strip() == out.getvalue().strip()
