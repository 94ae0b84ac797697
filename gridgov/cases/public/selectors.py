"""What residents may see of cases. Every function here returns de-identified data only: no names,
phones, addresses, coordinates, internal notes, or anything about another resident."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet

from gridgov.cases.deadlines import countdown
from gridgov.cases.models import Case, CaseAttachment, CaseEvent, Category
from gridgov.cases.states import CLOCKED, STATUSES, Status
from gridgov.units.models import Unit

from .models import Disclosure, FollowUp

TRACKING_CODE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
RESULT_ACTIONS = ("feedback", "self_handle", "review")

# The categories offered to residents, in plain words (code → words on the button).
PUBLIC_CATEGORIES: dict[str, str] = {
    "sanitation": "垃圾、污水、卫生",
    "livelihood_water": "停水、停电",
    "hazard": "危房、电线、路面等安全隐患",
    "dispute_neighbour": "邻里矛盾纠纷",
    "public_order": "治安问题",
    "illegal_building": "乱搭乱建",
    "livelihood_hardship": "生活困难，需要帮助",
    "labour_wages": "拖欠工资",
    "other": "其他问题",
}

# What each history action means to a resident; actions not listed (returns between offices,
# urges, supervision, extension requests, internal merges) are not public steps.
PUBLIC_STEPS: dict[str, str] = {
    "report": "问题已提交",
    "accept": "已受理",
    "reject": "不予受理",
    "merge": "与相同问题合并办理",
    "escalate": "已报上级处理",
    "dispatch": "已交有关部门办理",
    "redispatch": "已交有关部门办理",
    "adjudicate": "已交有关部门办理",
    "acknowledge": "部门已接手办理",
    "approve_extension": "办理期限已延长",
    "self_handle": "已处理完毕",
    "feedback": "部门已反馈办理结果",
    "review": "已办结",
    "redo": "重新办理",
    "confirm": "反映人已评价",
    "reopen": "反映人说问题没解决，重新办理",
    "close": "已办结归档",
    "cancel": "已撤销",
}

RATING_LEVELS: dict[str, tuple[int, str]] = {
    "satisfied": (5, "满意"),
    "basically": (3, "基本满意"),
    "unsatisfied": (1, "不满意"),
}


def rating_label(rating: int | None) -> str:
    if rating is None:
        return ""
    if rating >= 4:
        return "满意"
    if rating == 3:
        return "基本满意"
    return "不满意"


# Digits that look like a mainland ID number or phone number are masked in any text shown publicly.
_ID_OR_PHONE = re.compile(r"\d{17}[\dXx]|\d{15}|1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,}")


def deidentify(text: str) -> str:
    return _ID_OR_PHONE.sub("＊＊＊", text)


@dataclass(frozen=True)
class PublicStep:
    label: str
    at: dt.datetime


@dataclass
class PublicCase:
    number: str
    category: str
    place: str
    status: str
    status_code: str
    responsible: str
    reported_at: dt.datetime
    steps: list[PublicStep]
    resolve_due: dt.datetime | None
    countdown: str
    overdue: bool
    result: str
    photo_count: int
    rating: str
    can_rate: bool
    resolved_at: dt.datetime | None
    reporter_photo_count: int = 0
    followed: str = ""
    photo_ids: list[int] = field(default_factory=list)


def case_by_tracking_code(code: str) -> Case | None:
    """The case a tracking code names; None for anything malformed or unknown."""
    if not TRACKING_CODE.match(code or ""):
        return None
    return (Case.dangerously_unscoped.select_related("category", "unit", "holder_unit", "holder_department",
                                                     "owner_unit",
                                         "merged_into")
            .filter(tracking_token=code).first())


def _responsible(case: Case, events: list[CaseEvent]) -> str:
    """Who is dealing with it now; for a finished case, the department that did the work."""
    if case.holder_department is not None:
        return case.holder_department.name
    if case.status in (Status.RESOLVED, Status.CLOSED):
        handled = [e for e in events if e.action == "feedback" and e.from_department is not None]
        if handled:
            return handled[-1].from_department.name  # type: ignore[union-attr]
    unit = case.holder_unit or case.owner_unit
    return unit.name if unit is not None else ""


def public_photos(case: Case) -> list[CaseAttachment]:
    """Result photos: the only case photos shown publicly. A photo belongs to the result when it hangs
    on a feedback / self-handling / review event, or that event lists it among its attachments."""
    listed: set[int] = set()
    for detail in CaseEvent.dangerously_unscoped.filter(case=case, action__in=RESULT_ACTIONS).values_list("detail",
                                                                                                          flat=True):
        ids = (detail or {}).get("attachments") or []
        listed.update(int(i) for i in ids if str(i).isdecimal())
    return list(CaseAttachment.dangerously_unscoped.filter(Q(event__action__in=RESULT_ACTIONS) | Q(pk__in=listed),
                                                           case=case,
                                               content_type__startswith="image/").order_by("id"))


def public_view_of(case: Case, *, now: dt.datetime, for_reporter: bool) -> PublicCase:
    events = list(CaseEvent.dangerously_unscoped.filter(case=case).select_related("from_department").order_by("seq"))
    steps = [PublicStep(PUBLIC_STEPS[e.action], e.at) for e in events if e.action in PUBLIC_STEPS]
    if for_reporter:
        steps = [PublicStep("您已评价" if s.label == "反映人已评价" else
                            ("您说问题没解决，重新办理" if s.label.startswith("反映人说") else s.label), s.at)
                 for s in steps]
    clocked = case.status in CLOCKED
    done = case.status in (Status.RESOLVED, Status.CLOSED)
    photos = public_photos(case) if done else []
    return PublicCase(
        number=case.number,
        category=case.category.name,
        place=_place(case),
        status=STATUSES[case.status].public.label,
        status_code=STATUSES[case.status].public.value,
        responsible=_responsible(case, events),
        reported_at=case.created_at,
        steps=steps,
        resolve_due=case.resolve_due if clocked else None,
        countdown=countdown(case.resolve_due, now) if clocked else "",
        overdue=bool(clocked and case.resolve_due and case.resolve_due < now),
        result=deidentify(case.result) if done else "",
        photo_count=len(photos),
        photo_ids=[p.pk for p in photos],
        rating=rating_label(case.rating),
        can_rate=case.status == Status.RESOLVED,
        resolved_at=case.resolved_at,
        reporter_photo_count=(CaseAttachment.dangerously_unscoped.filter(case=case, event__action="report").count()
                              if for_reporter else 0),
    )


def _place(case: Case) -> str:
    """The coarsened place: the grid's name, never the address or the point."""
    return case.unit.name


def tracked_case(case: Case) -> Case:
    """A merged case is followed to the case it was merged into (the reporter was told so by SMS)."""
    if case.status == Status.MERGED and case.merged_into_id:
        target = (Case.dangerously_unscoped.select_related("category", "unit", "holder_unit", "holder_department",
                                               "owner_unit").filter(pk=case.merged_into_id).first())
        if target is not None:
            return target
    return case


def disclosed_cases(unit: Unit, *, now: dt.datetime, limit: int = 50) -> list[PublicCase]:
    ids = Disclosure.dangerously_unscoped.filter(is_public=True, case__unit_path__startswith=unit.path,
                                     case__status__in=[Status.RESOLVED, Status.CLOSED]).values("case_id")
    cases = (Case.dangerously_unscoped.filter(pk__in=ids)
             .select_related("category", "unit", "holder_unit", "holder_department", "owner_unit")
             .order_by("-resolved_at", "-id")[:limit])
    return [public_view_of(c, now=now, for_reporter=False) for c in cases]


def disclosed_photo(unit: Unit, attachment_id: int) -> CaseAttachment | None:
    att = CaseAttachment.dangerously_unscoped.select_related("case").filter(pk=attachment_id).first()
    if att is None or not att.case.unit_path.startswith(unit.path):
        return None
    if not Disclosure.dangerously_unscoped.filter(case=att.case, is_public=True).exists():
        return None
    return att if att.pk in {p.pk for p in public_photos(att.case)} else None


@dataclass(frozen=True)
class PublicStats:
    received: int
    finished: int
    in_progress: int
    on_time_rate: str
    satisfaction_rate: str
    rated: int


def _rate(part: int, whole: int) -> str:
    # Nothing to divide: a dash, never 0 % or 100 %.
    if whole == 0:
        return "—"
    return f"{round(100 * part / whole)}%"


def public_stats(unit: Unit) -> PublicStats:
    qs: QuerySet[Case] = Case.dangerously_unscoped.filter(unit_path__startswith=unit.path).exclude(status=Status.MERGED)
    counted = qs.exclude(status__in=[Status.REJECTED, Status.CANCELLED])
    finished = counted.filter(status__in=[Status.RESOLVED, Status.CLOSED])
    resolved = counted.filter(resolved_at__isnull=False)
    on_time = resolved.filter(resolved_at__lte=F("resolve_due")).count()
    rated = counted.filter(rating__isnull=False)
    satisfied = rated.filter(rating__gte=3).count()
    n_counted, n_finished, n_rated, n_resolved = counted.count(), finished.count(), rated.count(), resolved.count()
    return PublicStats(
        received=qs.count(),
        finished=n_finished,
        in_progress=n_counted - n_finished,
        on_time_rate=_rate(on_time, n_resolved),
        satisfaction_rate=_rate(satisfied, n_rated),
        rated=n_rated,
    )


def reporting_unit(unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    return Unit.dangerously_unscoped.filter(pk=unit_id, is_active=True).select_related("kind", "parent").first()


def unit_ancestors(unit: Unit) -> list[Unit]:
    return list(Unit.dangerously_unscoped.filter(pk__in=unit.ancestor_ids()).select_related("kind").order_by("depth"))


def fallback_unit() -> Unit | None:
    """Where an address-only report goes when no point was given: the only county of the deployment,
    whose office sorts it to the right grid. None when the deployment has several roots."""
    roots = list(Unit.dangerously_unscoped.filter(parent__isnull=True, is_active=True)[:2])
    return roots[0] if len(roots) == 1 else None


def is_disclosed(case: Case) -> bool:
    return Disclosure.dangerously_unscoped.filter(case=case, is_public=True).exists()


def follow_ups_of(case: Case) -> list[tuple[str, str, dt.datetime]]:
    return [(f.get_method_display(), f.get_outcome_display(), f.at)
            for f in FollowUp.dangerously_unscoped.filter(case=case).order_by("at")]




def public_categories() -> list[tuple[str, str]]:
    active = set(Category.objects.filter(code__in=list(PUBLIC_CATEGORIES), is_active=True)
                 .values_list("code", flat=True))
    return [(code, words) for code, words in PUBLIC_CATEGORIES.items() if code in active]
