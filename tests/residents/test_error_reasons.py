"""The API's error body carries a stable reason beside the coarse code and the Chinese message."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _add(client, household_id: int, **fields: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/households/{household_id}/residents", fields, content_type="application/json")


def test_a_taken_id_number_and_a_second_head_have_their_own_reasons(world, ledger, login):
    client = login(world.wang_fang)
    taken = _add(client, ledger.a1.pk, name="王小伟", relation="子女", id_number=ledger.wang_wei_id)
    assert taken.status_code == 400
    body = taken.json()
    assert body["code"] == "invalid" and body["reason"] == "residents.id_number_taken"
    assert body["field"] == "id_number" and "身份证号" in body["message"]

    import datetime as dt

    from tests.residents.conftest import make_id

    second = _add(client, ledger.a1.pk, name="王二", relation="户主", id_number=make_id(dt.date(1990, 1, 2), 51))
    assert second.status_code == 400
    assert (second.json()["code"], second.json()["reason"]) == ("invalid", "residents.second_head")

    empty = _add(client, ledger.a1.pk, name="", relation="子女", id_number=make_id(dt.date(1990, 1, 2), 51))
    assert (empty.json()["reason"], empty.json()["field"]) == ("required", "name")


def test_an_error_naming_no_reason_keeps_the_body_it_had(world, ledger, login):
    missing = _add(login(world.wang_fang), 987654, name="王二", relation="子女", id_number="x")
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "没有找到该记录。"}
