"""Reporter disclosure (反映人告知): a department sees no part of a case reporter's identity (no
surname, no digits) unless the office that dispatches the case grants it, on that case, to that
department, for a written reason (audited `case.reporter_disclose`). Never for an anonymous reporter.

Kept apart from `services.py` so the intake and transitions stay where they are."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gridgov.access.models import Department, User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .models import Case, CaseEvent, ReporterDisclosure

REASON_MIN = 4
REASON_MAX = 200


def sees_as_office(scope: Scope, case: Case) -> bool:
    """The viewer sees the case through a unit grant over its place or its answerable unit (not only
    because it was dispatched to their department)."""
    return scope.can(P.CASE_VIEW, case.unit_path) or scope.can(P.CASE_VIEW, case.owner_path)


def disclosed_to(scope: Scope, case: Case) -> bool:
    """A disclosure of this case's reporter exists for one of the viewer's departments."""
    departments = scope.department_ids
    if not departments or case.anonymous:
        return False
    return ReporterDisclosure.dangerously_unscoped.filter(case_id=case.pk, department_id__in=departments).exists()


def may_disclose(scope: Scope, case: Case) -> bool:
    """The office that dispatches this case (case.dispatch over its place or answerable unit)."""
    return not case.anonymous and bool(case.reporter_name_cipher or case.reporter_phone_cipher) and (
        scope.can(P.CASE_DISPATCH, case.unit_path) or scope.can(P.CASE_DISPATCH, case.owner_path))


def dispatched_departments(case: Case) -> list[Department]:
    """The departments the case was ever dispatched to: those a disclosure may name."""
    ids = CaseEvent.dangerously_unscoped.filter(case_id=case.pk, to_department__isnull=False).values("to_department_id")
    return list(Department.dangerously_unscoped.filter(pk__in=ids).order_by("name", "id"))


def case_reporter_disclose(*, actor: User | None, now: dt.datetime, case_id: int, reason: str,
                           department_id: int | None = None) -> ReporterDisclosure:
    """Let one department (the one holding the case, unless named) see the reporter of one case."""
    if actor is None:
        raise NotFound()
    scope = scope_for(actor)
    with transaction.atomic():
        case = Case.objects.within(scope).select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound()
        if not (scope.can(P.CASE_DISPATCH, case.unit_path) or scope.can(P.CASE_DISPATCH, case.owner_path)):
            raise PermissionDenied("只有交办这件事的综治中心可以向部门告知反映人。")
        if case.anonymous:
            raise Conflict("反映人要求匿名，不能告知任何部门。")
        if not (case.reporter_name_cipher or case.reporter_phone_cipher):
            raise Conflict("这件事没有登记反映人的姓名或电话。")
        text = (reason or "").strip()
        if len(text) < REASON_MIN:
            raise ValidationFailed(f"请写明向部门告知反映人的原因（至少 {REASON_MIN} 个字）。", field="reason")
        if len(text) > REASON_MAX:
            raise ValidationFailed(f"原因不能超过 {REASON_MAX} 个字。", field="reason")
        dept_id = department_id if department_id is not None else case.holder_department_id
        if dept_id is None or dept_id not in {d.pk for d in dispatched_departments(case)}:
            raise ValidationFailed("只能告知承办过这件事的部门。", field="department_id")
        if ReporterDisclosure.dangerously_unscoped.filter(case_id=case.pk, department_id=dept_id).exists():
            raise Conflict("已经向这个部门告知过反映人。")
        row = ReporterDisclosure.dangerously_unscoped.create(case=case, department_id=dept_id, reason=text,
                                                             granted_by=actor,
                                                 granted_at=now)
        path = case.unit_path if scope.can(P.CASE_DISPATCH, case.unit_path) else case.owner_path
        audit_record(action="case.reporter_disclose", actor=actor, now=now, obj=case, unit_path=path,
                     role=scope.role_at(path), detail={"reason": text, "department_id": dept_id,
                                                       "number": case.number})
    return row
