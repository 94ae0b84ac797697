"""Reads of cases, always through the actor's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from gridgov.access.models import Department
from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.errors import NotFound
from gridgov.core.pages import NumberedPage
from gridgov.residents.models import Household
from gridgov.units.models import Unit

from . import deadlines, disclosure
from .models import Case, CaseAttachment, CaseEvent, Category, ReporterDisclosure
from .states import ACTIVE, CLOCKED, STATUSES, Status, StatusType

STATUS_NAMES: dict[str, str] = dict(Status.choices)

QUEUES: dict[str, str] = {
    "todo": "待办",
    "done": "已办",
    "due_soon": "即将超期",
    "overdue": "已超期",
    "supervised": "督办",
    "returned": "退回待审定",
}


def cases_visible(*, scope: Scope) -> QuerySet[Case]:
    return Case.objects.within(scope).select_related("category", "unit", "holder_unit", "holder_department",
                                                     "reported_by")


def _held_by_me(scope: Scope) -> Q:
    """Cases waiting on this user: held at a unit where they hold a case role (not the whole subtree:
    a township office's to-do list is not every grid's), or held by their department."""
    perms = {P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH, P.CASE_REVIEW}
    unit_ids = sorted({g.unit_id for g in scope.grants if g.permissions & perms})
    q = Q(holder_unit_id__in=unit_ids)
    if scope.department_ids:
        q |= Q(holder_department_id__in=scope.department_ids)
    return q


def queue_filter(qs: QuerySet[Case], *, scope: Scope, queue: str, now: dt.datetime) -> QuerySet[Case]:
    """The cases of `qs` in one work queue other than 已办 (which is made of history rows: `_done_ids`),
    unordered: the list's rows and the home page's counts (`queue_counts`) both come from here."""
    active = [s.value for s in ACTIVE]
    clocked = [s.value for s in CLOCKED]
    if queue == "todo":
        return qs.filter(_held_by_me(scope), status__in=active)
    if queue == "due_soon":
        return qs.filter(_held_by_me(scope), status__in=clocked, resolve_due__gt=now,
                         resolve_due__lte=now + deadlines.WARN_BEFORE * 2)
    if queue == "overdue":
        qs = qs.filter(status__in=clocked, resolve_due__lt=now)
        # A department's 已超期 is what it holds and is late with (offices watch their subtree).
        return qs if scope.can(P.CASE_VIEW) else qs.filter(_held_by_me(scope))
    if queue == "supervised":
        return qs.filter(supervised=True, status__in=active)
    if queue == "returned":
        return qs.filter(status=Status.RETURNED)
    raise ValueError(f"no such work queue: {queue}")


def _queue_ids(*, scope: Scope, queue: str, now: dt.datetime, category_code: str, status: str, query: str,
               limit: int) -> list[int]:
    """The ids of one work queue in its order, at most `limit`: a query on the narrow case rows alone
    (joining categories and units before the sort and limit costs ten times more at size M)."""
    if queue not in QUEUES:
        queue = "todo"
    qs = Case.objects.within(scope)
    if category_code:
        qs = qs.filter(Q(category__code=category_code) | Q(category__parent__code=category_code))
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(Q(number__icontains=query) | Q(title__icontains=query))
    if queue == "done":
        return _done_ids(scope, qs, limit, filtered=bool(category_code or status or query))
    waiting = queue_filter(qs, scope=scope, queue=queue, now=now)
    waiting = (waiting.order_by("updated_at", "id") if queue == "returned"
               else waiting.order_by("resolve_due", "id"))
    return list(waiting.values_list("pk", flat=True)[:limit])


def case_queue(*, scope: Scope, queue: str, now: dt.datetime, category_code: str = "", status: str = "",
               query: str = "", limit: int = 100) -> list[Case]:
    """One work queue, at most `limit` rows, as cases with their categories and the staff member who
    reported each (the API's list: units and departments go by id). Two steps, so the sort and the limit run
    on the narrow case rows alone."""
    ids = _queue_ids(scope=scope, queue=queue, now=now, category_code=category_code, status=status, query=query,
                     limit=limit)
    if not ids:
        return []
    qs = Case.dangerously_unscoped.select_related("category", "reported_by").order_by()
    if scope.department_ids:
        # Whether the reporter was disclosed to the viewer's department, in the same statement
        # (reporter_visible reads it; a query per row otherwise).
        qs = qs.annotate(reporter_disclosed=Exists(ReporterDisclosure.dangerously_unscoped.filter(
            case_id=OuterRef("pk"), department_id__in=scope.department_ids)))
    rows = qs.in_bulk(ids)
    return [rows[i] for i in ids if i in rows]


# A work-queue page lists QUEUE_PAGE_SIZE cases; the page links reach the first QUEUE_CAP of the queue
# (its count says when there are more: narrow it with the filters).
QUEUE_PAGE_SIZE = 50
QUEUE_CAP = 500

# What a work-queue page shows of a case: plain values, not model instances (a township office's page of
# cases with their categories, units and departments as objects cost ~25 ms of CPU at size M).
QUEUE_ROW_FIELDS = ("pk", "number", "title", "status", "urgency", "supervised", "urge_count", "resolve_due",
                    "category__name", "unit__name")


@dataclass(frozen=True)
class QueuePage(NumberedPage):
    rows: list[dict[str, Any]]
    number: int  # 1-based, clamped to the pages there are
    pages: int  # at least 1
    total: int  # cases in the queue, at most QUEUE_CAP
    capped: bool  # the queue holds more than QUEUE_CAP cases


def case_queue_page(*, scope: Scope, queue: str, now: dt.datetime, page: int = 1, category_code: str = "",
                    query: str = "", per_page: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """One page of a work queue for the staff page: two queries whatever the page (the queue's ids up to
    QUEUE_CAP, which also counts it; the page's rows as values). A page past the end shows the last one."""
    ids = _queue_ids(scope=scope, queue=queue, now=now, category_code=category_code, status="", query=query,
                     limit=QUEUE_CAP + 1)
    capped = len(ids) > QUEUE_CAP
    ids = ids[:QUEUE_CAP]
    pages = max(1, -(-len(ids) // per_page))
    number = min(max(1, page), pages)
    wanted = ids[(number - 1) * per_page:number * per_page]
    rows: list[dict[str, Any]] = []
    if wanted:
        rows = Case.dangerously_unscoped.filter(pk__in=wanted).order_by().values(*QUEUE_ROW_FIELDS)
        found = {r["pk"]: r for r in rows}
        rows = [found[i] for i in wanted if i in found]
    return QueuePage(rows=rows, number=number, pages=pages, total=len(ids), capped=capped)


def _done_ids(scope: Scope, qs: QuerySet[Case], limit: int, *, filtered: bool) -> list[int]:
    """已办: cases this user acted on, most recent action first. Read from their own history rows
    (index on actor, case, time), then kept to those still in scope and matching the filters."""
    mine = (
        CaseEvent.dangerously_unscoped.filter(actor_id=scope.user_id)
        .values("case_id")
        .annotate(last=Max("at"))
        .order_by("-last", "-case_id")
        .values_list("case_id", flat=True)
    )
    if filtered:  # exact whatever the filters keep
        return list(
            qs.filter(pk__in=mine.values("case_id")).order_by("-updated_at", "-id").values_list("pk", flat=True)[:limit]
        )
    candidates = list(mine[: limit * 2])
    keep = set(_among(qs, candidates).order_by().values_list("pk", flat=True))
    return [i for i in candidates if i in keep][:limit]


def _among(qs: QuerySet[Case], ids: list[int]) -> QuerySet[Case]:
    """The cases of `qs` with these ids. On PostgreSQL the ids go as one array parameter: an IN list of a
    thousand placeholders costs ~1 ms of CPU to build and parse per request (a work queue's 已办)."""
    if connection.vendor != "postgresql":
        return qs.filter(pk__in=ids)
    # The SQL is a constant (the table name is the model's); the ids are a bound parameter.
    return qs.alias(
        among=RawSQL(f'"{Case._meta.db_table}"."id" = ANY(%s)', (ids,), output_field=BooleanField())  # noqa: S611
    ).filter(among=True)


def case_get(*, scope: Scope, case_id: int) -> Case:
    return get_in_scope(  # type: ignore[no-any-return]
        Case.objects.select_related(
            "category", "unit", "holder_unit", "holder_department", "owner_unit", "county", "merged_into", "reported_by"
        ),
        scope,
        pk=case_id,
    )


def cases_for_household(*, scope: Scope, household_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The cases naming this household or a household merged into it (合户: their cases show here), newest
    first, only those the viewer may see (and only households in the viewer's scope): what a household's
    page lists of each (number, title, category, status and its name, date), as plain values, in one
    statement (the merged households are a subquery: PostgreSQL makes it a semi-join on the household
    index)."""
    households = (
        Household.objects.within(scope).filter(Q(pk=household_id) | Q(merged_into_id=household_id)).values("pk")
    )
    rows = (
        Case.objects.within(scope)
        .filter(household_id__in=households)
        .order_by("-created_at", "-id")
        .values("pk", "number", "title", "status", "created_at", "category__name")[:limit]
    )
    return [{**r, "status_name": STATUS_NAMES[r["status"]]} for r in rows]


def case_household(*, scope: Scope, case: Case) -> Any:
    """The household a case names, when the viewer may see it in the ledger (else None)."""
    if case.household_id is None:
        return None
    return (
        Household.objects.within(scope)
        .filter(scope.path_q("unit__path", P.HOUSEHOLD_VIEW), pk=case.household_id)
        .select_related("unit")
        .first()
    )


def case_timeline(*, scope: Scope, case: Case) -> list[CaseEvent]:
    """History rows of a case already fetched through the scope."""
    return list(
        CaseEvent.dangerously_unscoped.filter(case=case)
        .select_related("actor", "from_unit", "to_unit", "from_department", "to_department")
        .order_by("seq")
    )


def reporter_visible(*, scope: Scope, case: Case) -> bool:
    """Who reported, as far as this viewer may know it. A viewer who sees the case only because it was
    dispatched to their department sees no part of the reporter (no surname, no digit of the phone)
    unless the office disclosed it to that department (`disclosure.case_reporter_disclose`); an
    anonymous reporter never."""
    if disclosure.sees_as_office(scope, case):
        return True
    known = getattr(case, "reporter_disclosed", None)  # read with the row by case_queue
    if known is not None:
        return not case.anonymous and bool(known)
    return disclosure.disclosed_to(scope, case)


def reporter_of(*, scope: Scope, case: Case) -> dict[str, Any]:
    """The reporter as staff see them: masked name and phone (王*, 138****5678), or the staff member
    who reported; `can_unmask` when this viewer may ask for the full values (with a reason, audited);
    `can_disclose` when this viewer (the dispatching office) may let a department see them."""
    visible = reporter_visible(scope=scope, case=case)
    if not visible:
        if case.anonymous:
            return {"name": "匿名", "phone": "", "anonymous": True, "can_unmask": False}
        return {"name": "不向承办部门显示", "phone": "", "anonymous": False, "can_unmask": False}
    name = case.reporter_name_masked
    if not name and not case.reporter_phone_cipher and case.reported_by is not None:
        name = f"{case.reported_by.display_name}（工作人员）"
    has_identity = bool(case.reporter_name_cipher or case.reporter_phone_cipher)
    can = has_identity and (
        scope.can(P.RESIDENT_UNMASK, case.unit_path)
        or scope.can(P.RESIDENT_UNMASK, case.owner_path)
        or not disclosure.sees_as_office(scope, case)
    )  # here: a disclosed department
    return {
        "name": name,
        "phone": case.reporter_phone_masked,
        "anonymous": case.anonymous,
        "can_unmask": can,
        "can_disclose": disclosure.may_disclose(scope, case),
    }


def case_attachments(*, scope: Scope, case: Case) -> list[CaseAttachment]:
    return list(CaseAttachment.dangerously_unscoped.filter(case=case).order_by("id"))


def attachment_get(*, scope: Scope, attachment_id: int) -> CaseAttachment:
    att = CaseAttachment.dangerously_unscoped.select_related("case").filter(pk=attachment_id).first()
    if att is None:
        raise NotFound()
    case_get(scope=scope, case_id=att.case_id)
    return att


def top_categories() -> list[dict[str, str]]:
    """The active top-level categories (code and name), as a work queue's filter offers them."""
    return [
        {"code": code, "name": name}
        for code, name in Category.objects.filter(is_active=True, parent__isnull=True)
        .order_by("sort_order", "id")
        .values_list("code", "name")
    ]


def categories(*, active_only: bool = True) -> list[Category]:
    qs = Category.objects.select_related("parent")
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("sort_order", "id"))


def dispatch_departments(*, case: Case) -> list[Department]:
    """Departments an office may dispatch this case to: those of its own unit, above it, or below it."""
    unit = case.holder_unit or case.owner_unit
    ancestors = unit.path_ids()
    rows = (
        Department.dangerously_unscoped.filter(is_active=True)
        .select_related("unit")
        .filter(Q(unit_id__in=ancestors) | Q(unit__path__startswith=unit.path))
    )
    return sorted(rows, key=lambda d: (d.kind != case.category.department_kind, d.unit.depth, d.name))


def escalation_targets(*, case: Case) -> list[Unit]:
    """Ancestors of the holding unit, nearest first (skipping beyond the parent is for emergencies)."""
    if case.holder_unit is None:
        return []
    return list(Unit.dangerously_unscoped.filter(pk__in=case.holder_unit.ancestor_ids()).order_by("-depth"))


def report_units(*, scope: Scope, limit: int = 300) -> list[Unit]:
    """Grids (and other units) the actor may report a case in."""
    q = scope.path_q("path", P.CASE_REPORT)
    return list(Unit.dangerously_unscoped.filter(q, is_active=True).select_related("kind").order_by("path")[:limit])


# --- public reads (Open311, residents' tracking): no actor, no personal data leaves these ---------

PUBLIC_CLOSED = frozenset(s for s, d in STATUSES.items() if d.type in (StatusType.DONE, StatusType.REJECTED))


def public_case_search(
    *,
    numbers: list[str],
    codes: list[str],
    closed: bool | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    limit: int,
) -> list[Case]:
    qs = Case.dangerously_unscoped.select_related("category", "holder_unit", "holder_department").order_by(
        "-created_at"
    )
    if numbers:
        qs = qs.filter(number__in=numbers[:limit])
    if codes:
        qs = qs.filter(category__code__in=codes)
    if closed is True:
        qs = qs.filter(status__in=PUBLIC_CLOSED)
    elif closed is False:
        qs = qs.exclude(status__in=PUBLIC_CLOSED)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    return list(qs[:limit])


def public_case_get(*, number: str) -> Case:
    case = (
        Case.dangerously_unscoped.select_related("category", "holder_unit", "holder_department")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def case_map_points(*, scope: Scope, now: dt.datetime, limit: int = 1000) -> list[dict[str, Any]]:
    """Open cases with a location, for the map (no personal data)."""
    rows = (
        Case.objects.within(scope)
        .filter(status__in=[s.value for s in ACTIVE], lat__isnull=False, lng__isnull=False)
        .values("pk", "number", "title", "status", "lat", "lng", "resolve_due")
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "id": r["pk"],
            "number": r["number"],
            "title": r["title"],
            "status": Status(r["status"]).label,
            "lat": r["lat"],
            "lng": r["lng"],
            "late": bool(r["resolve_due"] and r["resolve_due"] < now),
        }
        for r in rows
    ]


# --- facts other workflows score (gridgov.workforce reads them through interfaces/jobs) ---------


def worker_facts(*, since: dt.datetime, until: dt.datetime, limit: int = 5000) -> list[dict[str, Any]]:
    """What happened to cases in [since, until) that scores grid workers, oldest first:
    - case_self_handled: a staff member closed a case in their own grid (自办自结): `user_id`;
    - case_reported_resolved: a case a staff member reported was resolved after review: `user_id`;
    - case_overdue: a case held by a unit passed its time limit: `unit_id` (its grid workers lose points).
    Each fact names the case (`case_id`, `number`) and when (`at`)."""
    rows = (
        CaseEvent.dangerously_unscoped.filter(at__gte=since, at__lt=until, action__in=("self_handle", "review", "urge"))
        .select_related("case")
        .order_by("at", "id")[:limit]
    )
    facts: list[dict[str, Any]] = []
    for ev in rows:
        base = {"case_id": ev.case_id, "number": ev.case.number, "at": ev.at}
        if ev.action == "self_handle" and ev.actor_id:
            facts.append({**base, "kind": "case_self_handled", "user_id": ev.actor_id})
        elif ev.action == "review" and ev.case.reported_by_id:
            facts.append({**base, "kind": "case_reported_resolved", "user_id": ev.case.reported_by_id})
        elif ev.action == "urge" and ev.actor_id is None and ev.note == deadlines.OVERDUE_URGE_NOTE and ev.to_unit_id:
            facts.append({**base, "kind": "case_overdue", "unit_id": ev.to_unit_id})
    return facts


def overdue_open_count(*, now: dt.datetime) -> int:
    """Deployment-wide count of the measure `overdue_open` (docs/measures.md) for operations
    (/ops/metrics): cases in a clocked status past their resolution deadline. No scope: it is a
    number, never a case, and only the metrics scraper reads it. Read through case_clocked_due_idx."""
    return Case.dangerously_unscoped.filter(status__in=[s.value for s in CLOCKED], resolve_due__lt=now).count()
