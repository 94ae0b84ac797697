"""Retention of the ledger (个人信息保护法 Art. 19, 47): personal data is deleted once its purpose is over.

- A resident who moved out or died is purged `resident_retention_days` (security policy, default
  1095) after that status was set: the row, their key-group tags, their party-member links, and the
  history rows about them lose their content. A household moved out, dissolved or merged away, with
  nobody left in it, goes too, with its tags, links and history.
- Uploaded ledger sheets (which hold whole households) are emptied 30 days after the import finished.

Both run daily (Celery beat `residents-retention`), are idempotent, and audit each purge without
naming the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from gridgov.access.policy import policy
from gridgov.audit.services import audit_record

from .models import (
    Household,
    HouseholdAssignment,
    HouseholdEvent,
    HouseholdStatus,
    ImportJob,
    Resident,
    ResidentStatus,
    TagAssignment,
)

IMPORT_FILE_DAYS = 30
GONE = (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED)
GONE_HOUSEHOLDS = (HouseholdStatus.MOVED_OUT, HouseholdStatus.DISSOLVED, HouseholdStatus.MERGED)


@dataclass
class PurgeReport:
    residents: int = 0
    households: int = 0
    import_files: int = 0


def _purge_resident(resident: Resident, *, now: dt.datetime, days: int) -> None:
    HouseholdAssignment.dangerously_unscoped.filter(party_member=resident).delete()
    TagAssignment.dangerously_unscoped.filter(resident=resident).delete()
    HouseholdEvent.dangerously_unscoped.filter(resident=resident).update(changes={"purged": True}, resident=None)
    audit_record(action="resident.purge", actor=None, now=now, obj=resident,
                 unit_path=resident.household.unit.path,
                 detail={"status": resident.status, "since": resident.updated_at.isoformat(), "retention_days": days})
    resident.delete()


def residents_purge(*, now: dt.datetime) -> PurgeReport:
    days = policy().resident_retention_days
    cutoff = now - dt.timedelta(days=days)
    report = PurgeReport()
    due = list(Resident.dangerously_unscoped.filter(status__in=GONE, updated_at__lt=cutoff).values_list("pk",
                                                                                                        flat=True))
    for pk in due:
        with transaction.atomic():
            resident = Resident.dangerously_unscoped.select_for_update().select_related("household__unit").filter(
                pk=pk, status__in=GONE, updated_at__lt=cutoff).first()
            if resident is None:
                continue
            _purge_resident(resident, now=now, days=days)
            report.residents += 1
    households = list(
        Household.dangerously_unscoped.filter(status__in=GONE_HOUSEHOLDS, updated_at__lt=cutoff)
        .exclude(members__isnull=False).values_list("pk", flat=True)
    )
    for pk in households:
        with transaction.atomic():
            household = Household.dangerously_unscoped.select_for_update().select_related("unit").filter(
                pk=pk, status__in=GONE_HOUSEHOLDS, updated_at__lt=cutoff).first()
            if household is None or Resident.dangerously_unscoped.filter(household=household).exists():
                continue
            if Household.dangerously_unscoped.filter(merged_into=household).exists():
                continue  # still the target of a merge record kept elsewhere
            audit_record(action="household.purge", actor=None, now=now, obj=household, unit_path=household.unit.path,
                         detail={"status": household.status, "since": household.updated_at.isoformat(),
                                 "retention_days": days})
            household.delete()  # tags, links and history go with it (cascade)
            report.households += 1
    return report


def import_files_purge(*, now: dt.datetime) -> int:
    cutoff = now - dt.timedelta(days=IMPORT_FILE_DAYS)
    jobs = ImportJob.dangerously_unscoped.filter(finished_at__lt=cutoff).filter(~Q(content=b"")).values_list("pk",
                                                                                                             flat=True)
    done = 0
    for pk in list(jobs):
        with transaction.atomic():
            updated = ImportJob.dangerously_unscoped.filter(pk=pk).update(content=b"")
            if updated:
                audit_record(action="import.file_purge", actor=None, now=now, object_type="residents.importjob",
                             object_id=str(pk), detail={"days": IMPORT_FILE_DAYS})
                done += updated
    return done


def retention_run(*, now: dt.datetime) -> PurgeReport:
    report = residents_purge(now=now)
    report.import_files = import_files_purge(now=now)
    return report
