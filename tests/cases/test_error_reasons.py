"""An API client tells the intake's refusals apart by the stable reason beside the Chinese message (issue #14):
a category that does not exist, a place outside the county, a reused idempotency key."""

from __future__ import annotations

import pytest

from gridgov.cases.models import Case
from gridgov.interfaces.api.api import error_reasons
from tests.cases.test_api import intake

pytestmark = pytest.mark.django_db


def test_each_intake_refusal_names_its_reason(kit, login):
    client = login(kit.world.zhang_wei)
    unknown = intake(kit, client, key="k1", category="nosuchcategory")
    assert unknown.status_code == 400
    assert (unknown.json()["code"], unknown.json()["reason"]) == ("invalid", "cases.category_unknown")
    outside = intake(kit, client, key="k2", unit_id=None, lat=10.0, lng=10.0)
    assert (outside.json()["reason"], outside.json()["field"]) == ("cases.location_outside_county", "location")
    half = intake(kit, client, key="k3", unit_id=None, lat=39.05, lng=None)
    assert half.json()["reason"] == "cases.location_incomplete"
    assert intake(kit, client, key="k4").status_code == 201
    reused = intake(kit, client, key="k4", title="井盖又丢了")
    assert (reused.status_code, reused.json()["reason"]) == (409, "cases.idempotency_key_reused")
    assert Case.dangerously_unscoped.count() == 1


def test_the_schema_lists_the_case_reasons():
    reasons = error_reasons()
    assert {"cases.category_missing", "cases.location_outside_county", "cases.unit_not_found"} <= set(reasons)
