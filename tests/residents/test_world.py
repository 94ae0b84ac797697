from __future__ import annotations

import io

import pytest

from gridgov.residents import idnumber, protected
from gridgov.residents.models import Household, HouseholdAssignment, Resident, TagAssignment
from gridgov.residents.world import seed_world_step
from gridgov.units.models import Unit
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_seed_world_step_fills_each_grid_to_its_estimate(world):
    Unit.dangerously_unscoped.filter(pk=world.grid_a1.pk).update(household_estimate=300)
    Unit.dangerously_unscoped.filter(pk=world.grid_a2.pk).update(household_estimate=58)
    Unit.dangerously_unscoped.filter(pk=world.grid_c1.pk).update(
        household_estimate=10
    )  # another township: not under root
    out = io.StringIO()
    seed_world_step(seed=1, now=T0, root=world.township, stdout=out)
    assert Household.dangerously_unscoped.filter(unit=world.grid_a1).count() == 300
    assert Household.dangerously_unscoped.filter(unit=world.grid_a2).count() == 58
    assert not Household.dangerously_unscoped.filter(unit=world.grid_c1).exists()
    assert "新建 358 户" in out.getvalue()
    residents = list(Resident.dangerously_unscoped.filter(household__unit__in=[world.grid_a1, world.grid_a2]))
    assert 2.2 < len(residents) / 358 < 3.6
    today = T0.date()
    for r in residents[:200]:
        number = protected.reveal_id(r.id_cipher)
        info = idnumber.parse(number, today=today)
        assert (info.birth_date, info.gender) == (r.birth_date, r.gender)
        assert number.startswith("140225")
    assert len({r.id_index for r in residents}) == len(residents)
    heads = Resident.dangerously_unscoped.filter(household__unit=world.grid_a1, relation="head").count()
    assert heads == 300
    tagged = {
        t.household_id or t.resident.household_id for t in TagAssignment.dangerously_unscoped.select_related("resident")
    }
    assert 0.04 < len(tagged) / 358 < 0.14  # about 8%
    assert Resident.dangerously_unscoped.filter(residency="away").exists()
    assert (
        TagAssignment.dangerously_unscoped.filter(tag__code="left_behind_child").exists()
        or TagAssignment.dangerously_unscoped.filter(tag__code="left_behind_elder").exists()
    )
    assert HouseholdAssignment.dangerously_unscoped.filter(kind="grid_worker", user=world.wang_fang).count() == 300
    # inside the grid's boundary
    h = Household.dangerously_unscoped.filter(unit=world.grid_a1).first()
    assert 39.0 <= h.lat <= 39.1 and 113.0 <= h.lng <= 113.1
    # idempotent: a second run creates nothing more
    seed_world_step(seed=1, now=T0, root=world.township, stdout=io.StringIO())
    assert Household.dangerously_unscoped.filter(unit=world.grid_a1).count() == 300


def test_seed_world_step_places_households_inside_the_boundary_the_grid_has_now(world):
    """A grid whose boundary changed between two runs (or a later world whose grid reuses a pk) gets
    households inside its present boundary, never inside one remembered from before."""
    Unit.dangerously_unscoped.filter(pk=world.grid_a1.pk).update(household_estimate=5)
    seed_world_step(seed=1, now=T0, root=world.village, stdout=io.StringIO())
    first = set(Household.dangerously_unscoped.filter(unit=world.grid_a1).values_list("pk", flat=True))
    assert len(first) == 5
    # The grid is moved 10 degrees south, as a later world's grid with the same pk may lie, and wants 5 more.
    moved = {
        "type": "Polygon",
        "coordinates": [[[113.0, 29.0], [113.1, 29.0], [113.1, 29.1], [113.0, 29.1], [113.0, 29.0]]],
    }
    Unit.dangerously_unscoped.filter(pk=world.grid_a1.pk).update(boundary=moved, household_estimate=10)
    seed_world_step(seed=1, now=T0, root=Unit.dangerously_unscoped.get(pk=world.village.pk), stdout=io.StringIO())
    points = list(
        Household.dangerously_unscoped.filter(unit=world.grid_a1).exclude(pk__in=first).values_list("lat", "lng")
    )
    assert len(points) == 5
    assert all(29.0 <= lat <= 29.1 and 113.0 <= lng <= 113.1 for lat, lng in points), points
