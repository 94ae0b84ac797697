"""The generated role × endpoint × foreign-object matrix: one holder of EVERY built-in role, granted
in the sibling township 驼峰乡, tries every URL that names an object of 吴城乡 (list, detail, update,
delete, export, search, file download… every route with an object parameter, from the registry of
tests/architecture/test_outsider_404.py). Each gets 404, byte-identical to a missing object; their
searches find nothing of 吴城乡. (The Hypothesis property over random hierarchies is
tests/access/test_scope_property.py.)"""

from __future__ import annotations

import pytest
from django.test import Client

from gridgov.access.roles import ROLE_DEFS
from gridgov.access.services import department_create, grant_create, user_create
from tests.architecture.test_outsider_404 import OBJECTS, fill, object_routes
from tests.world import T0, World

pytestmark = pytest.mark.django_db


def foreign_holders(w: World) -> dict[str, Client]:
    """One account per role, each granted at the fitting unit of 驼峰乡."""
    station = department_create(actor=None, now=T0, unit=w.sibling_township, name="驼峰乡派出所", kind="police")
    where = {"grid_worker_full": w.grid_c1, "grid_worker_part": w.grid_c1, "grid_head": w.grid_c1,
             "village_secretary": w.sibling_village, "resident_cadre": w.sibling_village,
             "area_head": w.sibling_village}
    clients = {}
    for i, role in enumerate(ROLE_DEFS):
        user = user_create(actor=None, now=T0, username=f"foreign{i}", full_name=f"外乡{role.name}", password=None)
        grant_create(actor=None, now=T0, user=user, role_code=role.code, unit=where.get(role.code, w.sibling_township),
                     department=station if role.code == "department_handler" else None)
        client = Client()
        client.force_login(user)
        clients[role.code] = client
    return clients


def test_every_role_gets_404_for_every_foreign_object_on_every_endpoint(world):
    values = {name: make(world) for name, make in OBJECTS.items()}
    holders = foreign_holders(world)
    assert set(holders) == {r.code for r in ROLE_DEFS}
    routes = [(r, ps) for r, ps in object_routes() if all(p in values for p in ps)]
    assert len(routes) > 20
    failures = []
    for role, client in holders.items():
        for route, params in routes:
            url = fill(route, {p: values[p] for p in params})
            missing_url = fill(route, dict.fromkeys(params, 987654321))
            response, missing = client.get(url), client.get(missing_url)
            for method in ("post", "patch", "put", "delete"):
                if response.status_code != 405:
                    break
                send = getattr(client, method)
                kwargs = {} if method == "post" else {"data": "{}", "content_type": "application/json"}
                response, missing = send(url, **kwargs), send(missing_url, **kwargs)
            if response.status_code not in (400, 404, 422) or \
                    (response.status_code, response.content) != (missing.status_code, missing.content):
                failures.append(f"{role} {url}: {response.status_code}")
    assert not failures, "out-of-scope access that is not a plain 404:\n" + "\n".join(failures)


def test_foreign_searches_find_nothing(world):
    household_id = OBJECTS["household_id"](world)
    holders = foreign_holders(world)
    for role, client in holders.items():
        api = client.get("/api/households/", {"q": "周到"})
        assert api.status_code in (200, 403, 404), role
        if api.status_code == 200:
            assert api.json()["items"] == [], role
        page = client.post("/households/", {"q": "周到"})
        if page.status_code == 200 and page.context["page"] is not None:
            assert page.context["page"].rows == [], role
        else:
            assert page.status_code == 404, role
        if api.status_code == 200:
            assert household_id not in [i["id"] for i in api.json()["items"]], role
