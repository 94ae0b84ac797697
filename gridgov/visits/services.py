"""Write paths of visits: record a visit (idempotent by the client's key; optionally raising a case
through the cases intake service), read a visit's sealed notes (audited), keep the must-visit rules
(五必访, the catalogue keepers) and organise visit campaigns (集中走访). Each runs in one transaction
and writes its audit row in it."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning, fieldcrypto
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.core.errors import CommonError, Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.geo.geometry import validate_point
from gridgov.residents.models import Household, HouseholdStatus, Tag
from gridgov.units.models import Unit

from .errors import VisitError
from .models import Visit, VisitCampaign, VisitKind, VisitRule
from .photos import CheckedPhoto, check_photo

NOTES_PURPOSE = "visit.notes"
NOTES_MAX = 2000
BACKDATE_DAYS = 30  # a visit logged in the evening, or days later when the signal came back
FUTURE_SLACK = dt.timedelta(minutes=10)  # phone clocks run fast
CADENCE_MAX_DAYS = 366
CAMPAIGN_MAX_DAYS = 92


# --- raising a case from a visit -----------------------------------------------------------------
@dataclass(frozen=True)
class ProblemReport:
    """A problem found on a visit that should become a case (事件)."""

    title: str
    description: str
    category_code: str
    urgency: str = "ordinary"


class CaseRaiser(Protocol):
    """The cases intake service, handed in by the interface (workflow apps never import each other).
    Returns the new case's id and number; raises a DomainError to refuse (nothing is then written)."""

    def __call__(self, *, actor: User | None, now: dt.datetime, household_id: int, title: str, description: str,
                 category_code: str, urgency: str, idempotency_key: str) -> tuple[int, str]: ...


@dataclass
class RecordResult:
    visit: Visit
    created: bool


def _float(value: Any, *, field: str, label: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}应为数字。", field=field, reason=CommonError.MALFORMED) from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{label}应为数字。", field=field, reason=CommonError.MALFORMED)
    return number


def _when(value: Any, now: dt.datetime) -> dt.datetime:
    if value in (None, ""):
        return now
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationFailed("走访时间格式不正确（例如 2026-03-02 09:30）。", field="visited_at",
                                   reason=CommonError.MALFORMED) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)  # a phone's form sends local time
    if moment > now + FUTURE_SLACK:
        raise ValidationFailed("走访时间不能晚于现在。", field="visited_at", reason=VisitError.VISIT_IN_FUTURE)
    if moment < now - dt.timedelta(days=BACKDATE_DAYS):
        raise ValidationFailed(f"只能补记 {BACKDATE_DAYS} 天以内的走访。", field="visited_at",
                               reason=VisitError.VISIT_TOO_OLD)
    return moment


def _payload_hash(data: dict[str, Any]) -> str:
    """Keyed, because the payload carries the notes (health, hardship): a plain digest could be guessed."""
    return fieldcrypto.blind_index(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str),
                                   purpose="visit.record_payload")


def _serialise_key(namespaced: str) -> None:
    """Parallel retries of ONE key wait for each other (PostgreSQL advisory lock, released at commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"visit-record:{namespaced}"])


def _replay(existing: Visit, digest: str) -> RecordResult:
    if existing.payload_hash != digest:
        raise Conflict("该幂等键已用于另一条不同内容的走访记录，请刷新页面后重新填写。",
                       details={"visit_id": existing.pk}, reason=VisitError.IDEMPOTENCY_KEY_REUSED)
    return RecordResult(visit=existing, created=False)


def _campaign_for(*, scope: Scope, household: Household, campaign_id: int | None, on: dt.date) -> VisitCampaign | None:
    path = household.unit.path
    if campaign_id is not None:
        campaign = VisitCampaign.objects.within(scope).filter(pk=campaign_id).first()
        if campaign is None or campaign.cancelled_at is not None:
            raise ValidationFailed("所选集中走访不存在或已取消。", field="campaign_id",
                                   reason=VisitError.CAMPAIGN_NOT_FOUND)
        if not path.startswith(campaign.unit_path):
            raise ValidationFailed("该户不在这次集中走访的范围内。", field="campaign_id",
                                   reason=VisitError.CAMPAIGN_NOT_COVERING)
        if not campaign.starts_on <= on <= campaign.ends_on:
            raise ValidationFailed(
                f"「{campaign.name}」的时间是 {campaign.starts_on:%Y-%m-%d} 至 {campaign.ends_on:%Y-%m-%d}，"
                "走访日期不在其中。", field="campaign_id", reason=VisitError.CAMPAIGN_DATES)
        return campaign
    ancestors = _ancestor_paths(path)
    return (VisitCampaign.dangerously_unscoped.filter(unit_path__in=ancestors, cancelled_at__isnull=True,
                                          starts_on__lte=on, ends_on__gte=on)
            .order_by("-starts_on", "-id").first())


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


@transaction.atomic
def visit_record(
    *,
    actor: User | None,
    now: dt.datetime,
    household_id: Any,
    kind: str,
    visited_at: Any = None,
    notes: str = "",
    lat: Any = None,
    lng: Any = None,
    photo: bytes | None = None,
    campaign_id: Any = None,
    problem_found: bool = False,
    problem: ProblemReport | None = None,
    idempotency_key: str = "",
    raise_case: CaseRaiser | None = None,
) -> RecordResult:
    """Record one visit. The same idempotency key with the same content returns the same visit
    (created=False): a retry after a lost response makes exactly one visit. With other content it is a
    Conflict. A `problem` raises a case through `raise_case` in the same transaction."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录。", reason=CommonError.FORBIDDEN)
    scope = scope_for(actor)
    if not scope.can(P.HOUSEHOLD_EDIT):
        raise PermissionDenied("您没有记录走访的权限。", reason=CommonError.FORBIDDEN)
    key = (idempotency_key or "").strip()
    if len(key) > 80:
        raise ValidationFailed("幂等键不能超过 80 个字符。", field="idempotency_key", reason=CommonError.TOO_LONG)
    namespaced = f"u{actor.pk}:{key}" if key else None
    checked: CheckedPhoto | None = check_photo(photo) if photo is not None else None
    payload = {
        "household_id": str(household_id), "kind": kind, "visited_at": str(visited_at or ""), "notes": notes or "",
        "lat": str(lat if lat is not None else ""), "lng": str(lng if lng is not None else ""),
        "campaign_id": str(campaign_id or ""), "problem_found": bool(problem_found or problem),
        "problem": [problem.title, problem.description, problem.category_code, problem.urgency] if problem else None,
        "photo": checked.digest if checked else "",
    }
    digest = _payload_hash(payload)
    if namespaced:
        _serialise_key(namespaced)
        existing = Visit.dangerously_unscoped.filter(idempotency_key=namespaced).first()
        if existing is not None:
            return _replay(existing, digest)

    hid = cleaning.optional_integer(household_id, field="household_id", message="户号应为数字。")
    if hid is None:
        raise ValidationFailed("请选择走访的户。", field="household_id", reason=CommonError.REQUIRED)
    household = Household.objects.within(scope).select_related("unit").filter(pk=hid).first()
    if household is None:
        raise ValidationFailed(f"没有找到户号 {hid}，或该户不在您的范围内。", field="household_id",
                               reason=VisitError.HOUSEHOLD_NOT_FOUND)
    path = household.unit.path
    if not scope.can(P.HOUSEHOLD_EDIT, path):
        raise PermissionDenied("您不能为该户记录走访。", reason=CommonError.FORBIDDEN)
    if household.status != HouseholdStatus.ACTIVE:
        raise ValidationFailed(f"该户已{household.get_status_display()}，不能再记录走访。", field="household_id",
                               reason=VisitError.HOUSEHOLD_CLOSED)
    if kind not in VisitKind.values:
        raise ValidationFailed("请选择走访方式（入户、电话、视频或集中走访）。", field="kind",
                               reason=CommonError.REQUIRED)
    moment = _when(visited_at, now)
    text = cleaning.text(notes, field="notes", label="走访情况", max_length=NOTES_MAX)
    flat = _float(lat, field="lat", label="纬度")
    flng = _float(lng, field="lng", label="经度")
    if (flat is None) != (flng is None):
        raise ValidationFailed("请同时提供经度和纬度。", field="location", reason=VisitError.LOCATION_INCOMPLETE)
    if flat is not None and flng is not None:
        validate_point(flat, flng)
    cid = cleaning.optional_integer(campaign_id, field="campaign_id", message="集中走访应为数字。")
    campaign = None
    if cid is not None or kind == VisitKind.CAMPAIGN:
        campaign = _campaign_for(scope=scope, household=household, campaign_id=cid, on=local(moment).date())
        if campaign is None:
            raise ValidationFailed("该户目前没有进行中的集中走访，请选择其他走访方式。", field="kind",
                                   reason=VisitError.NO_CAMPAIGN_RUNNING)
    if problem is not None and raise_case is None:
        raise ValidationFailed("暂时无法登记事件，请到事件办理页面登记。", field="problem",
                               reason=VisitError.CASE_UNAVAILABLE)
    role = scope.role_at(path)
    try:
        with transaction.atomic():
            visit = Visit.dangerously_unscoped.create(
                household=household, unit=household.unit, unit_path=path, visitor=actor, visited_at=moment,
                kind=kind, campaign=campaign,
                notes_cipher=fieldcrypto.encrypt(text, purpose=NOTES_PURPOSE) if text else "",
                notes_length=len(text), lat=flat, lng=flng, problem_found=bool(problem_found or problem),
                idempotency_key=namespaced, payload_hash=digest, created_at=now,
            )
    except IntegrityError:
        if not namespaced:
            raise
        existing = Visit.dangerously_unscoped.filter(idempotency_key=namespaced).first()
        if existing is None:
            raise
        return _replay(existing, digest)
    fields = []
    if checked is not None:
        # A random name: nothing about the household reaches the storage path.
        visit.photo.save(f"{secrets.token_hex(12)}.{checked.ext}", ContentFile(checked.data), save=False)
        visit.photo_type, visit.photo_size = checked.content_type, len(checked.data)
        fields += ["photo", "photo_type", "photo_size"]
    if problem is not None and raise_case is not None:
        case_id, number = raise_case(
            actor=actor, now=now, household_id=household.pk, title=problem.title, description=problem.description,
            category_code=problem.category_code, urgency=problem.urgency, idempotency_key=f"visit-{visit.pk}")
        visit.case_id, visit.case_number = case_id, number
        fields += ["case_id", "case_number"]
    if fields:
        visit.save(update_fields=fields)
    audit_record(action="visit.record", actor=actor, now=now, obj=visit, unit_path=path, role=role,
                 detail={"household": household.pk, "kind": kind, "notes_length": len(text),
                         "photo": checked is not None}
                 | ({"case": visit.case_number} if visit.case_number else {})
                 | ({"campaign": campaign.pk} if campaign is not None else {}))
    return RecordResult(visit=visit, created=True)


@transaction.atomic
def visit_notes_read(*, actor: User | None, now: dt.datetime, scope: Scope, visit: Visit) -> str:
    """The notes of a visit fetched through the actor's scope, in full: every such view is audited."""
    if not visit.notes_cipher:
        return ""
    audit_record(action="visit.notes_view", actor=actor, now=now, obj=visit, unit_path=visit.unit_path,
                 role=scope.role_at(visit.unit_path), detail={"household": visit.household_id})
    return fieldcrypto.decrypt(visit.notes_cipher, purpose=NOTES_PURPOSE)


# --- must-visit rules (五必访) ----------------------------------------------------------------------
def clean_cadence(raw: Any) -> int:
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValidationFailed("请填写走访周期（天数）。", field="cadence_days", reason=CommonError.REQUIRED)
    try:
        days = int(text)
    except ValueError as exc:
        raise ValidationFailed("走访周期应为天数（整数）。", field="cadence_days",
                               reason=CommonError.MALFORMED) from exc
    if not 1 <= days <= CADENCE_MAX_DAYS:
        raise ValidationFailed(f"走访周期应在 1 到 {CADENCE_MAX_DAYS} 天之间。", field="cadence_days",
                               reason=CommonError.OUT_OF_RANGE)
    return days


def _keeper_role(actor: User | None, path: str) -> str:
    if actor is None:
        return "system"
    scope = scope_for(actor)
    if not scope.covers(path) and not scope.can(P.CATEGORY_MANAGE, path):
        raise NotFound()
    if not scope.can(P.CATEGORY_MANAGE, path):
        raise PermissionDenied("只有县网格办可以维护五必访规则。", reason=CommonError.FORBIDDEN)
    return scope.role_at(path)


@transaction.atomic
def rule_set(*, actor: User | None, now: dt.datetime, unit_id: Any, tag_id: Any, cadence_days: Any) -> VisitRule:
    """Make a key group a must-visit group at a unit (or change its cadence, or restore a retired rule)."""
    uid = cleaning.optional_integer(unit_id, field="unit_id", message="适用单位应为数字。")
    unit = Unit.dangerously_unscoped.filter(pk=uid, is_active=True).first() if uid is not None else None
    if unit is None:
        raise ValidationFailed("请选择适用单位。", field="unit_id", reason=CommonError.REQUIRED)
    role = _keeper_role(actor, unit.path)
    tid = cleaning.optional_integer(tag_id, field="tag_id", message="重点人群应为数字。")
    tag = Tag.objects.filter(pk=tid, is_active=True).first() if tid is not None else None
    if tag is None:
        raise ValidationFailed("请选择重点人群。", field="tag_id", reason=CommonError.REQUIRED)
    days = clean_cadence(cadence_days)
    rule = VisitRule.dangerously_unscoped.select_for_update().filter(unit=unit, tag=tag).first()
    changes: dict[str, Any] = {}
    if rule is None:
        rule = VisitRule.dangerously_unscoped.create(unit=unit, unit_path=unit.path, tag=tag, cadence_days=days,
                                                     is_active=True,
                                         created_at=now, updated_at=now, updated_by=actor)
        action, changes = "visit_rule.create", {"cadence_days": days}
    else:
        if rule.cadence_days != days:
            changes["cadence_days"] = [rule.cadence_days, days]
        if not rule.is_active:
            changes["is_active"] = [False, True]
        rule.cadence_days, rule.is_active, rule.updated_at, rule.updated_by = days, True, now, actor
        rule.version += 1
        rule.save()
        action = "visit_rule.update"
    audit_record(action=action, actor=actor, now=now, obj=rule, unit_path=unit.path, role=role,
                 detail={"tag": tag.code, "changes": changes})
    return rule


@transaction.atomic
def rule_update(*, actor: User | None, now: dt.datetime, rule_id: int, cadence_days: Any = None,
                is_active: bool | None = None,
                expected_version: int | None = None) -> VisitRule:
    rule = VisitRule.dangerously_unscoped.select_for_update().select_related("tag").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    role = _keeper_role(actor, rule.unit_path)
    if expected_version is not None and rule.version != expected_version:
        raise Conflict("该规则已被他人修改，请刷新后重试。", details={"current_version": rule.version},
                       reason=CommonError.STALE_VERSION)
    changes = {}
    if cadence_days is not None:
        days = clean_cadence(cadence_days)
        if days != rule.cadence_days:
            changes["cadence_days"] = [rule.cadence_days, days]
            rule.cadence_days = days
    if is_active is not None and bool(is_active) != rule.is_active:
        changes["is_active"] = [rule.is_active, bool(is_active)]
        rule.is_active = bool(is_active)
    if not changes:
        return rule
    rule.updated_at, rule.updated_by = now, actor
    rule.version += 1
    rule.save()
    audit_record(action="visit_rule.update", actor=actor, now=now, obj=rule, unit_path=rule.unit_path, role=role,
                 detail={"tag": rule.tag.code, "changes": changes})
    return rule


@transaction.atomic
def rules_from_catalogue(*, actor: User | None, now: dt.datetime, unit_id: Any) -> list[VisitRule]:
    """Start a unit's rules from the key-group catalogue's suggested cadences (走访周期): one rule per
    active key group with a cadence that has no rule at the unit yet."""
    uid = cleaning.optional_integer(unit_id, field="unit_id", message="适用单位应为数字。")
    unit = Unit.dangerously_unscoped.filter(pk=uid, is_active=True).first() if uid is not None else None
    if unit is None:
        raise ValidationFailed("请选择适用单位。", field="unit_id", reason=CommonError.REQUIRED)
    role = _keeper_role(actor, unit.path)
    have = set(VisitRule.dangerously_unscoped.filter(unit=unit).values_list("tag_id", flat=True))
    made = [VisitRule(unit=unit, unit_path=unit.path, tag=t, cadence_days=t.visit_cadence_days or 30, is_active=True,
                      created_at=now, updated_at=now, updated_by=actor)
            for t in Tag.objects.filter(is_active=True, visit_cadence_days__isnull=False).exclude(pk__in=have)]
    VisitRule.dangerously_unscoped.bulk_create(made)
    audit_record(action="visit_rule.from_catalogue", actor=actor, now=now, obj=unit, unit_path=unit.path, role=role,
                 detail={"tags": sorted(r.tag.code for r in made)})
    return made


# --- visit campaigns (集中走访) ---------------------------------------------------------------------
@transaction.atomic
def campaign_create(*, actor: User | None, now: dt.datetime, unit_id: Any, name: str, starts_on: Any, ends_on: Any,
                    covers: str = VisitCampaign.Covers.ALL) -> VisitCampaign:
    """A unit's leaders (unit.edit: village secretary, chief grid head, the offices) call a campaign."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录。", reason=CommonError.FORBIDDEN)
    scope = scope_for(actor)
    uid = cleaning.optional_integer(unit_id, field="unit_id", message="组织单位应为数字。")
    unit = Unit.dangerously_unscoped.filter(pk=uid, is_active=True).first() if uid is not None else None
    if unit is None or not scope.covers(unit.path):
        raise ValidationFailed("请选择组织单位。", field="unit_id", reason=CommonError.REQUIRED)
    if not scope.can(P.UNIT_EDIT, unit.path):
        raise PermissionDenied("只有村（社区）书记、总网格长和网格办可以组织集中走访。", reason=CommonError.FORBIDDEN)
    title = cleaning.text(name, field="name", label="名称", max_length=60, required=True)
    start = cleaning.date(starts_on, field="starts_on", label="开始日期",
                          message="开始日期格式不正确（例如 2026-03-02）。")
    end = cleaning.date(ends_on, field="ends_on", label="结束日期", message="结束日期格式不正确（例如 2026-03-02）。")
    if end < start:
        raise ValidationFailed("结束日期不能早于开始日期。", field="ends_on", reason=CommonError.OUT_OF_RANGE)
    if (end - start).days + 1 > CAMPAIGN_MAX_DAYS:
        raise ValidationFailed(f"一次集中走访不能超过 {CAMPAIGN_MAX_DAYS} 天。", field="ends_on",
                               reason=CommonError.OUT_OF_RANGE)
    if end < local(now).date() - dt.timedelta(days=BACKDATE_DAYS):
        raise ValidationFailed("不能补建一个月前就已结束的集中走访。", field="ends_on",
                               reason=VisitError.CAMPAIGN_TOO_OLD)
    if covers not in VisitCampaign.Covers.values:
        raise ValidationFailed("请选择走访对象。", field="covers", reason=CommonError.REQUIRED)
    campaign = VisitCampaign.dangerously_unscoped.create(unit=unit, unit_path=unit.path, name=title, starts_on=start,
                                                         ends_on=end,
                                             covers=covers, created_by=actor, created_at=now)
    audit_record(action="visit_campaign.create", actor=actor, now=now, obj=campaign, unit_path=unit.path,
                 role=scope.role_at(unit.path),
                 detail={"name": title, "starts_on": start.isoformat(), "ends_on": end.isoformat(), "covers": covers})
    return campaign


@transaction.atomic
def campaign_cancel(*, actor: User | None, now: dt.datetime, campaign_id: int) -> VisitCampaign:
    campaign = VisitCampaign.dangerously_unscoped.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    scope.require(P.UNIT_EDIT, campaign.unit_path)
    if campaign.cancelled_at is not None:
        raise ValidationFailed("这次集中走访已经取消。", reason=VisitError.CAMPAIGN_CANCELLED)
    campaign.cancelled_at = now
    campaign.save(update_fields=["cancelled_at"])
    audit_record(action="visit_campaign.cancel", actor=actor, now=now, obj=campaign, unit_path=campaign.unit_path,
                 role=scope.role_at(campaign.unit_path))
    return campaign


def visit_photo_open(*, actor: User | None, now: dt.datetime, scope: Scope, visit: Visit) -> Any:
    """The photo of a visit fetched through the actor's scope; every view is audited."""
    if not visit.photo:
        raise NotFound()
    with transaction.atomic():
        audit_record(action="visit.photo_view", actor=actor, now=now, obj=visit, unit_path=visit.unit_path,
                     role=scope.role_at(visit.unit_path), detail={"household": visit.household_id})
    return visit.photo.open("rb")
