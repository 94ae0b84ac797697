"""Unit pages and the units API follow one rule: unit.view over the unit. The audit admin and the
security admin see the county through their own rights (the audit log, the policy) and get 403 on
the unit list; the outside test found 200 on the unit's page and API with the staff's phones."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _urls(unit_id: int) -> list[str]:
    return [reverse("staff:unit_detail", args=[unit_id]), reverse("staff:unit_children", args=[unit_id]),
            reverse("staff:unit_history", args=[unit_id]), f"/api/units/{unit_id}", f"/api/units/?parent_id={unit_id}"]


@pytest.mark.parametrize("who", ["wu_gang", "zheng_hong"])
def test_admins_without_unit_view_get_403_on_the_list_and_every_unit(world, login, who):
    client = login(getattr(world, who))
    assert client.get(reverse("staff:unit_tree")).status_code == 403
    assert client.get("/api/units/").status_code == 403
    for unit in (world.county, world.township, world.grid_a1):
        for url in _urls(unit.pk):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "0352-8123456" not in response.content.decode()


def test_unit_view_holders_still_read_and_outsiders_get_404(world, login):
    head = login(world.zhao_lei)
    for url in _urls(world.grid_a1.pk):
        assert head.get(url).status_code == 200, url
    assert head.get("/api/units/").status_code == 200
    outsider = login(world.sun_li)
    for url in _urls(world.grid_a1.pk):
        assert outsider.get(url).status_code == 404, url
    system = login(world.zhou_min)  # the system admin keeps the hierarchy (unit.view, unit.edit)
    assert system.get(reverse("staff:unit_detail", args=[world.county.pk])).status_code == 200
    assert system.get(f"/api/units/{world.county.pk}").status_code == 200
