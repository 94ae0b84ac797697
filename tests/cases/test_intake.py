from __future__ import annotations

import pytest

from gridgov.cases.intake import case_report
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.transitions import case_act
from gridgov.core.errors import Conflict, PermissionDenied, ValidationFailed
from gridgov.notify.models import Outbox
from gridgov.notify.services import recipients
from tests.world import T0

pytestmark = pytest.mark.django_db

BASE = {"title": "路灯不亮", "description": "村东头三盏路灯坏了一周。", "category_code": "livelihood",
        "channel": "hotline", "reporter_name": "王大妈", "reporter_phone": "13700000003"}


def report(world, **kw):
    data = {**BASE, "unit_id": world.grid_a1.pk, **kw}
    return case_report(actor=world.zhang_wei, now=T0, **data)


def test_same_key_and_payload_returns_the_same_case(kit):
    first = report(kit.world, idempotency_key="abc")
    again = report(kit.world, idempotency_key="abc")
    assert first.created and not again.created
    assert first.case.pk == again.case.pk
    assert Case.dangerously_unscoped.count() == 1 and CaseEvent.dangerously_unscoped.count() == 1


def test_same_key_other_payload_is_a_conflict_and_writes_nothing(kit):
    report(kit.world, idempotency_key="abc")
    with pytest.raises(Conflict, match="幂等键"):
        report(kit.world, idempotency_key="abc", title="路灯又坏了")
    assert Case.dangerously_unscoped.count() == 1


def test_keys_are_per_actor(kit):
    a = report(kit.world, idempotency_key="abc").case
    b = case_report(actor=kit.world.chen_jing, now=T0, unit_id=kit.world.grid_a1.pk, idempotency_key="abc",
                    **BASE).case
    assert a.pk != b.pk


@pytest.mark.parametrize(("change", "field"), [
    ({"category_code": ""}, "category"),
    ({"category_code": "no_such"}, "category"),
    ({"unit_id": None}, "location"),
    ({"unit_id": None, "lat": 20.0, "lng": 100.0}, "location"),  # outside the county
    ({"unit_id": 999999}, "unit_id"),
    ({"title": "  "}, "title"),
    ({"description": "x" * 4001}, "description"),
    ({"urgency": "whenever"}, "urgency"),
    ({"channel": "pigeon"}, "channel"),
    ({"reporter_phone": "call me"}, "reporter_phone"),
    ({"unit_id": None, "lat": 39.05}, "location"),
])
def test_bad_input_is_refused_with_a_field_and_nothing_written(kit, change, field):
    with pytest.raises(ValidationFailed) as info:
        report(kit.world, **change)
    assert info.value.field == field
    assert Case.dangerously_unscoped.count() == 0 and Outbox.objects.count() == 0


def test_staff_can_only_report_in_their_own_grids(kit):
    w = kit.world
    with pytest.raises(ValidationFailed):
        case_report(actor=w.wang_fang, now=T0, unit_id=w.grid_a2.pk, **BASE)
    with pytest.raises(PermissionDenied):
        case_report(actor=w.liu_yang, now=T0, unit_id=w.grid_a1.pk, **BASE)


def test_point_in_grid_finds_the_grid_and_holders_are_told(kit):
    w = kit.world
    c = case_report(actor=None, now=T0, lat=39.05, lng=113.15, **{**BASE, "channel": "public"}).case
    assert c.unit == w.grid_a2 and c.holder_unit == w.grid_a2
    row = Outbox.objects.get(kind="inbox", topic="case.new")
    assert w.qian_duo.pk in row.payload["user_ids"]


def test_duplicates_nearby_of_the_same_category_are_suggested(kit):
    first = case_report(actor=None, now=T0, lat=39.05, lng=113.05, **{**BASE, "channel": "public"}).case
    second = case_report(actor=None, now=T0, lat=39.0505, lng=113.0505, **{**BASE, "channel": "public"})
    assert [c.pk for c in second.duplicates] == [first.pk]
    far = case_report(actor=None, now=T0, lat=39.09, lng=113.09, **{**BASE, "channel": "public"})
    assert far.duplicates == []


def test_merge_moves_the_reporter_to_the_original_and_tells_them(kit):
    w = kit.world
    original = report(w).case
    dup = report(w, reporter_phone="13600000009", reporter_name="李四").case
    case_act(actor=w.zhao_lei, now=T0, case_id=dup.pk, action="merge", target_case_id=original.pk)
    row = CaseEvent.dangerously_unscoped.get(case=original, action="merged_in")
    assert row.detail["reporter_name"] == "李*"  # masked: the history keeps no reporter name in clear
    sms = Outbox.objects.get(kind="sms", topic="case.merged")
    assert recipients(sms.payload) == ("13600000009",) and "to" not in sms.payload
    assert original.number in sms.payload["text"]


def test_case_numbers_run_per_county_and_year(kit):
    a = report(kit.world).case
    b = report(kit.world).case
    assert a.number == "140225-2026-S00001" and b.number == "140225-2026-S00002"


def test_the_located_unit_is_read_whole_but_its_boundary(kit):
    """Intake reads the grid with one plain statement (intake._unit_with_county): every field as the ORM
    would give it, the county it belongs to, and the boundary only when something asks for it."""
    from gridgov.cases.intake import _county, _unit_with_county
    from gridgov.units.models import Unit

    w = kit.world
    unit = _unit_with_county(w.grid_a2.pk, active_only=True)
    assert unit is not None
    full = Unit.dangerously_unscoped.get(pk=w.grid_a2.pk)
    assert unit.get_deferred_fields() == {"boundary"}
    for f in Unit._meta.concrete_fields:
        if f.name != "boundary":
            assert getattr(unit, f.attname) == getattr(full, f.attname), f.name
    assert _county(unit).pk == w.county.pk and _county(unit).division_code == "140225000000"
    assert unit.boundary == full.boundary and unit.boundary is not None  # loaded on demand
    assert _unit_with_county(w.grid_a2.pk, active_only=True) is not None
    Unit.dangerously_unscoped.filter(pk=w.grid_a2.pk).update(is_active=False)
    assert _unit_with_county(w.grid_a2.pk, active_only=True) is None
    assert _unit_with_county(w.grid_a2.pk, active_only=False) is not None
    assert _unit_with_county("x", active_only=True) is None
