"""An office sets up its deployment by importing its county's townships from the division codes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridgov.audit.models import AuditEvent
from gridgov.units.models import Unit
from tests.world import T0

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_divisions", *args, stdout=out)
    return out.getvalue()


def test_imports_the_county_and_its_townships_once():
    text = run("--county", "140225")
    assert "新建 17 个单位" in text
    county = Unit.dangerously_unscoped.get(division_code="140225000000")
    assert (county.name, county.kind.code, county.parent_id) == ("浑源县", "county", None)
    wucheng = Unit.dangerously_unscoped.get(division_code="140225210000")
    assert (wucheng.name, wucheng.kind.code, wucheng.parent_id) == ("吴城乡", "township", county.pk)
    assert wucheng.path == f"{county.path}{wucheng.pk}/"
    assert Unit.dangerously_unscoped.filter(parent=county).count() == 16
    assert AuditEvent.objects.filter(action="unit.create").count() == 17
    before = list(Unit.dangerously_unscoped.values_list("pk", "path"))
    assert "新建 0 个单位，已存在 17 个" in run("--county", "140225000000")
    assert list(Unit.dangerously_unscoped.values_list("pk", "path")) == before


def test_subdistricts_are_recognised():
    run("--county", "430811")
    assert Unit.dangerously_unscoped.get(name="军地坪街道").kind.code == "subdistrict"
    assert Unit.dangerously_unscoped.get(name="协合乡").kind.code == "township"


def test_adds_only_missing_townships_to_an_existing_deployment(world):
    # The persona world has 浑源县 with 吴城乡 and 驼峰乡 already.
    run("--county", "140225")
    assert Unit.dangerously_unscoped.filter(parent=world.county).count() == 16
    assert Unit.dangerously_unscoped.filter(division_code="140225210000").get().pk == world.township.pk


def test_unknown_county_is_a_clear_error_and_writes_nothing():
    with pytest.raises(CommandError, match="找不到区划代码为 999999 的县"):
        run("--county", "999999")
    assert not Unit.dangerously_unscoped.exists()


def test_a_township_code_held_elsewhere_fails_the_whole_import():
    from gridgov.units.services import unit_create

    other = unit_create(actor=None, now=T0, parent=None, name="别处", kind_code="county").unit
    unit_create(actor=None, now=T0, parent=other, name="吴城乡", kind_code="township", division_code="140225210000")
    with pytest.raises(CommandError, match="不在「浑源县」之下"):
        run("--county", "140225")
    assert Unit.dangerously_unscoped.count() == 2
