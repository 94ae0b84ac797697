from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from gridgov.audit.models import AuditEvent
from gridgov.core import fieldcrypto
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.residents import protected
from gridgov.residents.households import household_create, household_merge, household_split, household_update
from gridgov.residents.members import resident_add, resident_move, resident_update
from gridgov.residents.models import Household, HouseholdEvent, HouseholdStatus, Resident, TagAssignment
from gridgov.residents.tags import tag_assign, tag_end
from gridgov.residents.unmasking import resident_unmask
from tests.residents.conftest import make_id
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_raw_sql_read_shows_ciphertext_not_id_numbers_or_phones(ledger):
    with connection.cursor() as cur:
        cur.execute("SELECT id_cipher, id_index, id_masked, phone_cipher FROM residents_resident")
        rows = cur.fetchall()
        cur.execute("SELECT * FROM residents_resident")
        everything = repr(cur.fetchall())
    assert rows
    assert ledger.wang_wei_id not in everything
    assert ledger.wang_wei_phone not in everything
    assert all(r[0].startswith("v1:") for r in rows)
    assert any(r[2] == ledger.wang_wei_id[:4] + "*" * 10 + ledger.wang_wei_id[-4:] for r in rows)


def test_ciphertext_is_bound_to_its_field_and_tamper_evident(ledger):
    cipher = ledger.wang_wei.id_cipher
    assert protected.reveal_id(cipher) == ledger.wang_wei_id
    with pytest.raises(fieldcrypto.FieldCryptoError):
        protected.reveal_phone(cipher)
    tampered = cipher[:-4] + ("AAAA" if not cipher.endswith("AAAA") else "BBBB")
    with pytest.raises(fieldcrypto.FieldCryptoError):
        protected.reveal_id(tampered)


def test_duplicate_id_number_names_the_existing_household_masked(world, ledger):
    with pytest.raises(ValidationFailed) as exc:
        resident_add(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, name="王伟",
                              id_number=ledger.wang_wei_id, relation="子女")
    assert "吴城村第一网格" in exc.value.message and "王*" in exc.value.message
    assert ledger.wang_wei_id not in exc.value.message
    # Someone who cannot see that household learns only that it exists elsewhere.
    with pytest.raises(ValidationFailed) as exc:
        resident_add(actor=world.sun_li, now=T0, household_id=ledger.c1.pk, name="王伟",
                              id_number=ledger.wang_wei_id, relation="子女")
    assert exc.value.message == "该身份证号已在其他辖区的台账中登记。"


def test_the_database_refuses_a_second_active_id_number(ledger):
    r = ledger.wang_wei
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.dangerously_unscoped.create(household=ledger.a2, relation="child", name="王伟", gender="M",
                                 birth_date=r.birth_date, id_cipher=r.id_cipher, id_index=r.id_index,
                                 id_masked=r.id_masked, created_at=T0, updated_at=T0)


def test_birth_date_and_gender_contradicting_the_id_are_refused(world, ledger):
    number = make_id(dt.date(1988, 8, 8), 41)  # 41: odd → male
    with pytest.raises(ValidationFailed) as exc:
        resident_add(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, name="刘一", id_number=number,
                              relation="子女", birth_date="1988-08-09")
    assert "不一致" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        resident_add(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, name="刘一", id_number=number,
                              relation="子女", gender="女")
    assert "性别" in exc.value.message
    assert not Resident.dangerously_unscoped.filter(name="刘一").exists()


def test_one_head_per_household(world, ledger):
    with pytest.raises(ValidationFailed, match="户主"):
        resident_add(actor=world.wang_fang, now=T0, household_id=ledger.a1.pk, name="王二",
                              id_number=make_id(dt.date(1977, 1, 1), 11), relation="户主")


def test_household_outside_scope_is_refused(world, ledger):
    with pytest.raises(ValidationFailed, match="不在您可以登记的范围内"):
        household_create(actor=world.wang_fang, now=T0, unit_id=world.grid_a2.pk, address="吴城村二组")
    with pytest.raises(ValidationFailed, match="最末一级网格"):
        household_create(actor=world.zhang_wei, now=T0, unit_id=world.village.pk, address="吴城村")


def test_location_files_the_household_in_its_grid(world):
    h = household_create(actor=world.li_qiang, now=T0, lat=39.05, lng=113.15, address="吴城村二组")
    assert h.unit_id == world.grid_a2.pk
    with pytest.raises(ValidationFailed, match="不在任何网格"):
        household_create(actor=world.li_qiang, now=T0, lat=10.0, lng=10.0, address="海上")


def test_stale_version_is_a_conflict(world, ledger):
    v = ledger.a1.version
    household_update(actor=world.wang_fang, now=T0, household_id=ledger.a1.pk, expected_version=v,
                              address="吴城村一组东")
    with pytest.raises(Conflict):
        household_update(actor=world.wang_fang, now=T0, household_id=ledger.a1.pk, expected_version=v,
                                  address="吴城村一组西")
    assert Household.dangerously_unscoped.get(pk=ledger.a1.pk).address == "吴城村一组东"


def test_unmask_needs_the_right_and_a_reason_and_is_audited(world, ledger):
    with pytest.raises(PermissionDenied):
        resident_unmask(actor=world.wang_fang, now=T0, resident_id=ledger.wang_wei.pk, reason="入户核实信息")
    with pytest.raises(NotFound):
        resident_unmask(actor=world.sun_li, now=T0, resident_id=ledger.wang_wei.pk, reason="入户核实信息")
    with pytest.raises(ValidationFailed, match="原因"):
        resident_unmask(actor=world.zhang_wei, now=T0, resident_id=ledger.wang_wei.pk, reason="看")
    revealed = resident_unmask(actor=world.zhang_wei, now=T0, resident_id=ledger.wang_wei.pk,
                                        reason="办理低保复核")
    assert revealed.id_number == ledger.wang_wei_id
    assert revealed.phone == ledger.wang_wei_phone
    event = AuditEvent.objects.get(action="resident.unmask")
    assert event.actor_id == world.zhang_wei.pk
    assert event.detail["reason"] == "办理低保复核"
    assert ledger.wang_wei_id not in repr(event.detail)


def test_move_merge_split_keep_history(world, ledger):
    child = ledger.child
    resident_move(actor=world.wang_fang, now=T0, resident_id=child.pk, to_household_id=ledger.a1_b.pk,
                           relation="孙子女")
    assert Resident.dangerously_unscoped.get(pk=child.pk).household_id == ledger.a1_b.pk
    assert HouseholdEvent.dangerously_unscoped.filter(household=ledger.a1, action="member_out").exists()
    target = household_merge(actor=world.wang_fang, now=T0, household_id=ledger.a1_b.pk, into_id=ledger.a1.pk)
    source = Household.dangerously_unscoped.get(pk=ledger.a1_b.pk)
    assert source.status == HouseholdStatus.MERGED and source.merged_into_id == target.pk
    assert Resident.dangerously_unscoped.filter(household=ledger.a1, status="active").count() == 3
    new = household_split(actor=world.wang_fang, now=T0, household_id=ledger.a1.pk,
                                   resident_ids=[child.pk], new_head_id=child.pk, house_number="12-1")
    assert Resident.dangerously_unscoped.get(pk=child.pk).household_id == new.pk
    assert {e.action for e in HouseholdEvent.dangerously_unscoped.filter(household=ledger.a1)} >= {"merged_from",
                                                                                                   "split"}
    # the grid worker cannot move a resident into a household of another grid
    with pytest.raises(NotFound):
        resident_move(actor=world.wang_fang, now=T0, resident_id=child.pk, to_household_id=ledger.a2.pk,
                               relation="子女")


def test_sensitive_tags_need_the_right(world, ledger):
    with pytest.raises(PermissionDenied):
        tag_assign(actor=world.wang_fang, now=T0, tag_code="dibao", household_id=ledger.a1.pk)
    tag_assign(actor=world.wang_fang, now=T0, tag_code="hardship", household_id=ledger.a1.pk)
    tag = tag_assign(actor=world.zhao_lei, now=T0, tag_code="dibao", household_id=ledger.a1.pk,
                              start_date=dt.date(2025, 1, 1))
    with pytest.raises(ValidationFailed, match="已经有"):
        tag_assign(actor=world.zhao_lei, now=T0, tag_code="dibao", household_id=ledger.a1.pk)
    with pytest.raises(ValidationFailed, match="人员"):
        tag_assign(actor=world.zhao_lei, now=T0, tag_code="left_behind_child", household_id=ledger.a1.pk)
    tag_end(actor=world.zhao_lei, now=T0, assignment_id=tag.pk)
    assert TagAssignment.dangerously_unscoped.get(pk=tag.pk).end_date == dt.date(2026, 3, 2)


def test_resident_update_rechecks_id_and_keeps_ciphertext(world, ledger):
    new_id = make_id(dt.date(1975, 4, 12), 33)
    r = resident_update(actor=world.wang_fang, now=T0, resident_id=ledger.wang_wei.pk,
                                 expected_version=ledger.wang_wei.version, id_number=new_id, phone="0352-8123456")
    assert protected.reveal_id(r.id_cipher) == new_id
    assert r.phone_masked == "0352-***3456"
    with pytest.raises(Conflict):
        resident_update(actor=world.wang_fang, now=T0, resident_id=r.pk, expected_version=1, occupation="农民")
