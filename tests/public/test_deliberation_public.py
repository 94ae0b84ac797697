"""Decided matters on the public grid page: the grid's and its village's votes of the last year, with
no personal data at all (the suite-wide public leak guard scans the page too)."""

from __future__ import annotations

import pytest

from gridgov.deliberation.states import Stage
from gridgov.interfaces.public.links import grid_token
from tests.deliberation.conftest import REPRESENTATIVES, Kit

pytestmark = pytest.mark.django_db


def test_decided_matters_show_on_the_grid_page_without_names(world, client):
    kit = Kit(world=world)
    decided = kit.to_stage(Stage.CLOSED)
    kit.raise_(title="还没表决的事")
    kit.raise_(title="东坊的事", unit_id=world.village_b.pk, actor=world.zhang_wei)
    page = client.get(f"/p/g/{grid_token(world.grid_a1.pk)}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert decided.title in html and "表决通过" in html and "应到 7 人，到会 5 人，赞成 4 票" in html
    assert "还没表决的事" not in html and "东坊的事" not in html
    for person in ("王大山", "王**", *REPRESENTATIVES, "张**", "李强"):
        assert person not in html, person
    # The sibling village's grid shows nothing of 吴城村.
    other = client.get(f"/p/g/{grid_token(world.grid_b1.pk)}/").content.decode()
    assert decided.title not in other and 'id="decided"' not in other
