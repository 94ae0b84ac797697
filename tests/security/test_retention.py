"""Retention jobs: a public reporter's phone is gone well within 180 days of the case's closure
(the form promises 30); residents who moved out or died are purged on the security policy's
schedule, with their tags, links and history content, and empty households with them; uploaded
ledger sheets are emptied; each run audited, idempotent, and on the beat schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from gridgov.access.policy import policy_update
from gridgov.audit.models import AuditEvent
from gridgov.cases import reporter
from gridgov.cases.models import Case
from gridgov.cases.public.services import PHONE_RETENTION_DAYS, reporter_phones_purge
from gridgov.residents import retention
from gridgov.residents.caretakers import household_link_party_member
from gridgov.residents.households import household_set_status
from gridgov.residents.members import resident_set_status
from gridgov.residents.models import (
    Household,
    HouseholdAssignment,
    HouseholdEvent,
    ImportJob,
    Resident,
    TagAssignment,
)
from gridgov.residents.tags import tag_assign
from tests.cases.conftest import categories, kit  # noqa: F401  (the case fixtures, shared)
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_a_reporters_phone_is_deleted_within_180_days_of_closure(kit):  # noqa: F811
    case = kit.to_state("closed", reporter_name="杨大叔", reporter_phone="13400000007")
    closed_at = Case.dangerously_unscoped.get(pk=case.pk).updated_at
    still_open = kit.to_state("handling", reporter_phone="13400000008")
    assert PHONE_RETENTION_DAYS <= 180
    assert reporter_phones_purge(now=closed_at + dt.timedelta(days=PHONE_RETENTION_DAYS - 1)) == 0
    assert reporter_phones_purge(now=closed_at + dt.timedelta(days=180)) == 1
    assert reporter.reveal_phone(Case.dangerously_unscoped.get(pk=case.pk)) == ""
    assert Case.dangerously_unscoped.get(pk=case.pk).reporter_phone_masked == ""
    assert reporter.reveal_name(Case.dangerously_unscoped.get(pk=case.pk)) == "杨大叔"  # the case record stays
    assert reporter.reveal_phone(Case.dangerously_unscoped.get(pk=still_open.pk)) == "13400000008"
    assert AuditEvent.objects.filter(action="case.reporter_phone_purge").count() == 1


def test_the_retention_jobs_are_on_the_beat_schedule():
    from config.celery import app
    from config.jobs import JOB_BY_NAME

    app.loader.import_default_modules()
    for name in ("residents-retention", "reporter-phones-purge"):
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] in app.tasks and JOB_BY_NAME[name].period <= 86400


def test_moved_out_and_deceased_residents_are_purged_on_the_configured_schedule(world, ledger):
    policy_update(actor=world.zheng_hong, now=T0, resident_retention_days=365)
    # 王伟民 (a1_b's head) dies; the child of a1 moves out; a party-member link points at 王伟民.
    gone = Resident.dangerously_unscoped.get(household=ledger.a1_b)
    Resident.dangerously_unscoped.filter(pk=gone.pk).update(political_status="party_member")
    household_link_party_member(actor=None, now=T0, household_id=ledger.a2.pk, party_member_id=gone.pk)
    tag_assign(actor=None, now=T0, tag_code="elder_alone", resident_id=gone.pk, start_date=T0.date())
    resident_set_status(actor=None, now=T0, resident_id=gone.pk, status="deceased", reason="病故")
    resident_set_status(actor=None, now=T0 + dt.timedelta(days=100), resident_id=ledger.child.pk,
                                 status="moved_out", reason="随父母进城")
    assert HouseholdEvent.dangerously_unscoped.filter(resident=gone).exists()
    # Not yet: 364 days after the death.
    report = retention.retention_run(now=T0 + dt.timedelta(days=364))
    assert report.residents == 0 and Resident.dangerously_unscoped.filter(pk=gone.pk).exists()
    report = retention.retention_run(now=T0 + dt.timedelta(days=366))
    assert report.residents == 1
    assert not Resident.dangerously_unscoped.filter(pk=gone.pk).exists()
    assert not TagAssignment.dangerously_unscoped.filter(resident_id=gone.pk).exists()
    assert not HouseholdAssignment.dangerously_unscoped.filter(party_member_id=gone.pk).exists()
    assert HouseholdEvent.dangerously_unscoped.filter(household=ledger.a1_b,
                                                      action="member_out").get().changes == {"purged": True}
    assert Resident.dangerously_unscoped.filter(pk=ledger.child.pk).exists()  # moved out later: not yet due
    assert Resident.dangerously_unscoped.filter(pk=ledger.wang_wei.pk).exists()  # active residents stay
    event = AuditEvent.objects.get(action="resident.purge")
    assert event.object_id == str(gone.pk) and "王伟民" not in str(event.detail)
    # The child's turn comes 365 days after their move; idempotent afterwards.
    assert retention.retention_run(now=T0 + dt.timedelta(days=466)).residents == 1
    assert retention.retention_run(now=T0 + dt.timedelta(days=466)).residents == 0
    assert AuditEvent.objects.filter(action="resident.purge").count() == 2


def test_an_empty_household_that_moved_away_is_purged_with_its_history(world, ledger):
    policy_update(actor=world.zheng_hong, now=T0, resident_retention_days=180)
    household_set_status(actor=None, now=T0, household_id=ledger.b1.pk, status="moved_out", reason="整户迁出")
    assert Household.dangerously_unscoped.filter(pk=ledger.b1.pk).exists()
    report = retention.retention_run(now=T0 + dt.timedelta(days=181))
    assert report.residents == 1 and report.households == 1
    assert not Household.dangerously_unscoped.filter(pk=ledger.b1.pk).exists()
    assert not HouseholdEvent.dangerously_unscoped.filter(household_id=ledger.b1.pk).exists()
    assert AuditEvent.objects.filter(action="household.purge", object_id=str(ledger.b1.pk)).exists()
    assert Household.dangerously_unscoped.filter(pk=ledger.a1.pk).exists()


def test_uploaded_ledger_sheets_are_emptied_after_30_days(world):
    job = ImportJob.dangerously_unscoped.create(unit=world.township, created_by=world.zhang_wei, created_at=T0,
                                                finished_at=T0,
                                    filename="台账.xlsx", content=b"PK sheet with households")
    assert retention.import_files_purge(now=T0 + dt.timedelta(days=29)) == 0
    assert retention.import_files_purge(now=T0 + dt.timedelta(days=31)) == 1
    assert bytes(ImportJob.dangerously_unscoped.get(pk=job.pk).content) == b""
    assert retention.import_files_purge(now=T0 + dt.timedelta(days=31)) == 0
    assert AuditEvent.objects.filter(action="import.file_purge", object_id=str(job.pk)).count() == 1
