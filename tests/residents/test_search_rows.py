"""The API's search rows (plain values, the head's name in the same statement, issue #8) say what the
household instances with their prefetched heads say: same households, same order, same pages, same
fields; a household without an active head has none; the body search answers as the list API does."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from gridgov.access.scope import scope_for
from gridgov.residents import selectors
from gridgov.residents.households import household_create
from gridgov.residents.members import resident_add, resident_set_status
from gridgov.residents.selectors import HouseholdQuery
from tests.residents.conftest import make_id
from tests.world import T0

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 22)
PHONE = "13911114444"


def as_api(h: Any) -> dict[str, Any]:
    """What the API showed for a household instance before search rows (interfaces/api/households.py)."""
    return {"id": h.pk, "unit_id": h.unit_id, "unit_name": h.unit.name, "status": h.status, "address": h.address,
            "house_number": h.house_number, "phone_masked": h.phone_masked, "lat": h.lat, "lng": h.lng,
            "head_name": h.heads[0].name if h.heads else None, "version": h.version}


@pytest.fixture
def households(world):  # type: ignore[no-untyped-def]
    def make(address: str, house: str, head: str | None, n: int, phone: str = "") -> int:
        h = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address=address,
                                      house_number=house, phone=phone)
        if head:
            resident_add(actor=None, now=T0, household_id=h.pk, name=head, relation="户主",
                                  id_number=make_id(dt.date(1970, 1, 1) + dt.timedelta(days=n), 300 + n))
            child = make_id(dt.date(2000, 1, 1) + dt.timedelta(days=n), 400 + n)
            resident_add(actor=None, now=T0, household_id=h.pk, name=head[0] + "小" + "一二三四五"[n],
                                  relation="子女", id_number=child, phone=PHONE)
        return h.pk

    made = [make("跃龙街道三组", "7", "王伟", 1), make("跃龙街道四组", "7号", None, 2, phone=PHONE),
            make("东坊村", "12", "李娜", 3), make("跃龙村", "7", "王伟国", 4)]
    # A head who moved out: the household then has no active head.
    moved = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="跃龙街道五组",
                                      house_number="7")
    r = resident_add(actor=None, now=T0, household_id=moved.pk, name="王伟民", relation="户主",
                              id_number=make_id(dt.date(1960, 5, 5), 500))
    resident_set_status(actor=None, now=T0, resident_id=r.pk, status="moved_out")
    return [*made, moved.pk]


QUERIES = [
    {},
    {"name": "王伟"},
    {"address": "跃龙"},
    {"address": "街道三"},
    {"house_number": "7"},
    {"phone": PHONE},
    {"q": "跃龙街道"},  # no resident of that name: the one box tries it as an address
    {"q": "王"},
    {"address": "跃龙", "limit": "2"},
    {"house_number": "7", "limit": "1"},
    {"status": "all"},
]


@pytest.mark.parametrize("params", QUERIES, ids=[json.dumps(q, ensure_ascii=False) for q in QUERIES])
def test_search_rows_match_the_households_with_their_heads(world, households, params):
    scope = scope_for(world.zhang_wei)
    pages = []
    for rows in (False, True):
        after: int | None = None
        seen: list[list[Any]] = []
        while True:
            query = HouseholdQuery.from_params({**params, "after": "" if after is None else str(after)})
            page = selectors.household_search(scope=scope, query=query, today=TODAY, rows=rows)
            seen.append([dict(r) if rows else as_api(r) for r in page.rows])
            after = page.next_after
            if after is None:
                break
        pages.append(seen)
    models_pages, row_pages = pages
    assert row_pages == models_pages
    assert any(page for page in row_pages)  # every query above finds something


def test_search_row_of_a_household_without_an_active_head(world, households):
    rows = selectors.household_search(scope=scope_for(world.zhang_wei), today=TODAY, rows=True,
                                      query=HouseholdQuery.from_params({"address": "跃龙街道"})).rows
    by_id = {r["id"]: r for r in rows}
    assert by_id[households[0]]["head_name"] == "王伟"
    assert by_id[households[1]]["head_name"] is None  # no members
    assert by_id[households[4]]["head_name"] is None  # the head moved out
    assert set(by_id[households[0]]) == {*selectors.SEARCH_ROW_FIELDS, "unit_name", "head_name"}


def test_search_rows_keep_to_the_scope(world, households):
    query = HouseholdQuery.from_params({"address": "跃龙"})
    assert selectors.household_search(scope=scope_for(world.sun_li), query=query, today=TODAY, rows=True).rows == []


def test_body_search_answers_as_the_list_api(world, households, login):
    client = login(world.zhang_wei)
    for params in ({"address": "跃龙", "limit": "2"}, {"house_number": "7"}, {"phone": PHONE}, {"name": "王伟"}):
        listed = client.get("/api/households/", params)
        searched = client.post("/api/households/search", json.dumps(params), content_type="application/json")
        assert searched.status_code == listed.status_code == 200
        assert searched.content == listed.content  # same rows, fields, order and masking, byte for byte
        assert PHONE not in searched.content.decode()  # phones only masked
