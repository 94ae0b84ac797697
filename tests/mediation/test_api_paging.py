"""The mediation API's list pages like the household ledger's (gridgov/interfaces/api/paging.py): `after`
and `limit`, `{items, next_after}`, 50 rows unless asked and at most 200, the same Chinese refusal of a
page parameter that is not a whole number. Walking every page gives each named persona exactly the
ledger rows in their scope, once each, in the ledger's order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.interfaces.api import paging
from gridgov.mediation.models import MediationCase
from tests.mediation.conftest import register
from tests.world import T0

pytestmark = pytest.mark.django_db

MISSING = 987654321


@pytest.fixture
def ledger(mworld):  # type: ignore[no-untyped-def]
    """Five disputes in A1 (two taken up at the same moment), one in B1 (东坊村), two in the sibling
    township's C1 (its own committee). Returns name → ids."""
    day = dt.timedelta(days=1)
    a1 = [register(mworld, now=T0 + d * day, title=f"A1纠纷{i}").pk for i, d in enumerate([1, 2, 2, 3, 5])]
    b1 = [register(mworld, now=T0 + 4 * day, unit_id=mworld.grid_b1.pk, title="B1纠纷").pk]
    c1 = [register(mworld, now=T0 + d * day, unit_id=mworld.grid_c1.pk, presiding=mworld.ma.pk,
                   title=f"C1纠纷{d}").pk for d in (1, 6)]
    return {"a1": a1, "b1": b1, "c1": c1}


def newest_first(ids):  # type: ignore[no-untyped-def]
    rows = MediationCase.dangerously_unscoped.filter(pk__in=ids).values_list("pk", "accepted_at")
    return [pk for pk, _ in sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)]


def walk(client, limit, **filters):  # type: ignore[no-untyped-def]
    """Every page with `limit` rows: the ids in order and how many pages it took."""
    seen, pages, after = [], 0, None
    while True:
        params = {**filters, "limit": limit, **({"after": after} if after is not None else {})}
        response = client.get("/api/mediation/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"items", "next_after"}
        pages += 1
        assert len(body["items"]) <= limit
        seen += [r["id"] for r in body["items"]]
        after = body["next_after"]
        if after is None:
            return seen, pages
        assert after == body["items"][-1]["id"] and len(body["items"]) == limit
        assert pages < 20


def personas(w):  # type: ignore[no-untyped-def]
    return {"grid_worker": w.wang_fang, "grid_head": w.zhao_lei, "village_secretary": w.li_qiang,
            "township_office": w.zhang_wei, "county_office": w.chen_jing, "township_mediator": w.xu,
            "other_township_mediator": w.ma, "outsider": w.sun_li}


VISIBLE = {
    "grid_worker": ("a1",), "grid_head": ("a1",), "village_secretary": ("a1",),
    "township_office": ("a1", "b1"), "township_mediator": ("a1", "b1"), "county_office": ("a1", "b1", "c1"),
    "other_township_mediator": ("c1",), "outsider": ("c1",),
}


@pytest.mark.parametrize("name", list(VISIBLE))
def test_walking_every_page_gives_each_persona_their_scope_once_in_order(mworld, ledger, login, name):
    client = login(personas(mworld)[name])
    expected = newest_first([i for part in VISIBLE[name] for i in ledger[part]])
    for limit in (1, 2, 50):
        seen, pages = walk(client, limit)
        assert seen == expected, limit
        assert pages == max(1, -(-len(expected) // limit)), limit  # a full last page says so: no empty page
    # One page of everything: no next page.
    body = client.get("/api/mediation/").json()
    assert [r["id"] for r in body["items"]] == expected and body["next_after"] is None


def test_ties_on_the_day_taken_up_are_neither_lost_nor_repeated(mworld, ledger, login):
    twins = ledger["a1"][1:3]  # taken up at the same moment
    assert len({MediationCase.dangerously_unscoped.get(pk=i).accepted_at for i in twins}) == 1
    seen, _ = walk(login(mworld.wang_fang), 1)
    assert seen.index(twins[1]) + 1 == seen.index(twins[0])  # the higher id first, then the other, once each
    assert len(seen) == len(set(seen)) == 5


def test_paging_keeps_the_filters(mworld, ledger, login):
    register(mworld, now=T0 + dt.timedelta(days=7), dispute_type="family", title="婚姻家庭矛盾")
    client = login(mworld.zhang_wei)
    seen, pages = walk(client, 2, dispute_type="land")
    assert seen == newest_first(ledger["a1"] + ledger["b1"]) and pages == 3
    seen, _ = walk(client, 2, unit_id=mworld.village_b.pk)
    assert seen == ledger["b1"]


def test_the_department_handler_is_refused_whatever_the_page(mworld, ledger, login):
    client = login(mworld.liu_yang)
    for params in ({}, {"after": ledger["a1"][0]}, {"limit": "abc"}):
        response = client.get("/api/mediation/", params)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_an_after_out_of_scope_is_refused_like_a_missing_one(mworld, ledger, login):
    client = login(mworld.sun_li)
    theirs = client.get("/api/mediation/", {"after": ledger["a1"][0]})
    missing = client.get("/api/mediation/", {"after": MISSING})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.content == missing.content
    assert missing.json() == {"code": "invalid", "message": "翻页位置无效，请从第一页重新查询。", "field": "after"}
    # Their own row is a place to continue from.
    own = client.get("/api/mediation/", {"after": newest_first(ledger["c1"])[0]}).json()
    assert [r["id"] for r in own["items"]] == newest_first(ledger["c1"])[1:]


@pytest.mark.parametrize(("field", "value"), [("after", "abc"), ("after", "-1"), ("after", "1.5"), ("after", "²"),
                                              ("limit", "abc"), ("limit", "-3"), ("limit", "十"), ("limit", "2e3"),
                                              ("after", "9" * 30)])
def test_a_page_parameter_that_is_not_a_whole_number_gets_the_ledgers_chinese_message(
        mworld, ledger, login, field, value):
    client = login(mworld.zhang_wei)
    response = client.get("/api/mediation/", {field: value})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "请输入整数。", "field": field}
    if value != "9" * 30:  # (the ledger answers a page position beyond every id with a 400 of its own)
        households = client.get("/api/households/", {field: value})
        assert (households.status_code, households.json()) == (400, response.json())


def test_limit_default_cap_and_zero_like_the_ledger(mworld, ledger, login, monkeypatch):
    client = login(mworld.chen_jing)
    monkeypatch.setattr(paging, "DEFAULT_LIMIT", 3)
    monkeypatch.setattr(paging, "MAX_LIMIT", 5)
    assert len(client.get("/api/mediation/").json()["items"]) == 3
    assert len(client.get("/api/mediation/", {"limit": "0"}).json()["items"]) == 3
    assert len(client.get("/api/mediation/", {"limit": "200"}).json()["items"]) == 5
    assert len(client.get("/api/mediation/", {"limit": "１"}).json()["items"]) == 1  # full-width digits read


def test_the_query_count_does_not_grow_with_the_page(mworld, ledger, login):
    client = login(mworld.chen_jing)
    client.get("/api/mediation/")
    second = newest_first([i for ids in ledger.values() for i in ids])[1]
    counts = []
    for params in ({"limit": 2}, {"limit": 2, "after": second}, {"limit": 6, "after": second}):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/mediation/", params).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[1] == counts[2] == counts[0] + 1, counts  # where `after` stands: one read
