"""The main unit pages issue a fixed number of queries whatever the size of the data (issue #8):
the count is the same before and after the world grows by villages, grids, staff and grants, and
stays under a budget. A page that starts querying per child or per grant fails here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gridgov.access.models import User
from gridgov.access.services import grant_create, user_create
from gridgov.units.models import Unit
from gridgov.units.services import unit_create
from tests.world import T0

pytestmark = pytest.mark.django_db

# Session, user, then the page's own reads (the unit page: unit with its level name, breadcrumb,
# children, staff, themes; since #8 the level name is a subquery of the unit's read). The grants are
# read once per access stamp, not per request (access/scope.py); with Redis, the session read leaves
# PostgreSQL too (cached_db).
BUDGET = {"unit tree": 3, "unit page": 7, "API unit roots": 3, "API unit children": 4}


def _pages(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "unit tree": reverse("staff:unit_tree"),
        "unit page": reverse("staff:unit_detail", args=[world.village.pk]),
        "API unit roots": "/api/units/",
        "API unit children": f"/api/units/?parent_id={world.village.pk}",
    }


def _counts(client: Client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for label, path in pages.items():
        client.get(path)  # the first request of a session may start its clock (one write)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200, (label, response.status_code)
        counts[label] = len(ctx.captured_queries)
    return counts


def _grow(world, n: int) -> None:  # type: ignore[no-untyped-def]
    """n more grids under 吴城村 and a new village, each with its own grid worker, plus more grants
    for the users on the page."""
    village = world.village
    for i in range(n):
        grid = unit_create(actor=world.zhang_wei, now=T0, parent=village, name=f"吴城村加密网格{i}",
                           kind_code="grid", serial=f"9{i:02d}").unit
        worker = user_create(actor=None, now=T0, username=f"budget_worker_{i}", full_name=f"网格员{i}",
                             password=None, validate=False)
        grant_create(actor=world.zhang_wei, now=T0, user=worker, role_code="grid_worker_full", unit=grid)
    extra = unit_create(actor=world.zhang_wei, now=T0, parent=world.township, name="新增村",
                        kind_code="village", serial="98").unit
    for i in range(n):
        unit_create(actor=world.zhang_wei, now=T0, parent=extra, name=f"新增村网格{i}", kind_code="grid",
                    serial=f"{i:02d}")
    # The county office also holds a right in two more places: scope rows grow, queries must not.
    grant_create(actor=world.chen_jing, now=T0, user=world.chen_jing, role_code="township_office",
                 unit=world.township)
    grant_create(actor=world.chen_jing, now=T0, user=world.chen_jing, role_code="village_secretary",
                 unit=extra)


@pytest.mark.parametrize("persona", ["county_office", "township_office", "village_secretary"])
def test_unit_pages_query_count_does_not_grow_with_the_data(world, persona):  # type: ignore[no-untyped-def]
    user: User = world.personas()[persona]
    client = Client()
    client.force_login(user)
    pages = _pages(world)
    before = _counts(client, pages)
    grids_before = Unit.dangerously_unscoped.filter(kind__code="grid").count()
    _grow(world, 12)
    assert Unit.dangerously_unscoped.filter(kind__code="grid").count() == grids_before + 24
    user.refresh_from_db()
    after = _counts(client, pages)
    assert after == before, (before, after)
    for label, count in after.items():
        assert count <= BUDGET[label], (label, count, BUDGET[label])
