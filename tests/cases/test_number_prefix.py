"""Case numbering rests on the county's division code captured at creation (`Case.number_prefix`), and
that code is protected: the generic unit update (page, API, support admin) cannot rename a county,
clear or change its code (the outside test's fuzzing did, and new numbers became 1-2026-S…); only the
audited `county_identity_change` can, and existing cases keep their numbers and their forms' prefix."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case
from gridgov.core.errors import ValidationFailed
from gridgov.units.models import Unit
from gridgov.units.services import county_identity_change, unit_update
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_a_case_keeps_the_prefix_it_was_made_with(kit):
    w = kit.world
    case = kit.report()
    assert case.number.startswith("140225-") and case.number_prefix == "140225"
    county_identity_change(actor=w.chen_jing, now=kit.tick(), unit_id=w.county.pk, division_code="140299000000",
                           reason="区划调整 晋政函〔2026〕12号")
    kit.act(case, "accept", w.zhao_lei)  # (the intake's own form already carries the old prefix)
    later = kit.report()
    assert later.number.startswith("140299-") and later.number_prefix == "140299"
    case.refresh_from_db()
    assert case.number.startswith("140225-")
    # Every form the old case gets from now on still says 140225.
    kit.act(case, "escalate", w.zhao_lei)
    kit.act(case, "escalate", w.li_qiang)
    kit.act(case, "dispatch", w.zhang_wei, department_id=w.department.pk)
    numbers = [e.detail["form_number"] for e in case.events.all() if e.detail.get("form_number")]
    assert any("-J" in n for n in numbers) and all(n.startswith("140225-") for n in numbers), numbers
    row = AuditEvent.objects.get(action="unit.county_identity")
    assert row.detail["changes"]["division_code"] == ["140225000000", "140299000000"]
    assert "晋政函" in row.detail["reason"] and row.actor_id == w.chen_jing.pk


@pytest.mark.parametrize("change", [{"name": "新名县"}, {"division_code": None}, {"division_code": ""},
                                    {"division_code": "140225000001"}])
def test_the_generic_update_cannot_touch_a_countys_name_or_code(world, change):
    with pytest.raises(ValidationFailed) as err:
        unit_update(actor=world.chen_jing, now=T0, unit_id=world.county.pk, **change)
    assert "区划代码" in err.value.message
    county = Unit.dangerously_unscoped.get(pk=world.county.pk)
    assert (county.name, county.division_code) == ("浑源县", "140225000000")
    # The same value, or other fields, still go through.
    unit_update(actor=world.chen_jing, now=T0, unit_id=world.county.pk, name="浑源县", household_estimate=100)


def test_the_api_refuses_too_and_the_page_stays(world, login):
    client = login(world.chen_jing)
    r = client.patch(f"/api/units/{world.county.pk}", {"division_code": None, "name": "X"},
                     content_type="application/json")
    assert r.status_code == 400 and "区划代码" in r.json()["message"]
    assert Unit.dangerously_unscoped.get(pk=world.county.pk).division_code == "140225000000"


def test_the_county_identity_change_needs_the_right_a_reason_and_a_code(world):
    from gridgov.core.errors import NotFound, PermissionDenied

    with pytest.raises(ValidationFailed):
        county_identity_change(actor=world.chen_jing, now=T0, unit_id=world.county.pk, division_code="140299000000",
                               reason="")
    with pytest.raises(ValidationFailed):
        county_identity_change(actor=world.chen_jing, now=T0, unit_id=world.county.pk, division_code="",
                               reason="区划调整批准")
    with pytest.raises(ValidationFailed):  # a township is edited on its own page
        county_identity_change(actor=world.chen_jing, now=T0, unit_id=world.township.pk, name="新乡",
                               reason="区划调整批准")
    with pytest.raises((PermissionDenied, NotFound)):
        county_identity_change(actor=world.zhang_wei, now=T0, unit_id=world.county.pk, name="新名县",
                               reason="区划调整批准")
    assert not AuditEvent.objects.filter(action="unit.county_identity").exists()
    county_identity_change(actor=world.chen_jing, now=T0, unit_id=world.county.pk, name="浑源新县",
                           reason="区划调整批准")
    assert Unit.dangerously_unscoped.get(pk=world.county.pk).name == "浑源新县"
    assert Case.dangerously_unscoped.count() == 0
