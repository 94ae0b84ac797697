"""The index-friendly forms of the searches mean exactly what the plain ones meant (both databases):
a phone matches the household's own phone or an active member's; an address fragment matches
contiguous text only, whatever index finds the candidates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from gridgov.access.scope import scope_for
from gridgov.residents import selectors
from gridgov.residents.households import household_create
from gridgov.residents.members import resident_add, resident_update
from gridgov.residents.selectors import HouseholdQuery, bigrams
from tests.residents.conftest import make_id
from tests.world import T0

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 22)


def found(user, **params) -> set[int]:  # type: ignore[no-untyped-def]
    page = selectors.household_search(scope=scope_for(user), query=HouseholdQuery.from_params(params), today=TODAY)
    return {h.pk for h in page.rows}


def test_phone_finds_the_household_phone_and_active_members_phones(world):
    own = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村", phone="13911112222")
    member = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村")
    r = resident_add(actor=None, now=T0, household_id=member.pk, name="赵强", relation="户主",
                              id_number=make_id(dt.date(1980, 3, 3), 11), phone="13911112222")
    household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村", phone="13911113333")
    assert found(world.zhang_wei, phone="139 1111 2222") == {own.pk, member.pk}
    resident_update(actor=None, now=T0, resident_id=r.pk, phone="13800000000")
    assert found(world.zhang_wei, phone="13911112222") == {own.pk}
    assert found(world.sun_li, phone="13911112222") == set()  # the outsider sees nothing


def test_address_fragments_match_contiguous_text_only(world):
    def make(address: str) -> int:
        return household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address=address).pk

    yuelong, scattered, other = make("跃龙街道三组"), make("龙街跃龙村"), make("东坊村")
    assert found(world.zhang_wei, address="跃龙") == {yuelong, scattered}
    assert found(world.zhang_wei, address="跃龙街") == {yuelong}  # 跃龙 and 龙街 both in 龙街跃龙村, not in a row
    assert found(world.zhang_wei, address="龙跃") == set()
    assert found(world.zhang_wei, address="坊") == {other}
    assert found(world.zhang_wei, address="三组") == {yuelong}


def test_bigrams_of_a_fragment():
    assert bigrams("跃龙街") == ["跃龙", "龙街"]
    assert bigrams("组") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index exists on PostgreSQL only")
def test_address_search_uses_the_bigram_index(world):
    household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="跃龙街道三组")
    qs = selectors.Household.dangerously_unscoped.alias(g=selectors.AddressBigrams("address")).filter(
        g__contains=["跃龙"]
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(r[0] for r in cur.fetchall())
    assert "household_address_bigram_idx" in plan, plan
