"""A prefecture (市) above its counties, and the city office (市网格办) over them: it sees and supervises every
county's cases and the city-level dashboard; a county office still sees only its own county, and the prefecture and
the other county look exactly like missing to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.access.services import grant_create, user_create
from gridgov.cases.catalogue import seed_categories
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.units.models import Unit
from gridgov.units.services import unit_create
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db


def unit(parent: Unit | None, name: str, kind: str, **kw: Any) -> Unit:
    return unit_create(actor=None, now=T0, parent=parent, name=name, kind_code=kind, **kw).unit


def person(username: str, name: str, role: str, at: Unit) -> Any:
    user = user_create(actor=None, now=T0, username=username, full_name=name, password=PASSWORD,
                       work_phone="0352-8123456", validate=False)
    grant_create(actor=None, now=T0, user=user, role_code=role, unit=at)
    return user


@pytest.fixture
def city(db: None) -> dict[str, Any]:
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    pref = unit(None, "大同市", "prefecture", division_code="140200000000")
    out: dict[str, Any] = {"prefecture": pref}
    for key, county_name, code, town_name in (("a", "浑源县", "140225000000", "吴城乡"),
                                              ("b", "广灵县", "140223000000", "壶泉镇")):
        county = unit(pref, county_name, "county", division_code=code)
        town = unit(county, town_name, "township")
        village = unit(town, f"{town_name}一村", "village")
        grid = unit(village, f"{town_name}一村第一网格", "grid", serial="A1")
        head = person(f"head_{key}", f"网格长{key}", "grid_head", grid)
        case = case_report(actor=head, now=T0, title=f"{county_name}：村口路灯坏了", description="三天了还没修",
                           category_code="sanitation", channel="field", unit_id=grid.pk).case
        out[key] = {"county": county, "grid": grid, "case": case,
                    "office": person(f"office_{key}", f"县网格办{key}", "county_office", county)}
    out["city_office"] = person("city_office", "市网格办", "city_office", pref)
    return out


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_prefecture_is_a_unit_kind_above_the_county(city):
    pref, county = city["prefecture"], city["a"]["county"]
    assert pref.kind.base == "prefecture" and pref.kind.name == "市（州）"
    assert county.parent_id == pref.pk and county.path.startswith(pref.path)
    # Cases stay per county: the case's county is the county, not the city.
    assert city["a"]["case"].county_id == county.pk and city["b"]["case"].county_id == city["b"]["county"].pk


def test_the_city_office_sees_and_supervises_every_county_but_handles_nothing(city):
    scope = scope_for(city["city_office"])
    assert set(Case.objects.within(scope).values_list("pk", flat=True)) == {city["a"]["case"].pk,
                                                                            city["b"]["case"].pk}
    path_b = city["b"]["grid"].path
    assert scope.can(P.CASE_VIEW, path_b) and scope.can(P.CASE_SUPERVISE, path_b)
    for perm in (P.CASE_HANDLE, P.CASE_REPORT, P.HOUSEHOLD_VIEW, P.RESIDENT_UNMASK, P.UNIT_EDIT):
        assert not scope.can(perm, path_b), perm
    client = signed_in(city["city_office"])
    queue = client.get("/cases/?queue=overdue&q=路灯").content.decode()
    assert "浑源县：村口路灯坏了" in queue and "广灵县：村口路灯坏了" in queue
    assert client.get(f"/cases/{city['b']['case'].pk}/").status_code == 200


def test_the_city_dashboard_ranks_its_counties(city):
    client = signed_in(city["city_office"])
    page = client.get("/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "大同市" in html and "浑源县" in html and "广灵县" in html
    # And it can go down into one county.
    assert client.get(f"/dashboard/?unit={city['b']['county'].pk}").status_code == 200


def test_a_county_office_sees_only_its_county(city):
    client = signed_in(city["a"]["office"])
    queue = client.get("/cases/?queue=overdue&q=路灯").content.decode()
    assert "浑源县：村口路灯坏了" in queue and "广灵县：村口路灯坏了" not in queue
    assert client.get(f"/cases/{city['b']['case'].pk}/").status_code == 404
    missing = client.get("/dashboard/?unit=999999999")
    for other in (city["prefecture"], city["b"]["county"]):
        page = client.get(f"/dashboard/?unit={other.pk}")
        assert page.status_code == missing.status_code == 404  # the city and the other county: as if missing
    own = client.get("/dashboard/").content.decode()
    assert "浑源县" in own and "广灵县" not in own
