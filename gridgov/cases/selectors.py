"""Reads of cases, always through the actor's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.errors import NotFound

from . import deadlines
from .models import Case, CaseAttachment, CaseEvent, Category
from .states import ACTIVE, CLOCKED, Status

QUEUES: dict[str, str] = {
    "todo": "待办",
    "done": "已办",
    "due_soon": "即将超期",
    "overdue": "已超期",
    "supervised": "督办",
    "returned": "退回待审定",
}


def cases_visible(*, scope: Scope) -> QuerySet[Case]:
    return Case.objects.within(scope).select_related("category", "unit", "holder_unit", "holder_department")


def _held_by_me(scope: Scope) -> Q:
    q = Q(pk__in=[])
    for p in scope.paths_for(P.CASE_HANDLE) + scope.paths_for(P.CASE_DISPATCH):
        q |= Q(holder_unit__path__startswith=p)
    if scope.department_ids:
        q |= Q(holder_department_id__in=scope.department_ids)
    return q


def case_queue(*, scope: Scope, queue: str, now: dt.datetime, category_code: str = "", status: str = "",
               query: str = "", limit: int = 100) -> list[Case]:
    if queue not in QUEUES:
        queue = "todo"
    qs = cases_visible(scope=scope)
    active = [s.value for s in ACTIVE]
    if queue == "todo":
        qs = qs.filter(_held_by_me(scope), status__in=active).order_by("resolve_due", "id")
    elif queue == "done":
        acted = CaseEvent.unscoped.filter(actor_id=scope.user_id).values("case_id")
        qs = qs.filter(pk__in=acted).order_by("-updated_at", "-id")
    elif queue == "due_soon":
        qs = qs.filter(_held_by_me(scope), status__in=[s.value for s in CLOCKED], resolve_due__gt=now,
                       resolve_due__lte=now + deadlines.WARN_BEFORE * 2).order_by("resolve_due", "id")
    elif queue == "overdue":
        qs = qs.filter(status__in=[s.value for s in CLOCKED], resolve_due__lt=now).order_by("resolve_due", "id")
    elif queue == "supervised":
        qs = qs.filter(supervised=True, status__in=active).order_by("resolve_due", "id")
    elif queue == "returned":
        qs = qs.filter(status=Status.RETURNED).order_by("updated_at", "id")
    if category_code:
        qs = qs.filter(Q(category__code=category_code) | Q(category__parent__code=category_code))
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(Q(number__icontains=query) | Q(title__icontains=query))
    return list(qs[:limit])


def case_get(*, scope: Scope, case_id: int) -> Case:
    return get_in_scope(  # type: ignore[no-any-return]
        Case.objects.select_related("category", "unit", "holder_unit", "holder_department", "owner_unit",
                                    "county", "merged_into"),
        scope, pk=case_id)


def case_timeline(*, scope: Scope, case: Case) -> list[CaseEvent]:
    """History rows of a case already fetched through the scope."""
    return list(CaseEvent.unscoped.filter(case=case).select_related(
        "actor", "from_unit", "to_unit", "from_department", "to_department").order_by("seq"))


def reporter_visible(*, scope: Scope, case: Case) -> bool:
    """A viewer who sees the case only because it was dispatched to their department never sees an
    anonymous reporter's identity."""
    if not case.anonymous:
        return True
    return scope.can(P.CASE_VIEW, case.unit_path) or scope.can(P.CASE_VIEW, case.owner_path)


def reporter_of(*, scope: Scope, case: Case) -> dict[str, Any]:
    if reporter_visible(scope=scope, case=case):
        return {"name": case.reporter_name, "phone": case.reporter_phone, "anonymous": case.anonymous}
    return {"name": "匿名", "phone": "", "anonymous": True}


def case_attachments(*, scope: Scope, case: Case) -> list[CaseAttachment]:
    return list(CaseAttachment.unscoped.filter(case=case).order_by("id"))


def attachment_get(*, scope: Scope, attachment_id: int) -> CaseAttachment:
    att = CaseAttachment.unscoped.select_related("case").filter(pk=attachment_id).first()
    if att is None:
        raise NotFound()
    case_get(scope=scope, case_id=att.case_id)
    return att


def categories(*, active_only: bool = True) -> list[Category]:
    qs = Category.objects.select_related("parent")
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("sort_order", "id"))
