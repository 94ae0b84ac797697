"""Property: over random hierarchies and random grants, every unit a scope returns lies under one
of the actor's grants (walking parent links, not paths), and every such unit is returned."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.access.models import User
from gridgov.access.roles import ROLE_BY_CODE
from gridgov.access.scope import scope_for
from gridgov.access.services import grant_create
from gridgov.units.models import Unit
from gridgov.units.services import unit_create
from tests.world import T0

ROLES = ["grid_worker_full", "village_secretary", "township_office", "department_handler", "audit_admin"]
VISIBLE_ROLES = {"grid_worker_full", "village_secretary", "township_office", "audit_admin"}


@st.composite
def trees(draw):  # type: ignore[no-untyped-def]
    """Parent index for each unit after the root (a random tree of 2–25 units)."""
    n = draw(st.integers(min_value=2, max_value=25))
    return [draw(st.integers(min_value=0, max_value=i)) for i in range(n - 1)]


@pytest.mark.django_db(transaction=True)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=trees(), data=st.data())
def test_scope_is_exactly_the_union_of_granted_subtrees(parents, data):
    # Earlier examples' trees stay in the database: they are distractors no scope may return.
    root = unit_create(actor=None, now=T0, parent=None, name="根", kind_code="county").unit
    units = [root]
    for i, p in enumerate(parents):
        units.append(unit_create(actor=None, now=T0, parent=units[p], name=f"单位{i}", kind_code="area").unit)
    parent_of = {u.pk: (u.parent_id) for u in units}
    user = User.objects.create(username=f"actor{User.objects.count()}")
    picks = data.draw(st.lists(st.tuples(st.sampled_from(range(len(units))), st.sampled_from(ROLES)),
                               max_size=4, unique_by=lambda t: t[0]))
    granted: set[int] = set()
    for index, role in picks:
        if ROLE_BY_CODE[role].admin_duty and any(ROLE_BY_CODE[r].admin_duty for _, r in picks if r != role):
            continue
        if role == "department_handler":
            continue  # needs a department; covered elsewhere: it never widens unit visibility
        grant_create(actor=None, now=T0, user=user, role_code=role, unit=units[index])
        if role in VISIBLE_ROLES:
            granted.add(units[index].pk)

    def under_grant(unit_id: int | None) -> bool:
        while unit_id is not None:
            if unit_id in granted:
                return True
            unit_id = parent_of[unit_id]
        return False

    user = User.objects.get(pk=user.pk)
    returned = set(Unit.objects.within(scope_for(user)).values_list("pk", flat=True))
    expected = {u.pk for u in units if under_grant(u.pk)}
    assert returned <= {u.pk for u in units}
    assert returned == expected


@pytest.mark.django_db(transaction=True)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=trees(), data=st.data())
def test_every_household_and_case_returned_lies_in_the_actors_scope(parents, data):
    """The same random hierarchies, now with a household and a case in every unit: what the scoped
    managers return (every ledger and case list, search and detail reads through them) is exactly the
    objects whose unit lies under one of the actor's grants, walking parent links."""
    from gridgov.cases.intake import case_report
    from gridgov.cases.models import Case
    from gridgov.residents.households import household_create
    from gridgov.residents.models import Household

    root = unit_create(actor=None, now=T0, parent=None, name="根", kind_code="county").unit
    units = [root]
    for i, p in enumerate(parents):
        units.append(unit_create(actor=None, now=T0, parent=units[p], name=f"单位{i}", kind_code="area").unit)
    parent_of = {u.pk: u.parent_id for u in units}
    # Households and cases live in the lowest units (the leaves of the random tree).
    leaves = [u for u in units if u.pk not in set(parent_of.values())]
    homes = {household_create(actor=None, now=T0, unit_id=u.pk, address=f"{u.name}1号").pk: u.pk for u in leaves}
    cases = {case_report(actor=None, now=T0, title="路灯不亮", description="村口路灯不亮，晚上看不见路。",
                         category_code="livelihood", channel="hotline", unit_id=u.pk).case.pk: u.pk for u in leaves}
    user = User.objects.create(username=f"actor{User.objects.count()}")
    picks = data.draw(st.lists(st.tuples(st.sampled_from(range(len(units))),
                                         st.sampled_from(["grid_worker_full", "village_secretary", "township_office"])),
                               max_size=3, unique_by=lambda t: t[0]))
    granted = set()
    for index, role in picks:
        grant_create(actor=None, now=T0, user=user, role_code=role, unit=units[index])
        granted.add(units[index].pk)

    def under_grant(unit_id: int | None) -> bool:
        while unit_id is not None:
            if unit_id in granted:
                return True
            unit_id = parent_of[unit_id]
        return False

    scope = scope_for(User.objects.get(pk=user.pk))
    got_homes = set(Household.objects.within(scope).values_list("pk", flat=True))
    got_cases = set(Case.objects.within(scope).values_list("pk", flat=True))
    # Earlier examples' objects stay in the database: none of them may come back.
    assert got_homes == {h for h, u in homes.items() if under_grant(u)}
    assert got_cases == {c for c, u in cases.items() if under_grant(u)}
