"""The hierarchy's write paths: creation, edits, re-zoning, boundaries, and the bad input of the
foundation issue (cycles, duplicate division codes, invalid GeoJSON, unknown kinds)."""

from __future__ import annotations

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.units import locate
from gridgov.units.models import Unit, UnitEvent
from gridgov.units.services import unit_create, unit_move, unit_update
from tests.world import T0, square

pytestmark = pytest.mark.django_db


def fresh(unit: Unit) -> Unit:
    return Unit.dangerously_unscoped.get(pk=unit.pk)


def test_paths_are_materialised_and_subtree_is_one_prefix_filter(world):
    a1 = fresh(world.grid_a1)
    assert a1.path == f"/{world.county.pk}/{world.township.pk}/{world.village.pk}/{a1.pk}/"
    assert a1.depth == 3
    subtree = Unit.dangerously_unscoped.filter(path__startswith=fresh(world.village).path)
    assert set(subtree.values_list("name", flat=True)) == {"吴城村", "吴城村第一网格", "吴城村第二网格"}


def test_move_rewrites_every_path_below_in_one_transaction_and_keeps_history(world):
    # Re-zone 吴城村 (with its two grids) under 驼峰乡.
    result = unit_move(actor=world.chen_jing, now=T0, unit_id=world.village.pk, new_parent_id=world.sibling_township.pk)
    village = result.unit
    assert village.path == f"{fresh(world.sibling_township).path}{village.pk}/"
    for grid in (world.grid_a1, world.grid_a2):
        g = fresh(grid)
        assert g.path.startswith(village.path)
        assert g.depth == village.depth + 1
    event = UnitEvent.objects.get(unit=village, action=UnitEvent.Action.MOVED)
    assert event.old_parent_id == world.township.pk
    assert event.new_parent_id == world.sibling_township.pk
    assert AuditEvent.objects.filter(action="unit.move", object_id=str(village.pk)).count() == 1
    # The boundary of 吴城村 lies outside 驼峰乡: warned, not refused.
    assert result.warnings and "超出" in result.warnings[0]


def test_moving_a_unit_under_its_own_descendant_is_refused_and_nothing_changes(world):
    before = list(Unit.dangerously_unscoped.order_by("pk").values_list("pk", "path"))
    with pytest.raises(ValidationFailed, match="下级"):
        unit_move(actor=world.chen_jing, now=T0, unit_id=world.township.pk, new_parent_id=world.grid_a1.pk)
    with pytest.raises(ValidationFailed):
        unit_move(actor=world.chen_jing, now=T0, unit_id=world.village.pk, new_parent_id=world.village.pk)
    assert list(Unit.dangerously_unscoped.order_by("pk").values_list("pk", "path")) == before


def test_move_outside_the_actors_scope_is_not_found(world):
    with pytest.raises(NotFound):
        unit_move(actor=world.zhang_wei, now=T0, unit_id=world.village.pk, new_parent_id=world.sibling_township.pk)
    with pytest.raises(PermissionDenied):
        unit_move(actor=world.wang_fang, now=T0, unit_id=world.grid_a1.pk, new_parent_id=world.village_b.pk)


def test_duplicate_division_code_is_refused_with_the_owner_named(world):
    with pytest.raises(ValidationFailed, match="吴城乡"):
        unit_create(actor=world.chen_jing, now=T0, parent=world.county, name="重复乡", kind_code="township",
                    division_code="140225210000")
    assert not Unit.dangerously_unscoped.filter(name="重复乡").exists()


@pytest.mark.parametrize("code", ["14022521000", "1402252100001", "14022521000X", "abc"])
def test_division_code_must_be_12_digits(world, code):
    with pytest.raises(ValidationFailed, match="12 位数字"):
        unit_update(actor=world.chen_jing, now=T0, unit_id=world.township.pk, division_code=code)


def test_unknown_kind_is_refused(world):
    with pytest.raises(ValidationFailed, match="未知的单位类型"):
        unit_create(actor=world.chen_jing, now=T0, parent=world.township, name="新村", kind_code="castle")
    assert not Unit.dangerously_unscoped.filter(name="新村").exists()


def test_custom_kind_such_as_hamlet_grid_is_a_grid(world):
    unit = unit_create(actor=world.li_qiang, now=T0, parent=world.village, name="枫香屋场", kind_code="hamlet_grid",
                       serial="A3").unit
    assert unit.is_grid
    assert unit.kind.name == "屋场网格"


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 39.0], [113.1, 39.1], [113.1, 39.0], [113.0, 39.1], [113.0, 39.0]]],
}


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        (BOWTIE, "自相交"),
        ({"type": "Point", "coordinates": [113.0, 39.0]}, "多边形"),
        ("{not json", "GeoJSON"),
        ({"type": "Polygon", "coordinates": [[[1, 2]]]}, "坐标"),
        ({"type": "Polygon", "coordinates": [[[39.0, 113.0], [39.1, 113.0], [39.1, 113.1], [39.0, 113.0]]]}, "范围"),
    ],
)
def test_invalid_geojson_is_refused_with_a_clear_message(world, boundary, message):
    with pytest.raises(ValidationFailed, match=message):
        unit_update(actor=world.li_qiang, now=T0, unit_id=world.grid_a1.pk, boundary=boundary)
    assert fresh(world.grid_a1).boundary == world.grid_a1.boundary


def test_child_boundary_outside_parent_is_warned(world):
    result = unit_create(actor=world.li_qiang, now=T0, parent=world.village, name="越界网格", kind_code="grid",
                         boundary=square(113.15, 39.15, 0.2))
    assert result.warnings and "吴城村" in result.warnings[0]


def test_stale_version_is_a_conflict(world):
    unit_update(actor=world.li_qiang, now=T0, unit_id=world.grid_a1.pk, expected_version=1, name="一组网格")
    with pytest.raises(Conflict):
        unit_update(actor=world.li_qiang, now=T0, unit_id=world.grid_a1.pk, expected_version=1, name="二组网格")
    assert fresh(world.grid_a1).name == "一组网格"


def test_serial_is_unique_within_a_parent(world):
    with pytest.raises(ValidationFailed, match="A1"):
        unit_create(actor=world.li_qiang, now=T0, parent=world.village, name="另一网格", kind_code="grid", serial="A1")


def test_point_in_grid_finds_the_deepest_unit_and_follows_boundary_edits(world, django_capture_on_commit_callbacks):
    assert locate.unit_id_at(39.05, 113.05) == world.grid_a1.pk
    assert locate.unit_id_at(39.05, 113.15) == world.grid_a2.pk
    assert locate.unit_id_at(39.15, 113.05) == world.village.pk  # in the village, in no grid
    assert locate.unit_id_at(10.0, 100.0) is None
    with django_capture_on_commit_callbacks(execute=True):
        unit_update(actor=world.li_qiang, now=T0, unit_id=world.grid_a1.pk, boundary=square(113.0, 39.1, 0.1))
    assert locate.unit_id_at(39.15, 113.05) == world.grid_a1.pk
    assert locate.unit_id_at(39.05, 113.05) == world.village.pk
