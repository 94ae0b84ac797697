"""The scope cache (access/scope.py) never outlives a change: a grant made or revoked, a unit moved or
retired, a role's permissions edited, an account disabled, each takes effect on the very next request.

Every test runs twice: in this process, which also forgets its cached scopes when it makes the change,
and as "another process", where that forgetting is switched off, so only the access stamp read with
the user on every request can carry the change (as for a second app server)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.access import scope as scope_module
from gridgov.access.models import Grant, User
from gridgov.access.role_admin import role_update
from gridgov.access.services import grant_create, grant_revoke
from gridgov.units.services import unit_move
from tests.world import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["this process", "another process"])
def process(request, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "another process":
        monkeypatch.setattr(scope_module, "_drop", lambda user_ids: None)
    return request.param


def _unit_page(unit) -> str:  # type: ignore[no-untyped-def]
    return reverse("staff:unit_detail", args=[unit.pk])


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _warm(client: Client, url: str, status: int) -> None:
    """Two requests, so that the second is served from the cache (checked: no scope built)."""
    assert client.get(url).status_code == status
    built = []
    real_build = scope_module._build

    def counting_build(user_id: int):  # type: ignore[no-untyped-def]
        built.append(user_id)
        return real_build(user_id)

    scope_module._build = counting_build  # type: ignore[assignment]
    try:
        assert client.get(url).status_code == status
    finally:
        scope_module._build = real_build  # type: ignore[assignment]
    assert not built, "the scope was not cached"


def test_a_revoked_grant_404s_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_a1)
    _warm(client, url, 200)
    grant = Grant.dangerously_unscoped.get(user=world.li_qiang, revoked_at__isnull=True)
    grant_revoke(actor=world.zhang_wei, now=T0, grant_id=grant.pk)
    assert client.get(url).status_code == 404
    assert client.get("/api/units/").json() == []


def test_a_new_grant_shows_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_b1)  # 东坊村: not li_qiang's village
    _warm(client, url, 404)
    grant_create(actor=world.zhang_wei, now=T0, user=world.li_qiang, role_code="village_secretary",
                 unit=world.village_b)
    assert client.get(url).status_code == 200


def test_a_moved_unit_changes_the_scope_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    secretary, township = _client(world.li_qiang), _client(world.zhang_wei)
    url = _unit_page(world.grid_a1)
    _warm(secretary, url, 200)
    _warm(township, url, 200)
    unit_move(actor=world.chen_jing, now=T0, unit_id=world.village.pk, new_parent_id=world.sibling_township.pk)
    # The secretary's grant is on the moved village: their scope follows it to its new path.
    assert secretary.get(url).status_code == 200
    # The township office of the old parent no longer sees it; the new parent's office does.
    assert township.get(url).status_code == 404
    assert _client(world.sun_li).get(url).status_code == 200


def test_a_moved_unit_takes_the_grants_under_it_along(world, process):  # type: ignore[no-untyped-def]
    worker = _client(world.wang_fang)  # grid worker of grid A1, under the moved village
    api = f"/api/units/?parent_id={world.grid_a1.pk}"
    _warm(worker, api, 200)
    _warm(worker, _unit_page(world.grid_a1), 200)
    unit_move(actor=world.chen_jing, now=T0, unit_id=world.village.pk, new_parent_id=world.sibling_township.pk)
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.path.startswith(world.sibling_township.path)
    assert worker.get(_unit_page(world.grid_a1)).status_code == 200


def test_a_retired_unit_ends_the_grants_on_it_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_a1)
    _warm(client, url, 200)
    world.village.is_active = False
    world.village.save()
    assert client.get(url).status_code == 404


def test_a_role_edit_takes_effect_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_a1)
    _warm(client, url, 200)
    role_update(actor=world.zheng_hong, now=T0, role_code="village_secretary", permissions=["case.report"])
    assert client.get(url).status_code == 404


def test_a_disabled_account_is_signed_out_on_the_next_request(world, process):  # type: ignore[no-untyped-def]
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_a1)
    _warm(client, url, 200)
    user = User.objects.get(pk=world.li_qiang.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/units/").status_code in (401, 403)


def test_a_grant_changed_by_a_queryset_update_is_seen_too_when_the_stamp_moves(world):  # type: ignore[no-untyped-def]
    """The check can fail: a write that bypasses the stamp (a queryset update, no signal) is not seen
    by a process that was not told, which is why every write path must call access_changed."""
    client = _client(world.li_qiang)
    url = _unit_page(world.grid_a1)
    _warm(client, url, 200)
    Grant.dangerously_unscoped.filter(user=world.li_qiang).update(revoked_at=T0)
    assert client.get(url).status_code == 200  # still cached: nothing told anyone
    scope_module.access_changed(user_ids=[world.li_qiang.pk])
    assert client.get(url).status_code == 404


def test_the_cache_is_keyed_by_user_and_stamp(world):  # type: ignore[no-untyped-def]
    a = User.objects.get(pk=world.li_qiang.pk)
    first = scope_module.scope_for(a)
    b = User.objects.get(pk=world.li_qiang.pk)
    assert scope_module.scope_for(b) is first  # same stamp: the kept scope
    b.access_stamp += 1
    b.__dict__.pop("_gridgov_scope", None)
    assert scope_module.scope_for(b) is not first  # another stamp: built again
    other = User.objects.get(pk=world.wang_fang.pk)
    assert scope_module.scope_for(other).user_id == world.wang_fang.pk
