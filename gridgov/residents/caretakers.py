"""Who looks after a household (联系户): the grid worker and the party member assigned to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, NotFound, ValidationFailed

from .errors import ResidentError
from .guards import Action, acting_role, household_for_update, record_event
from .models import AssignmentKind, HouseholdAssignment, PoliticalStatus, Resident


@transaction.atomic
def household_assign_worker(*, actor: User | None, now: dt.datetime, household_id: int,
                            user: Any) -> HouseholdAssignment:
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if not scope_for(user).can(P.HOUSEHOLD_VIEW, household.unit.path):
        raise ValidationFailed(f"{user} 不负责该户所在的网格，不能联系该户。", field="user",
                               reason=ResidentError.WORKER_NOT_ON_GRID)
    current = HouseholdAssignment.dangerously_unscoped.filter(household=household, kind=AssignmentKind.GRID_WORKER,
                                                  ended_at__isnull=True).first()
    if current is not None:
        if current.user_id == user.pk:
            return current
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    assignment = HouseholdAssignment.dangerously_unscoped.create(household=household, kind=AssignmentKind.GRID_WORKER,
                                                                 user=user,
                                                     started_at=now, set_by=actor)
    record_event(household, Action.ASSIGNED, actor=actor, now=now, changes={"grid_worker": str(user)})
    audit_record(action="household.assign", actor=actor, now=now, obj=assignment, unit_path=household.unit.path,
                 role=role, detail={"user": user.pk})
    return assignment


@transaction.atomic
def household_link_party_member(*, actor: User | None, now: dt.datetime, household_id: int,
                                 party_member_id: int) -> HouseholdAssignment:
    """党员联系户: a party member of the ledger is linked to a household they look after."""
    household = household_for_update(household_id)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    member = Resident.dangerously_unscoped.select_related("household__unit").filter(pk=party_member_id).first()
    if member is None or (actor is not None and not scope_for(actor).covers(member.household.unit.path)):
        raise NotFound()
    if member.political_status not in (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY):
        raise ValidationFailed(f"{member.name} 不是党员，不能作为联系党员。", field="party_member",
                               reason=ResidentError.NOT_A_PARTY_MEMBER)
    if HouseholdAssignment.dangerously_unscoped.filter(household=household, party_member=member,
                                                       ended_at__isnull=True).exists():
        raise ValidationFailed("该党员已联系该户。", field="party_member",
                               reason=ResidentError.PARTY_MEMBER_ALREADY_LINKED)
    link = HouseholdAssignment.dangerously_unscoped.create(household=household, kind=AssignmentKind.PARTY_MEMBER,
                                               party_member=member, started_at=now, set_by=actor)
    record_event(household, Action.ASSIGNED, actor=actor, now=now, changes={"party_member": member.name})
    audit_record(action="household.party_link", actor=actor, now=now, obj=link, unit_path=household.unit.path,
                 role=role, detail={"party_member": member.pk})
    return link


@transaction.atomic
def assignment_end(*, actor: User | None, now: dt.datetime, assignment_id: int) -> HouseholdAssignment:
    """A grid worker or party member stops looking after a household (history and audit)."""
    link = (HouseholdAssignment.dangerously_unscoped.select_for_update(of=("self",))
            .select_related("household__unit", "party_member", "user").filter(pk=assignment_id).first())
    if link is None:
        raise NotFound()
    role = acting_role(actor, P.HOUSEHOLD_EDIT, link.household.unit.path)
    if link.ended_at is None:
        link.ended_at = now
        link.save(update_fields=["ended_at"])
        who = link.party_member.name if link.party_member else str(link.user)
        record_event(link.household, Action.ASSIGNED, actor=actor, now=now,
               changes={"ended": AssignmentKind(link.kind).label, "who": who})
        audit_record(action="household.assignment_end", actor=actor, now=now, obj=link,
                     unit_path=link.household.unit.path, role=role, detail={"kind": link.kind})
    return link


@dataclass(frozen=True)
class ContactsResult:
    changed: int
    unchanged: int
    load: int  # households the grid worker or party member looks after now


@transaction.atomic
def contacts_assign(*, actor: User | None, now: dt.datetime, household_ids: Iterable[int], worker: Any = None,
                    party_member_id: int | None = None) -> ContactsResult:
    """联系户分配: one grid worker, or one party member, takes on several households at once. All or
    nothing: a household the actor may not edit, or a worker not covering it, refuses the whole batch."""
    ids = sorted(set(household_ids))
    if not ids:
        raise ValidationFailed("请勾选要分配的户。", field="households", reason=CommonError.REQUIRED)
    if (worker is None) == (party_member_id is None):
        raise ValidationFailed("请选择一位网格员或一位党员。", reason=CommonError.REQUIRED)
    changed = unchanged = 0
    for household_id in ids:
        if worker is not None:
            current = HouseholdAssignment.dangerously_unscoped.filter(household_id=household_id,
                                                                      kind=AssignmentKind.GRID_WORKER,
                                                          ended_at__isnull=True, user=worker).exists()
            if not current:
                household_assign_worker(actor=actor, now=now, household_id=household_id, user=worker)
        else:
            current = HouseholdAssignment.dangerously_unscoped.filter(household_id=household_id,
                                                                      party_member_id=party_member_id,
                                                          ended_at__isnull=True).exists()
            if not current:
                household_link_party_member(actor=actor, now=now, household_id=household_id,
                                            party_member_id=party_member_id)  # type: ignore[arg-type]
        if current:
            # Checked again with the service's own guards, so an unchanged row is still one the actor may edit.
            acting_role(actor, P.HOUSEHOLD_EDIT, household_for_update(household_id).unit.path)
            unchanged += 1
        else:
            changed += 1
    open_links = HouseholdAssignment.dangerously_unscoped.filter(ended_at__isnull=True)
    load = (open_links.filter(kind=AssignmentKind.GRID_WORKER, user=worker) if worker is not None
            else open_links.filter(party_member_id=party_member_id)).count()
    return ContactsResult(changed=changed, unchanged=unchanged, load=load)
