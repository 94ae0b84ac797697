"""copy_insert writes the rows bulk_create would (COPY on PostgreSQL, bulk_create elsewhere): primary
keys come back on the instances, children built before their parent had a key still point at it,
JSON and choices survive, and nothing is written twice."""

from __future__ import annotations

import pytest

from gridgov.core.bulkload import copy_insert
from gridgov.residents.models import Household, HouseholdEvent
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_copy_insert_sets_keys_and_keeps_values(world):  # type: ignore[no-untyped-def]
    households = [Household(unit=world.grid_a1, address=f"吴城村{i}号", house_number=str(i), lat=39.7, lng=113.7,
                            created_at=T0, updated_at=T0) for i in range(3)]
    # Built before the households have keys: copy_insert resolves them from the cached parent.
    events = [HouseholdEvent(household=h, action=HouseholdEvent.Action.CREATED, at=T0, changes={"来源": "seed"})
              for h in households]
    before = Household.dangerously_unscoped.count()
    copy_insert(Household, households)
    assert all(h.pk for h in households) and len({h.pk for h in households}) == 3
    assert Household.dangerously_unscoped.count() == before + 3
    copy_insert(HouseholdEvent, events)
    for h, e in zip(households, events, strict=True):
        row = Household.dangerously_unscoped.get(pk=h.pk)
        assert (row.address, row.house_number, row.unit_id, row.status, row.version) == (
            h.address, h.house_number, world.grid_a1.pk, "active", 1)
        saved = HouseholdEvent.dangerously_unscoped.get(pk=e.pk)
        assert saved.household_id == h.pk and saved.changes == {"来源": "seed"} and saved.action == "created"
    copy_insert(Household, [])
    assert Household.dangerously_unscoped.count() == before + 3


def test_seed_world_jobs_needs_postgresql(db):  # type: ignore[no-untyped-def]
    import io

    from django.core.management import CommandError, call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("runs on SQLite")
    from gridgov.units.models import Unit

    with pytest.raises(CommandError):
        call_command("seed_world", size="S", seed=1, jobs=2, units_only=True, stdout=io.StringIO())
    assert not Unit.dangerously_unscoped.exists()  # refused before anything was written
