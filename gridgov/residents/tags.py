"""Tagging households and residents with key groups (重点人群) and ending a tag.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.errors import CommonError, NotFound, ValidationFailed

from .errors import ResidentError
from .guards import Action, acting_role, bump, household_for_update, local_today, record_event, resident_for_update
from .models import Tag, TagAssignment, TagTarget


@transaction.atomic
def tag_assign(*, actor: User | None, now: dt.datetime, tag_code: str, household_id: int | None = None,
               resident_id: int | None = None, start_date: dt.date | None = None, note: str = "") -> TagAssignment:
    tag = Tag.objects.filter(code=tag_code, is_active=True).first()
    if tag is None:
        raise ValidationFailed("请选择有效的标签。", field="tag", reason=CommonError.REQUIRED)
    if (household_id is None) == (resident_id is None):
        raise ValidationFailed("标签要加在一户或一个人上。", reason=ResidentError.TAG_TARGET_MISSING)
    resident = None
    if resident_id is not None:
        resident = resident_for_update(resident_id)
        household = resident.household
        if tag.applies_to != TagTarget.RESIDENT:
            raise ValidationFailed(f"「{tag.name}」是户的标签，不能加在人员上。", field="tag",
                                   reason=ResidentError.TAG_WRONG_TARGET)
    else:
        household = household_for_update(household_id)  # type: ignore[arg-type]
        if tag.applies_to != TagTarget.HOUSEHOLD:
            raise ValidationFailed(f"「{tag.name}」是人员的标签，请加在具体成员上。", field="tag",
                                   reason=ResidentError.TAG_WRONG_TARGET)
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if tag.is_sensitive and actor is not None:
        acting_role(actor, P.SENSITIVE_TAGS, household.unit.path)
    start = start_date or local_today(now)
    if start > local_today(now):
        raise ValidationFailed("开始日期不能晚于今天。", field="start_date", reason=CommonError.OUT_OF_RANGE)
    open_q = TagAssignment.dangerously_unscoped.filter(tag=tag, end_date__isnull=True)
    if (open_q.filter(resident=resident) if resident else open_q.filter(household=household)).exists():
        raise ValidationFailed(f"已经有「{tag.name}」标签。", field="tag", reason=ResidentError.TAG_ALREADY_ASSIGNED)
    assignment = TagAssignment.dangerously_unscoped.create(
        tag=tag, household=None if resident else household, resident=resident, start_date=start,
        note=cleaning.text(note, field="note", label="说明", max_length=200), set_by=actor, set_at=now,
    )
    bump(household, now)
    record_event(household, Action.TAGGED, actor=actor, now=now, resident=resident,
           changes={"tag": tag.name, "code": tag.code, "start": start.isoformat()}, sensitive=tag.is_sensitive)
    audit_record(action="tag.assign", actor=actor, now=now, obj=assignment, unit_path=household.unit.path, role=role,
                 detail={"tag": tag.code})
    return assignment


@transaction.atomic
def tag_end(*, actor: User | None, now: dt.datetime, assignment_id: int,
            end_date: dt.date | None = None) -> TagAssignment:
    assignment = (
        TagAssignment.dangerously_unscoped.select_for_update(of=("self",))
        .select_related("tag", "household__unit", "resident__household__unit")
        .filter(pk=assignment_id).order_by().first()
    )
    if assignment is None:
        raise NotFound()
    household = assignment.household or assignment.resident.household  # type: ignore[union-attr]
    role = acting_role(actor, P.HOUSEHOLD_EDIT, household.unit.path)
    if assignment.tag.is_sensitive and actor is not None:
        scope = scope_for(actor)
        if not scope.can(P.SENSITIVE_TAGS, household.unit.path):
            raise NotFound()  # the actor cannot see this tag at all
    if assignment.end_date is not None:
        raise ValidationFailed("该标签已经结束。", reason=ResidentError.TAG_ALREADY_ENDED)
    end = end_date or local_today(now)
    if end < assignment.start_date:
        raise ValidationFailed("结束日期不能早于开始日期。", field="end_date", reason=CommonError.OUT_OF_RANGE)
    assignment.end_date = end
    assignment.ended_by = actor
    assignment.save(update_fields=["end_date", "ended_by"])
    bump(household, now)
    record_event(household, Action.UNTAGGED, actor=actor, now=now, resident=assignment.resident,
           changes={"tag": assignment.tag.name, "code": assignment.tag.code, "end": end.isoformat()},
           sensitive=assignment.tag.is_sensitive)
    audit_record(action="tag.end", actor=actor, now=now, obj=assignment, unit_path=household.unit.path, role=role,
                 detail={"tag": assignment.tag.code})
    return assignment
