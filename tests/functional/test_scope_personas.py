"""Who sees what: a grid worker their grid, a village secretary their village, the township
office its township, and an outsider from a sibling township gets 404 on everything."""

from __future__ import annotations

import pytest

from gridgov.access.scope import scope_for
from gridgov.core.scoping import ScopeMissing
from gridgov.units.models import Unit

pytestmark = pytest.mark.django_db


def visible(user):  # type: ignore[no-untyped-def]
    return set(Unit.objects.within(scope_for(user)).values_list("name", flat=True))


def test_grid_worker_sees_only_their_grid(world):
    assert visible(world.wang_fang) == {"吴城村第一网格"}


def test_village_secretary_sees_their_village(world):
    assert visible(world.li_qiang) == {"吴城村", "吴城村第一网格", "吴城村第二网格"}


def test_township_office_sees_the_township(world):
    assert visible(world.zhang_wei) == {
        "吴城乡", "吴城村", "吴城村第一网格", "吴城村第二网格", "东坊村", "东坊村第一网格",
    }


def test_county_office_sees_everything_in_the_county(world):
    assert len(visible(world.chen_jing)) == 10


def test_department_handler_sees_no_units(world):
    assert visible(world.liu_yang) == set()


def test_querying_a_scoped_model_without_scope_raises(world):
    with pytest.raises(ScopeMissing):
        list(Unit.objects.all())
    with pytest.raises(ScopeMissing):
        Unit.objects.filter(name="吴城乡").exists()
    with pytest.raises(ScopeMissing):
        Unit.objects.count()


@pytest.mark.parametrize("url_name", ["staff:unit_detail", "staff:unit_children"])
def test_outsider_gets_404_on_every_unit_of_another_township(world, login, url_name):
    from django.urls import reverse

    client = login(world.sun_li)
    for unit in [world.township, world.village, world.grid_a1, world.grid_b1, world.county]:
        response = client.get(reverse(url_name, args=[unit.pk]))
        assert response.status_code == 404, unit.name
    # … and the same as a unit that does not exist at all
    missing = client.get(reverse(url_name, args=[999999]))
    assert missing.status_code == 404
    assert client.get(reverse(url_name, args=[world.grid_c1.pk])).status_code == 200


def test_out_of_scope_looks_exactly_like_missing(world, login):
    from django.urls import reverse

    client = login(world.wang_fang)
    foreign = client.get(reverse("staff:unit_detail", args=[world.grid_a2.pk]))
    missing = client.get(reverse("staff:unit_detail", args=[987654]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


@pytest.mark.parametrize(
    ("persona", "allowed", "denied"),
    [
        ("grid_worker", ["grid_a1"], ["grid_a2", "village", "township", "grid_c1"]),
        ("village_secretary", ["village", "grid_a1", "grid_a2"], ["township", "village_b", "grid_b1", "grid_c1"]),
        ("township_office", ["township", "village", "grid_b1"], ["county", "sibling_township", "grid_c1"]),
        ("outsider", ["sibling_township", "grid_c1"], ["township", "village", "grid_a1", "county"]),
        ("department_handler", [], ["township", "grid_a1"]),
    ],
)
def test_unit_pages_and_api_by_persona(world, login, persona, allowed, denied):
    from django.urls import reverse

    client = login(world.personas()[persona])
    for name in allowed:
        unit = getattr(world, name)
        assert client.get(reverse("staff:unit_detail", args=[unit.pk])).status_code == 200, name
        assert client.get(f"/api/units/{unit.pk}").status_code == 200, name
    for name in denied:
        unit = getattr(world, name)
        assert client.get(reverse("staff:unit_detail", args=[unit.pk])).status_code == 404, name
        assert client.get(f"/api/units/{unit.pk}").status_code == 404, name


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/units/{world.township.pk}/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert client.get(f"/api/units/{world.township.pk}").status_code == 401
