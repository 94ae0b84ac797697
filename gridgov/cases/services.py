"""Write paths of the case closed loop: intake (`case_report`) and the ONE locked transition
service (`case_act`). Each runs in one transaction and writes the case, its history row, the
audit row and the outbox rows together."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import inspect
import json
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Q

from gridgov.access.models import Department, Grant
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_build, audit_record
from gridgov.core import fieldcrypto
from gridgov.core.clock import local
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.core.insert import insert_one
from gridgov.core.workdays import WorkCalendar
from gridgov.geo.geometry import validate_point
from gridgov.notify.services import notify_users, outbox_put
from gridgov.residents.models import Household
from gridgov.units import locate
from gridgov.units.models import Unit

from . import deadlines, disclosure, numbering, reference, reporter
from .models import (
    BASE_RANK,
    DEFAULT_DEADLINES,
    LEVEL_RANK,
    Case,
    CaseAttachment,
    CaseEvent,
    Category,
    Channel,
    Urgency,
    default_deadlines,
)
from .states import ACTIONS, STATUSES, Action, Status, Who, target_of


class ReturnReason:
    WRONG_PLACE = "wrong_place"
    UNCLEAR_OWNERSHIP = "unclear_ownership"
    OVERLAP = "overlap"
    OTHER = "other"
    LABELS = {
        WRONG_PLACE: "属地不符",
        UNCLEAR_OWNERSHIP: "权属不清",
        OVERLAP: "职能交叉",
        OTHER: "其他",
    }


class FormKind:
    REPORT = "report"  # 申报单
    DISPATCH = "dispatch"  # 交办单
    URGE = "urge"  # 催办单
    FEEDBACK = "feedback"  # 反馈单
    LETTER = {REPORT: "S", DISPATCH: "J", URGE: "C", FEEDBACK: "F"}


ON_SITE_RADIUS_M = 500.0
DUPLICATE_RADIUS_M = 300.0


# --- small helpers ----------------------------------------------------------------------------

def _text(value: Any, *, field_name: str, label: str, required: bool, max_len: int) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}。", field=field_name)
    if len(text) > max_len:
        raise ValidationFailed(f"{label}不能超过 {max_len} 个字。", field=field_name)
    return text


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def county_of(unit: Unit) -> Unit:
    """The county above (or at) a unit; the root if the hierarchy has no county."""
    ids = unit.path_ids()
    county = Unit.unscoped.filter(pk__in=ids, kind__base="county").order_by("-depth").first()
    return county or Unit.unscoped.get(pk=ids[0])


def next_number(*, county: Unit, year: int, kind: str, prefix: str = "") -> str:
    """The next running number of a form, per county and year: 140225-2026-J00012 (see numbering);
    `prefix`: the case's number prefix captured at its creation (the county's code then)."""
    return form_number(county_id=county.pk, division_code=county.division_code, year=year, kind=kind,
                       value=numbering.next_value(county_id=county.pk, year=year, kind=kind), prefix=prefix)


def form_number(*, county_id: int, division_code: str | None, year: int, kind: str, value: int,
                prefix: str = "") -> str:
    prefix = prefix or numbering.number_prefix(county_id=county_id, division_code=division_code)
    return f"{prefix}-{year}-{FormKind.LETTER[kind]}{value:05d}"


def unit_rank(unit: Unit) -> int:
    return BASE_RANK.get(unit.kind.base, 0)


# The active grants at one unit with their roles' permissions. Raw SQL: run by every intake and every
# case action, and the ORM's compilation of the join cost more CPU than the query itself.
_GRANTS_AT_UNIT = (
    "SELECT g.user_id, r.permissions FROM access_grant g JOIN access_role r ON r.id = g.role_id "
    "WHERE g.unit_id = %s AND g.revoked_at IS NULL ORDER BY g.id"
)


def _users_at_unit(unit: Unit, perms: Iterable[str]) -> list[int]:
    wanted = set(perms)
    with connection.cursor() as cur:
        cur.execute(_GRANTS_AT_UNIT, [unit.pk])
        rows = cur.fetchall()
    out = []
    for user_id, permissions in rows:
        if isinstance(permissions, str):  # SQLite hands JSON back as text
            permissions = json.loads(permissions)
        if wanted & set(permissions):
            out.append(user_id)
    return out


def _department_users(department_id: int) -> list[int]:
    return list(Grant.unscoped.filter(department_id=department_id, revoked_at__isnull=True)
                .values_list("user_id", flat=True))


def holder_user_ids(case: Case) -> list[int]:
    """Who must act now: the department's handlers, or the holding unit's case staff."""
    if case.holder_department_id:
        return _department_users(case.holder_department_id)
    assert case.holder_unit is not None
    if case.status in (Status.RETURNED, Status.FEEDBACK):
        return _users_at_unit(case.holder_unit, [P.CASE_DISPATCH, P.CASE_REVIEW])
    return _users_at_unit(case.holder_unit, [P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH])


def holder_user_ids_many(cases: Iterable[Case]) -> dict[int, list[int]]:
    """`holder_user_ids` of many cases in one query (the deadline sweep's batches)."""
    cases = list(cases)
    department_ids = {c.holder_department_id for c in cases if c.holder_department_id}
    unit_ids = {c.holder_unit_id for c in cases if not c.holder_department_id and c.holder_unit_id}
    if not department_ids and not unit_ids:
        return {c.pk: [] for c in cases}
    grants = list(Grant.unscoped.filter(Q(department_id__in=department_ids) | Q(unit_id__in=unit_ids),
                                        revoked_at__isnull=True).select_related("role"))
    by_department: dict[int, list[int]] = {}
    by_unit: dict[int, list[Grant]] = {}
    for g in grants:
        if g.department_id in department_ids:
            by_department.setdefault(g.department_id, []).append(g.user_id)
        if g.unit_id in unit_ids:
            by_unit.setdefault(g.unit_id, []).append(g)
    out: dict[int, list[int]] = {}
    for c in cases:
        if c.holder_department_id:
            out[c.pk] = by_department.get(c.holder_department_id, [])
            continue
        wanted = ({P.CASE_DISPATCH, P.CASE_REVIEW} if c.status in (Status.RETURNED, Status.FEEDBACK)
                  else {P.CASE_HANDLE, P.CASE_ACCEPT, P.CASE_DISPATCH})
        out[c.pk] = [g.user_id for g in by_unit.get(c.holder_unit_id or 0, []) if wanted & set(g.role.permissions)]
    return out


def _case_link(case: Case) -> str:
    return f"/cases/{case.pk}/"


# --- intake ---------------------------------------------------------------------------------

@dataclass
class IntakeResult:
    case: Case
    created: bool
    duplicates: list[Case] = field(default_factory=list)


def _payload_hash(data: dict[str, Any]) -> str:
    """Keyed (HMAC with the blind-index key): the payload carries the reporter's name and phone, and a
    plain digest of a few known fields plus a phone number could be brute-forced back to the phone."""
    return fieldcrypto.blind_index(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str),
                                   purpose="case.intake_payload")


# The unit with its county's id and division code in one statement (`county_of`, without a second
# round trip). Raw SQL: the ORM's compilation of the same query (two correlated subqueries) cost a
# fifth of the intake's CPU time in a profile; and read as the session's user is (access/models.py), a
# plain cursor and the fields' converters, not `raw()`, whose set-up per call cost half as much again.
# Without the boundary (GeoJSON, the largest column), which intake never reads: deferred, as `only()`.
_UNIT_WITH_COUNTY = """
SELECT {columns},
  (SELECT cu.id FROM units_unit cu JOIN units_unitkind k ON k.id = cu.kind_id
   WHERE k.base = 'county' AND substr(u.path, 1, length(cu.path)) = cu.path
   ORDER BY cu.depth DESC LIMIT 1) AS county_pk,
  (SELECT cu.division_code FROM units_unit cu JOIN units_unitkind k ON k.id = cu.kind_id
   WHERE k.base = 'county' AND substr(u.path, 1, length(cu.path)) = cu.path
   ORDER BY cu.depth DESC LIMIT 1) AS county_code
FROM units_unit u WHERE u.id = %s AND (u.is_active OR NOT %s)
"""
_UNIT_DEFERRED = frozenset({"boundary"})


def _unit_with_county_plan(db: str) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    """The statement, the attribute names and each column's converters, made once per connection."""
    conn = connections[db]
    plan = getattr(conn, "_gridgov_unit_with_county", None)
    if plan is None:
        table = Unit._meta.db_table
        fields = [f for f in Unit._meta.concrete_fields if f.name not in _UNIT_DEFERRED]
        converters = []
        for f in fields:
            expression = f.get_col(table)
            converters.append((expression, conn.ops.get_db_converters(expression)
                               + expression.get_db_converters(conn)))
        columns = ", ".join(f"u.{conn.ops.quote_name(f.column)}" for f in fields)
        plan = (_UNIT_WITH_COUNTY.format(columns=columns), [f.attname for f in fields], converters)
        conn._gridgov_unit_with_county = plan  # type: ignore[attr-defined]
    return plan


def _unit_with_county(pk: Any, *, active_only: bool) -> Unit | None:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    db = router.db_for_read(Unit)
    sql, attnames, converters = _unit_with_county_plan(db)
    with connections[db].cursor() as cur:
        cur.execute(sql, [key, active_only])
        row = cur.fetchone()
    if row is None:
        return None
    *fields, county_pk, county_code = row
    values = []
    for (expression, column_converters), value in zip(converters, fields, strict=True):
        for converter in column_converters:
            value = converter(value, expression, connections[db])
        values.append(value)
    unit = Unit.from_db(db, attnames, values)
    unit.county_pk, unit.county_code = county_pk, county_code  # type: ignore[attr-defined]
    return unit


@dataclass(frozen=True)
class _County:
    pk: int
    division_code: str | None


def _county(unit: Unit) -> _County:
    county_pk = getattr(unit, "county_pk", None)
    if county_pk is not None:
        return _County(pk=county_pk, division_code=unit.county_code or "")  # type: ignore[attr-defined]
    root = county_of(unit)  # no county above: the root (one more query, hierarchies without counties only)
    return _County(pk=root.pk, division_code=root.division_code)


def _locate(*, scope: Scope | None, unit_id: int | None, lat: float | None, lng: float | None) -> Unit:
    if (lat is None) != (lng is None):
        raise ValidationFailed("请同时提供经度和纬度。", field="location")
    if unit_id is None and lat is None:
        raise ValidationFailed("请在地图上选择位置，或选择所在网格。", field="location")
    unit: Unit | None = None
    if lat is not None and lng is not None:
        validate_point(lat, lng)
        found = locate.unit_id_at(lat, lng)
        if found is None:
            raise ValidationFailed("该位置不在本县网格范围内，请核对位置。", field="location")
        if unit_id is None:
            unit = _unit_with_county(found, active_only=False)
            if unit is None:  # pragma: no cover - the locator only returns existing units
                raise ValidationFailed("该位置不在本县网格范围内，请核对位置。", field="location")
    if unit_id is not None:
        unit = _unit_with_county(unit_id, active_only=True)
        if unit is None:
            raise ValidationFailed("所选网格不存在。", field="unit_id")
        if scope is not None and not scope.can(P.CASE_REPORT, unit.path):
            raise ValidationFailed("所选网格不存在。", field="unit_id")
    assert unit is not None
    return unit


def _household(*, scope: Scope | None, household_id: Any) -> Household | None:
    """The ledger household a case concerns: only staff name one, and only one they may see."""
    if household_id in (None, ""):
        return None
    try:
        pk = int(household_id)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("户号应为数字。", field="household_id") from exc
    household = None
    if scope is not None:
        household = Household.objects.within(scope).select_related("unit").filter(pk=pk).first()
    if household is None:
        raise ValidationFailed(f"没有找到户号 {pk}，或该户不在您的范围内。", field="household_id")
    return household


# The idempotency key's case, if any, and the reference stamp (cases/reference.py): one round trip.
_KEY_AND_STAMP = ("SELECT (SELECT id FROM cases_case WHERE idempotency_key = %s), "
                  "(SELECT value FROM cases_referencestamp WHERE id = 1)")


@transaction.atomic
def case_report(
    *,
    actor: Any,
    now: dt.datetime,
    title: str,
    description: str,
    category_code: str,
    channel: str,
    urgency: str = Urgency.ORDINARY,
    lat: float | None = None,
    lng: float | None = None,
    unit_id: int | None = None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    idempotency_key: str = "",
    key_namespace: str = "",
    household_id: int | None = None,
) -> IntakeResult:
    """Intake from every channel. The same idempotency key with the same payload returns the same
    case (created=False); with a different payload it is a Conflict."""
    scope = scope_for(actor) if actor is not None else None
    if scope is not None and not scope.can(P.CASE_REPORT):
        raise PermissionDenied("您没有登记事件的权限。")
    key = (idempotency_key or "").strip()
    if len(key) > 80:
        raise ValidationFailed("幂等键不能超过 80 个字符。", field="idempotency_key")
    namespaced = None
    if key:
        owner = f"u{actor.pk}" if actor is not None else (key_namespace or "public")
        namespaced = f"{owner}:{key}"
    payload = {
        "title": title, "description": description, "category": category_code, "channel": channel,
        "urgency": urgency, "lat": lat, "lng": lng, "unit_id": unit_id, "address": address,
        "reporter_name": reporter_name, "reporter_phone": reporter_phone, "anonymous": bool(anonymous),
    }
    if household_id is not None:
        payload["household_id"] = household_id  # only when given, so earlier keys keep their digests
    digest = _payload_hash(payload)
    if namespaced:
        _serialise_key(namespaced)
    legacy = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    stamp: int | None = None
    if namespaced:
        # The key is unique: look for its id alone (the whole row only when it is a replay), and read the
        # reference stamp in the same statement.
        with connection.cursor() as cur:
            cur.execute(_KEY_AND_STAMP, [namespaced])
            found, stamp = cur.fetchone()
        if found is not None:
            return _replay(Case.unscoped.get(pk=found), digest, legacy)
    else:
        stamp = reference.read_stamp()
    kept = reference.reference(stamp)

    title = _text(title, field_name="title", label="标题", required=True, max_len=80)
    description = _text(description, field_name="description", label="事件内容", required=True, max_len=4000)
    if not category_code:
        raise ValidationFailed("请选择事件类别。", field="category")
    category = kept.categories.get(category_code)
    if category is None:
        raise ValidationFailed("事件类别不存在。", field="category")
    if urgency not in Urgency.values:
        raise ValidationFailed("紧急程度不正确。", field="urgency")
    if channel not in Channel.values:
        raise ValidationFailed("事件来源不正确。", field="channel")
    address = _text(address, field_name="address", label="地址", required=False, max_len=200)
    reporter_name = _text(reporter_name, field_name="reporter_name", label="反映人姓名", required=False, max_len=40)
    reporter_phone = _text(reporter_phone, field_name="reporter_phone", label="联系电话", required=False, max_len=20)
    reporter_phone = reporter.clean_phone(reporter_phone)
    household = _household(scope=scope, household_id=household_id)
    if household is not None and unit_id is None and lat is None:
        unit_id = household.unit_id  # the household's grid, unless a place was given
    unit = _locate(scope=scope, unit_id=unit_id, lat=lat, lng=lng)
    county = _county(unit)
    due = deadlines.stage_deadlines(kept.calendar, category, urgency, now)
    role = scope.role_at(unit.path) if scope is not None else "public"

    def create() -> Case:
        year = local(now).year
        prefix = numbering.number_prefix(county_id=county.pk, division_code=county.division_code)
        number = form_number(county_id=county.pk, division_code=county.division_code, year=year,
                             kind=FormKind.REPORT, prefix=prefix,
                             value=numbering.next_value(county_id=county.pk, year=year, kind=FormKind.REPORT))
        case = Case(
            number=number, number_prefix=prefix, title=title, description=description, category=category,
            urgency=urgency, channel=channel, county_id=county.pk, unit=unit, lat=lat, lng=lng, address=address,
            reported_by=actor if actor is not None else None,
            **reporter.sealed_fields(name=reporter_name, phone=reporter_phone), anonymous=bool(anonymous),
            household=household,
            tracking_token=secrets.token_urlsafe(16)[:22],
            status=Status.REPORTED, holder_unit=unit, owner_unit=unit, owner_path=unit.path, unit_path=unit.path,
            respond_due=due.respond_due, resolve_due=due.resolve_due,
            idempotency_key=namespaced, payload_hash=digest, created_at=now, updated_at=now,
        )
        insert_one(case)  # save(), without compiling the 50-column INSERT each time
        return case

    if not namespaced or connection.vendor == "postgresql":
        # PostgreSQL: the key's advisory lock, held since before the look-up above, makes that look-up
        # final: no other transaction can insert this key now, so no savepoint is needed.
        case = create()
    else:
        try:
            with transaction.atomic():
                case = create()
        except IntegrityError:
            existing = Case.unscoped.filter(idempotency_key=namespaced).first()
            if existing is None:
                raise
            return _replay(existing, digest, legacy)
    number = case.number

    insert_one(CaseEvent(
        case=case, seq=1, action="report", at=now, actor=actor if actor is not None else None, actor_role=role,
        from_status="", to_status=Status.REPORTED, to_unit=unit, resolve_due_after=case.resolve_due,
        detail={"form_number": number, "channel": channel},
    ))
    audit_record(action="case.report", actor=actor, now=now, obj=case, unit_path=unit.path, role=role,
                 detail={"number": number, "category": category.code, "channel": channel}
                 | ({"household": household.pk} if household is not None else {}))
    notify_users(user_ids=[u for u in holder_user_ids(case) if actor is None or u != actor.pk], topic="case.new",
                 title=f"新事件：{case.title}", body=f"{case.number} · {category.name}", link=_case_link(case),
                 dedupe_key=f"case:{case.pk}:ev:1:inbox", now=now)
    dups = duplicates_near(case=case) if lat is not None else []
    return IntakeResult(case=case, created=True, duplicates=dups)


def _serialise_key(namespaced: str) -> None:
    """Parallel submissions of ONE key wait for each other (a transaction-level advisory lock on the
    key, PostgreSQL only): the first makes the case, the others then find it and replay it, without
    taking a case number each. Different keys never wait for each other."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"case-intake:{namespaced}"])


def _replay(existing: Case, digest: str, legacy: str = "") -> IntakeResult:
    # Rows written before the digest was keyed carry a plain SHA-256 (`legacy`).
    if existing.payload_hash not in (digest, legacy):
        raise Conflict("该幂等键已用于另一条不同内容的事件，请更换幂等键。",
                       details={"case_id": existing.pk, "number": existing.number})
    return IntakeResult(case=existing, created=False)


def duplicates_near(*, case: Case, radius_m: float = DUPLICATE_RADIUS_M, limit: int = 5) -> list[Case]:
    """Open cases of the same category within a radius: suggested as duplicates at intake."""
    if case.lat is None or case.lng is None:
        return []
    dlat = radius_m / 111_000
    dlng = radius_m / (111_000 * max(math.cos(math.radians(case.lat)), 0.01))
    rows = (
        Case.unscoped.filter(category_id=case.category_id, county_id=case.county_id,
                             status__in=[s.value for s in _OPEN], lat__range=(case.lat - dlat, case.lat + dlat),
                             lng__range=(case.lng - dlng, case.lng + dlng))
        .exclude(pk=case.pk).order_by("-created_at")[:50]
    )
    near = [c for c in rows if c.lat is not None and c.lng is not None
            and distance_m(case.lat, case.lng, c.lat, c.lng) <= radius_m]
    return near[:limit]


_OPEN = frozenset({Status.REPORTED, Status.HANDLING, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED,
                   Status.FEEDBACK})


# --- the locked transition service ----------------------------------------------------------

@dataclass
class _Step:
    case: Case
    action: Action
    actor: Any
    scope: Scope | None
    now: dt.datetime
    note: str = ""
    reason_code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    notify_extra: list[int] = field(default_factory=list)
    _calendar: WorkCalendar | None = None
    # Where form numbers come from: one `nextval` each by default; the sweep passes numbers it took
    # for a whole batch at once (sweep.NumberPool).
    numbers: Callable[[Unit, int, str, str], str] | None = None

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = deadlines.work_calendar()
        return self._calendar


def _visible(scope: Scope, case: Case) -> bool:
    return Case.objects.within(scope).filter(pk=case.pk).exists()


def _authorize(step: _Step, reporter_token: str) -> str:
    """Check the actor may take this action on this case now; return the role for the history row."""
    action, case, scope = step.action, step.case, step.scope
    if scope is None:
        if action.who == Who.REPORTER and reporter_token:
            if not hmac.compare_digest(reporter_token, case.tracking_token):
                raise NotFound()
            return "reporter"
        if action.automatic:
            return "system"
        raise PermissionDenied()
    if action.who == Who.DEPARTMENT:
        if case.holder_department_id not in scope.department_ids:
            raise PermissionDenied("该事件不在本部门办理中。")
        return "department_handler"
    if action.who == Who.HOLDER:
        assert case.holder_unit is not None
        path = case.holder_unit.path
    else:
        path = case.owner_path
    if action.who == Who.REPORTER and case.reported_by_id == scope.user_id:
        return "reporter"
    if not scope.can(action.perm, path):
        raise PermissionDenied(f"您不能对该事件执行「{action.label}」。")
    return scope.role_at(path)


def _department(department_id: Any, holder: Unit) -> Department:
    try:
        dept_pk = int(department_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择承办部门。", field="department_id")
    dept = Department.unscoped.select_related("unit").filter(pk=dept_pk, is_active=True).first()
    # A department of this office's unit, an ancestor (county bureaus) or a unit below (stations).
    if dept is None or not (holder.path.startswith(dept.unit.path) or dept.unit.path.startswith(holder.path)):
        raise ValidationFailed("承办部门不存在或不在本辖区。", field="department_id")
    return dept


def _stage(step: _Step, resolve_days: Any = None) -> None:
    case = step.case
    due = deadlines.stage_deadlines(step.calendar, case.category, case.urgency, step.now)
    resolve = due.resolve_due
    if resolve_days not in (None, ""):
        try:
            days = int(resolve_days)
        except (TypeError, ValueError):
            raise ValidationFailed("办理时限应为工作日天数。", field="resolve_days")
        if not 1 <= days <= 60:
            raise ValidationFailed("办理时限应在 1 到 60 个工作日之间。", field="resolve_days")
        resolve = deadlines.extended(step.calendar, step.now, days)
    case.respond_due, case.resolve_due = due.respond_due, max(resolve, due.respond_due)
    case.responded_at = None
    case.warned_for = case.overdue_for = case.respond_urged_for = None
    case.overdue = False
    case.extension_days_requested = None


def _on_site(step: _Step, checkin_lat: Any, checkin_lng: Any) -> None:
    """四必到: acting on such a category needs a GPS check-in near the case's place."""
    case = step.case
    if not case.category.on_site:
        return
    if checkin_lat in (None, "") or checkin_lng in (None, ""):
        raise ValidationFailed("该类事件须到现场办理（四必到），请先定位签到。", field="checkin")
    try:
        lat, lng = float(checkin_lat), float(checkin_lng)
    except (TypeError, ValueError):
        raise ValidationFailed("签到位置格式不正确。", field="checkin")
    validate_point(lat, lng)
    if case.lat is not None and case.lng is not None:
        dist = distance_m(lat, lng, case.lat, case.lng)
        if dist > ON_SITE_RADIUS_M:
            raise ValidationFailed(f"签到位置距事发地 {dist:.0f} 米，须在 {ON_SITE_RADIUS_M:.0f} 米以内。",
                                   field="checkin")
    step.detail["checkin"] = [round(lat, 6), round(lng, 6)]


def _attach(step: _Step, attachment_ids: Any) -> None:
    """Link already uploaded files of this case to the history row (evidence, photos of the result)."""
    if not attachment_ids:
        return
    if not isinstance(attachment_ids, list | tuple):
        attachment_ids = str(attachment_ids).split(",")
    try:
        ids = sorted({int(i) for i in attachment_ids})
    except (TypeError, ValueError):
        raise ValidationFailed("附件编号不正确。", field="attachment_ids")
    found = set(CaseAttachment.unscoped.filter(case=step.case, pk__in=ids).values_list("pk", flat=True))
    if found != set(ids):
        raise ValidationFailed("附件不存在。", field="attachment_ids")
    step.detail["attachments"] = ids


def _form(step: _Step, kind: str) -> None:
    case = step.case
    year = local(step.now).year
    prefix = case.number_prefix  # captured at creation: a later code change renumbers nothing
    step.detail["form_number"] = (step.numbers(case.county, year, kind, prefix) if step.numbers is not None
                                  else next_number(county=case.county, year=year, kind=kind, prefix=prefix))


def _last_event_department(case: Case, action: str) -> int | None:
    ev = (CaseEvent.unscoped.filter(case=case, action=action, from_department__isnull=False)
          .order_by("-seq").first())
    return ev.from_department_id if ev else None


# Handlers: each validates its own parameters and changes the case in memory.

def _accept(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    step.case.responded_at = step.now


def _reject(step: _Step, *, reason: str = "") -> None:
    step.note = _text(reason, field_name="reason", label="不予受理的理由", required=True, max_len=500)
    step.case.closed_at = step.now


def _merge(step: _Step, *, target_case_id: Any = None, note: str = "") -> None:
    case = step.case
    # Staff know cases by number (140225-2026-S00012); clients may send the id.
    text = str(target_case_id or "").strip()
    if text.isdecimal():
        target_pk = int(text)
    else:
        found = Case.unscoped.filter(number=text, county_id=case.county_id).values_list("pk", flat=True).first()
        if found is None:
            raise ValidationFailed("请填写要并入的原事件编号。", field="target_case_id")
        target_pk = found
    if target_pk == case.pk:
        raise ValidationFailed("不能与自身合并。", field="target_case_id")
    target = Case.unscoped.select_for_update().filter(pk=target_pk).first()
    if target is None or (step.scope is not None and not _visible(step.scope, target)):
        raise ValidationFailed("原事件不存在。", field="target_case_id")
    if target.status not in _OPEN or target.county_id != case.county_id:
        raise ValidationFailed("只能并入同一县内正在办理的事件。", field="target_case_id")
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    case.merged_into = target
    case.closed_at = step.now
    step.detail["merged_into"] = target.number
    # The reporter moves to the original: its timeline records them, and they are told by SMS.
    seq = (CaseEvent.unscoped.filter(case=target).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    CaseEvent.unscoped.create(
        case=target, seq=seq, action="merged_in", at=step.now, actor=step.actor, from_status=target.status,
        to_status=target.status, to_unit=target.holder_unit, to_department=None,
        note=f"合并事件 {case.number}", resolve_due_before=target.resolve_due, resolve_due_after=target.resolve_due,
        detail={"from_case": case.number, "reporter_name": "" if case.anonymous else case.reporter_name_masked},
    )
    Case.unscoped.filter(pk=target.pk).update(version=target.version + 1, updated_at=step.now)
    if case.reporter_phone_cipher:
        # The outbox seals the number again (notify.services): no phone in clear at rest.
        outbox_put(kind="sms", topic="case.merged", dedupe_key=f"case:{case.pk}:merged:sms", now=step.now,
                   payload={"channel": "sms", "to": [reporter.reveal_phone(case)],
                            "text": f"您反映的问题已并入事件 {target.number} 一并办理，可凭原查询码查看进度。"})


def _self_handle(step: _Step, *, result: str = "", checkin_lat: Any = None, checkin_lng: Any = None,
                 attachment_ids: Any = None) -> None:
    case = step.case
    assert case.holder_unit is not None
    lowest = LEVEL_RANK[case.category.lowest_level]  # type: ignore[index]
    if unit_rank(case.holder_unit) < lowest:
        raise ValidationFailed(f"「{case.category.name}」须由{case.category.get_lowest_level_display()}"
                               "及以上办结，请上报。", field="action")
    result = _text(result, field_name="result", label="办理结果", required=True, max_len=2000)
    _on_site(step, checkin_lat, checkin_lng)
    _attach(step, attachment_ids)
    case.result = result
    step.note = result
    case.resolved_at = step.now
    case.responded_at = case.responded_at or step.now
    _form(step, FormKind.FEEDBACK)


def _escalate(step: _Step, *, to_unit_id: Any = None, note: str = "") -> None:
    case = step.case
    holder = case.holder_unit
    assert holder is not None
    if holder.parent_id is None:
        parent = None
    elif Unit.parent.is_cached(holder):  # the sweep loads it with the batch
        parent = holder.parent
    else:
        parent = Unit.unscoped.select_related("kind").filter(pk=holder.parent_id).first()
    if parent is None:
        raise ValidationFailed("已是最高层级，无法继续上报，请交办职能部门。", field="action")
    target = parent
    if to_unit_id not in (None, "") and str(to_unit_id) != str(parent.pk):
        try:
            to_pk = int(to_unit_id)
        except (TypeError, ValueError):
            raise ValidationFailed("上报单位不正确。", field="to_unit_id")
        if to_pk not in holder.ancestor_ids():
            raise ValidationFailed("只能上报给本单位的上级。", field="to_unit_id")
        if case.urgency != Urgency.EMERGENCY:
            raise ValidationFailed("只有紧急事件可以越级上报。", field="to_unit_id")
        target = Unit.unscoped.select_related("kind").get(pk=to_pk)
        skipped = Unit.unscoped.filter(pk__in=holder.ancestor_ids(), depth__gt=target.depth).order_by("-depth")
        step.detail["skipped"] = [u.name for u in skipped]
    step.note = _text(note, field_name="note", label="上报说明", required=False, max_len=500)
    case.holder_unit = target
    case.owner_unit = target
    case.owner_path = target.path
    case.responded_at = case.responded_at or step.now


def _dispatch(step: _Step, *, department_id: Any = None, resolve_days: Any = None, note: str = "") -> None:
    case = step.case
    assert case.holder_unit is not None
    dept = _department(department_id, case.holder_unit)
    step.note = _text(note, field_name="note", label="交办意见", required=False, max_len=1000)
    _stage(step, resolve_days)
    case.owner_unit = case.holder_unit
    case.owner_path = case.holder_unit.path
    case.holder_unit = None
    case.holder_department = dept
    case.dispatch_final = False
    _form(step, FormKind.DISPATCH)


def _acknowledge(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="备注", required=False, max_len=500)
    step.case.responded_at = step.now


def _return(step: _Step, *, reason_code: str = "", note: str = "", attachment_ids: Any = None) -> None:
    case = step.case
    if case.dispatch_final:
        raise ValidationFailed("该交办已经审定，不能再退回，请按期办理。", field="action")
    if reason_code not in ReturnReason.LABELS:
        raise ValidationFailed("请选择退回理由（属地不符、权属不清、职能交叉或其他）。", field="reason_code")
    step.reason_code = reason_code
    step.note = _text(note, field_name="note", label="退回说明和依据", required=True, max_len=1000)
    _attach(step, attachment_ids)
    case.holder_unit = case.owner_unit
    case.holder_department = None


def _redispatch(step: _Step, *, department_id: Any = None, resolve_days: Any = None, note: str = "") -> None:
    case = step.case
    dept = _department(department_id, case.owner_unit)
    step.note = _text(note, field_name="note", label="交办意见", required=False, max_len=1000)
    _stage(step, resolve_days)
    case.holder_unit = None
    case.holder_department = dept
    case.dispatch_final = False
    _form(step, FormKind.DISPATCH)


def _adjudicate(step: _Step, *, note: str = "", resolve_days: Any = None) -> None:
    case = step.case
    dept_id = _last_event_department(case, "return")
    if dept_id is None:
        raise ValidationFailed("找不到原承办部门。", field="action")
    step.note = _text(note, field_name="note", label="审定意见", required=True, max_len=1000)
    _stage(step, resolve_days)
    case.holder_unit = None
    case.holder_department = Department.unscoped.get(pk=dept_id)
    case.dispatch_final = True
    _form(step, FormKind.DISPATCH)


def _request_extension(step: _Step, *, days: Any = None, reason: str = "") -> None:
    case = step.case
    if case.extension_days_requested:
        raise ValidationFailed("已有待审批的延时申请。", field="action")
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise ValidationFailed("请填写需要延长的工作日天数。", field="days")
    cap = case.category.max_extension_days
    if not 1 <= n <= cap:
        raise ValidationFailed(f"延时应在 1 到 {cap} 个工作日之间。", field="days")
    step.note = _text(reason, field_name="reason", label="延时理由", required=True, max_len=500)
    case.extension_days_requested = n
    step.detail["days"] = n


def _approve_extension(step: _Step, *, note: str = "") -> None:
    case = step.case
    if not case.extension_days_requested or case.resolve_due is None:
        raise ValidationFailed("没有待审批的延时申请。", field="action")
    step.note = _text(note, field_name="note", label="审批意见", required=False, max_len=500)
    step.detail["days"] = case.extension_days_requested
    case.resolve_due = deadlines.extended(step.calendar, case.resolve_due, case.extension_days_requested)
    case.extension_days_requested = None
    case.extension_count += 1
    case.warned_for = None
    if case.resolve_due > step.now:
        case.overdue = False


def _deny_extension(step: _Step, *, reason: str = "") -> None:
    case = step.case
    if not case.extension_days_requested:
        raise ValidationFailed("没有待审批的延时申请。", field="action")
    step.note = _text(reason, field_name="reason", label="不同意的理由", required=True, max_len=500)
    step.detail["days"] = case.extension_days_requested
    case.extension_days_requested = None


def _urge(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="催办意见", required=False, max_len=500)
    step.case.urge_count += 1
    step.detail["count"] = step.case.urge_count
    step.detail["auto"] = step.actor is None
    _form(step, FormKind.URGE)


def _supervise(step: _Step, *, note: str = "") -> None:
    if step.case.supervised:
        raise ValidationFailed("该事件已在督办中。", field="action")
    step.note = _text(note, field_name="note", label="督办意见", required=False, max_len=500)
    step.case.supervised = True


def _feedback(step: _Step, *, result: str = "", checkin_lat: Any = None, checkin_lng: Any = None,
              attachment_ids: Any = None) -> None:
    case = step.case
    result = _text(result, field_name="result", label="办理结果", required=True, max_len=2000)
    _on_site(step, checkin_lat, checkin_lng)
    _attach(step, attachment_ids)
    case.result = result
    step.note = result
    case.holder_unit = case.owner_unit
    case.holder_department = None
    case.extension_days_requested = None
    _form(step, FormKind.FEEDBACK)


def _review(step: _Step, *, note: str = "") -> None:
    case = step.case
    step.note = _text(note, field_name="note", label="审核意见", required=False, max_len=500)
    case.resolved_at = step.now
    if case.reporter_phone_cipher:
        outbox_put(kind="sms", topic="case.resolved", now=step.now,
                   dedupe_key=f"case:{case.pk}:resolved:{case.version}:sms",
                   payload={"channel": "sms", "to": [reporter.reveal_phone(case)],
                            "text": f"您反映的问题（{case.number}）已办结，请查看结果并评价。"})


def _redo(step: _Step, *, reason: str = "") -> None:
    case = step.case
    dept_id = _last_event_department(case, "feedback")
    if dept_id is None:
        raise ValidationFailed("找不到原承办部门。", field="action")
    step.note = _text(reason, field_name="reason", label="重办理由", required=True, max_len=500)
    _stage(step)
    case.responded_at = step.now  # the department already holds it: no new sign-for
    case.result = ""
    case.holder_unit = None
    case.holder_department = Department.unscoped.get(pk=dept_id)


def _confirm(step: _Step, *, rating: Any = None, note: str = "") -> None:
    case = step.case
    try:
        stars = int(rating)
    except (TypeError, ValueError):
        raise ValidationFailed("请评价（1 到 5 分）。", field="rating")
    if not 1 <= stars <= 5:
        raise ValidationFailed("评价应为 1 到 5 分。", field="rating")
    case.rating = stars
    case.rating_note = _text(note, field_name="note", label="评价意见", required=False, max_len=200)
    step.note = case.rating_note
    step.detail["rating"] = stars
    case.closed_at = step.now


def _reopen(step: _Step, *, reason: str = "") -> None:
    case = step.case
    step.note = _text(reason, field_name="reason", label="不满意的理由", required=True, max_len=500)
    _stage(step)
    case.result = ""
    case.resolved_at = None
    case.holder_unit = case.owner_unit
    case.holder_department = None


def _close(step: _Step, *, note: str = "") -> None:
    step.note = _text(note, field_name="note", label="归档说明", required=False, max_len=500)
    step.case.closed_at = step.now


def _cancel(step: _Step, *, reason: str = "") -> None:
    case = step.case
    step.note = _text(reason, field_name="reason", label="注销理由", required=True, max_len=500)
    case.holder_unit = case.holder_unit or case.owner_unit
    case.holder_department = None
    case.closed_at = step.now


HANDLERS: dict[str, Callable[..., None]] = {
    "accept": _accept, "reject": _reject, "merge": _merge, "self_handle": _self_handle, "escalate": _escalate,
    "dispatch": _dispatch, "acknowledge": _acknowledge, "return": _return, "redispatch": _redispatch,
    "adjudicate": _adjudicate, "request_extension": _request_extension, "approve_extension": _approve_extension,
    "deny_extension": _deny_extension, "urge": _urge, "supervise": _supervise, "feedback": _feedback,
    "review": _review, "redo": _redo, "confirm": _confirm, "reopen": _reopen, "close": _close, "cancel": _cancel,
}
_PARAMS = {code: frozenset(list(inspect.signature(fn).parameters)[1:]) for code, fn in HANDLERS.items()}


def action_params(action: str) -> frozenset[str]:
    return _PARAMS[action]


@transaction.atomic
def case_act(
    *,
    actor: Any,
    now: dt.datetime,
    case_id: int,
    action: str,
    expected_version: int | None = None,
    reporter_token: str = "",
    **params: Any,
) -> Case:
    """Take one action on a case. The case row is locked for the whole change: of two people acting
    at once, one wins and the other gets a Conflict naming the status the first one left."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationFailed("未知的操作。", field="action")
    unknown = set(params) - _PARAMS[action]
    if unknown:
        raise ValidationFailed(f"「{spec.label}」不接受这些参数：{'、'.join(sorted(unknown))}")
    case = (Case.unscoped.select_for_update(of=("self",)).select_related("category", "holder_unit__kind", "county")
            .filter(pk=case_id).first())
    if case is None:
        raise NotFound()
    scope = scope_for(actor) if actor is not None else None
    if scope is not None and not _visible(scope, case):
        raise NotFound()
    if expected_version is not None and int(expected_version) != case.version:
        raise Conflict("该事件已被他人处理，请刷新后再操作。",
                       details={"current_version": case.version, "status": case.status})
    if not spec.allowed_from(case.status):
        raise Conflict(f"该事件当前状态为「{case.get_status_display()}」，不能{spec.label}。",
                       details={"current_version": case.version, "status": case.status})
    step = _Step(case=case, action=spec, actor=actor, scope=scope, now=now)
    role = _authorize(step, reporter_token)
    change = transition(step, role, params, seq_of=_next_seq)
    case.save()
    change.event.save()
    change.audit.save()
    if change.notify is not None:
        recipients = [u for u in holder_user_ids(case) if actor is None or u != actor.pk]
        notify_users(user_ids=recipients, **change.notify)
    return case


def _next_seq(case: Case) -> int:
    return (CaseEvent.unscoped.filter(case=case).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1


@dataclass
class Change:
    """One transition worked out in memory: the case changed (not saved), its history row and audit
    row (not saved), and the in-app notification to send to the holders, if any (notify_users'
    arguments but the recipients). `case_act` writes one; the deadline sweep writes a batch."""

    case: Case
    event: CaseEvent
    audit: AuditEvent
    notify: dict[str, Any] | None


def transition(step: _Step, role: str, params: dict[str, Any], *, seq_of: Callable[[Case], int]) -> Change:
    """Run the action's handler on the (locked) case and build what must be written. The caller has
    checked the action is allowed from the case's status and authorised the actor (`role`)."""
    case, spec, actor, now = step.case, step.action, step.actor, step.now
    action = spec.code
    before_status, before_unit, before_department, before_due = (
        case.status, case.holder_unit_id, case.holder_department_id, case.resolve_due)
    HANDLERS[action](step, **params)
    case.status = target_of(spec, case.status)
    case.version += 1
    case.updated_at = now
    if case.holder_unit_id is None and case.holder_department_id is None:  # pragma: no cover - guarded by handlers
        raise ValidationFailed("事件必须有承办方。")
    seq = seq_of(case)
    event = CaseEvent(
        case=case, seq=seq, action=action, at=now, actor=actor, actor_role=role,
        from_status=before_status, to_status=case.status,
        from_unit_id=before_unit, to_unit_id=case.holder_unit_id,
        from_department_id=before_department, to_department_id=case.holder_department_id,
        note=step.note, reason_code=step.reason_code,
        resolve_due_before=before_due, resolve_due_after=case.resolve_due, detail=step.detail,
    )
    audit = audit_build(action=f"case.{action}", actor=actor, now=now, obj=case, unit_path=case.owner_path,
                        role=role, detail={"from": before_status, "to": case.status, "number": case.number})
    notify = None
    if STATUSES[case.status].type in ("open", "in_progress") or action in ("review",):
        notify = {"topic": f"case.{action}", "title": f"{spec.label}：{case.title}",
                  "body": f"{case.number} · {case.get_status_display()}" + (f" · {step.note[:80]}" * bool(step.note)),
                  "link": _case_link(case), "dedupe_key": f"case:{case.pk}:ev:{seq}:inbox", "now": now}
    return Change(case=case, event=event, audit=audit, notify=notify)


def allowed_actions(*, case: Case, actor: Any) -> list[Action]:
    """The actions this actor may take on this case now (for pages and the API)."""
    scope = scope_for(actor)
    result = []
    for spec in ACTIONS.values():
        if not spec.allowed_from(case.status):
            continue
        step = _Step(case=case, action=spec, actor=actor, scope=scope, now=case.updated_at)
        try:
            _authorize(step, "")
        except (PermissionDenied, NotFound):
            continue
        if spec.code in ("approve_extension", "deny_extension") and not case.extension_days_requested:
            continue
        if spec.code == "request_extension" and case.extension_days_requested:
            continue
        if spec.code == "return" and case.dispatch_final:
            continue
        if spec.code == "supervise" and case.supervised:
            continue
        result.append(spec)
    return result


# --- the category tree (county office) ----------------------------------------------------------------

CATEGORY_FIELDS = frozenset({"name", "lowest_level", "department_kind", "on_site", "deadlines", "escalate_when_overdue",
                             "max_extension_days", "is_active", "parent_id", "sort_order"})
URGENCY_LABEL = dict(Urgency.choices)
# Emergencies run in clock hours, the rest in working days (the defaults).
_HOURS_URGENCIES = frozenset({Urgency.EMERGENCY})
_MAX_HOURS, _MAX_DAYS = 720, 60


def _require_category_manager(actor: Any) -> str:
    if actor is None:
        return "system"
    scope = scope_for(actor)
    if not scope.can(P.CATEGORY_MANAGE):
        raise PermissionDenied("只有县网格办可以修改事件类别。")
    county = next((g.path for g in scope.grants if P.CATEGORY_MANAGE in g.permissions), "")
    return scope.role_at(county) if county else "county_office"


def _clean_category(changes: dict[str, Any], *, category: Category | None) -> dict[str, Any]:
    unknown = set(changes) - CATEGORY_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = _text(changes["name"], field_name="name", label="类别名称", required=True, max_len=20)
    if "lowest_level" in changes:
        if changes["lowest_level"] not in LEVEL_RANK:
            raise ValidationFailed("请选择最低办结层级。", field="lowest_level")
        clean["lowest_level"] = changes["lowest_level"]
    if "department_kind" in changes:
        kind = str(changes["department_kind"] or "").strip()
        if kind and kind not in department_kinds():
            raise ValidationFailed("默认交办部门类别不存在，请从列表中选择。", field="department_kind")
        clean["department_kind"] = kind
    for flag in ("on_site", "escalate_when_overdue", "is_active"):
        if flag in changes:
            clean[flag] = bool(changes[flag])
    if "max_extension_days" in changes:
        try:
            n = int(changes["max_extension_days"])
        except (TypeError, ValueError):
            raise ValidationFailed("延时上限应为整数（工作日）。", field="max_extension_days")
        if not 0 <= n <= _MAX_DAYS:
            raise ValidationFailed(f"延时上限应在 0 到 {_MAX_DAYS} 个工作日之间。", field="max_extension_days")
        clean["max_extension_days"] = n
    if "sort_order" in changes:
        try:
            clean["sort_order"] = max(0, int(changes["sort_order"]))
        except (TypeError, ValueError):
            raise ValidationFailed("排序应为整数。", field="sort_order")
    if "deadlines" in changes:
        clean["deadlines"] = _check_deadlines(changes["deadlines"])
    if "parent_id" in changes:
        clean["parent"] = _category_parent(changes["parent_id"], category)
    return clean


def _category_parent(raw: Any, category: Category | None) -> Category | None:
    if raw in (None, ""):
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed("上级类别不存在。", field="parent_id")
    parent = Category.objects.filter(pk=pk, is_active=True).first()
    if parent is None:
        raise ValidationFailed("上级类别不存在或已停用。", field="parent_id")
    if parent.parent_id is not None:
        raise ValidationFailed("类别只分两级：请选择一个大类作为上级。", field="parent_id")
    if category is not None:
        if parent.pk == category.pk:
            raise ValidationFailed("上级类别不能是它自己。", field="parent_id")
        if Category.objects.filter(parent=category).exists():
            raise ValidationFailed("该类别下还有子类别，不能再挂到其他大类下。", field="parent_id")
    return parent


def department_kinds() -> set[str]:
    """Department kinds a category may name as its default: those of real departments, and those
    already in use by the tree."""
    kinds = set(Department.unscoped.exclude(kind="").values_list("kind", flat=True).distinct())
    return kinds | set(Category.objects.exclude(department_kind="").values_list("department_kind", flat=True))


def _check_deadlines(value: Any) -> dict[str, dict[str, int]]:
    """Deadlines by urgency: emergencies in clock hours, the rest in working days; both limits whole
    numbers in range; the response never after the resolution. A missing urgency keeps the default."""
    if not isinstance(value, dict) or set(value) - set(Urgency.values):
        raise ValidationFailed("时限设置格式不正确。", field="deadlines")
    clean: dict[str, dict[str, int]] = {}
    for urgency in Urgency.values:
        policy = value.get(urgency)
        if policy is None:
            clean[urgency] = dict(DEFAULT_DEADLINES[urgency])
            continue
        label = URGENCY_LABEL[urgency]
        unit, cap, words = (("hours", _MAX_HOURS, "小时") if urgency in _HOURS_URGENCIES
                            else ("days", _MAX_DAYS, "个工作日"))
        if not isinstance(policy, dict) or set(policy) != {f"respond_{unit}", f"resolve_{unit}"}:
            raise ValidationFailed(f"「{label}」的时限须填写响应时限和办结时限（{words}）。",
                                   field=f"deadlines_{urgency}")
        for what, key in (("响应时限", f"respond_{unit}"), ("办结时限", f"resolve_{unit}")):
            n = policy[key]
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cap:
                raise ValidationFailed(f"「{label}」的{what}应为 1 到 {cap} 之间的整数（{words}）。",
                                       field=f"deadlines_{urgency}")
        if policy[f"respond_{unit}"] > policy[f"resolve_{unit}"]:
            raise ValidationFailed(f"「{label}」的响应时限不能长于办结时限。", field=f"deadlines_{urgency}")
        clean[urgency] = {f"respond_{unit}": policy[f"respond_{unit}"], f"resolve_{unit}": policy[f"resolve_{unit}"]}
    return clean


@transaction.atomic
def category_update(*, actor: Any, now: dt.datetime, category_id: int, **changes: Any) -> Category:
    """The county office edits a category's graded response (name, levels, department kind, 四必到,
    deadlines, extension cap) or retires / restores it (`is_active`). Audited with the old and new values."""
    role = _require_category_manager(actor)
    found = Category.objects.select_for_update().filter(pk=category_id).first()
    if found is None:
        raise NotFound()
    category: Category = found
    clean = _clean_category(changes, category=category)
    if "name" in clean:
        _check_sibling_name(clean["name"], clean.get("parent", category.parent), exclude=category.pk)
    if (clean.get("is_active") is False and category.is_active
            and Category.objects.filter(parent=category, is_active=True).exists()):
        raise ValidationFailed("请先停用该大类下的子类别。", field="is_active")
    if clean.get("is_active") is True and not category.is_active:
        parent = clean.get("parent", category.parent)
        if parent is not None and not parent.is_active:
            raise ValidationFailed("上级类别已停用，请先启用上级类别。", field="is_active")
    before = {k: _category_value(category, k) for k in clean}
    for key, value in clean.items():
        setattr(category, key, value)
    category.save()
    after = {k: _category_value(category, k) for k in clean}
    changed = sorted(k for k in clean if before[k] != after[k])
    action = ("case.category_retire" if clean.get("is_active") is False and before.get("is_active") else
              "case.category_restore" if clean.get("is_active") is True and before.get("is_active") is False else
              "case.category_update")
    audit_record(action=action, actor=actor, now=now, obj=category, role=role,
                 detail={"fields": changed, "before": {k: before[k] for k in changed},
                         "after": {k: after[k] for k in changed}})
    return category


@transaction.atomic
def category_create(*, actor: Any, now: dt.datetime, name: str, parent_id: Any = None, **fields: Any) -> Category:
    """The county office adds a category (a new main category, or a sub-category under one)."""
    role = _require_category_manager(actor)
    clean = _clean_category({"name": name, "parent_id": parent_id, **fields}, category=None)
    parent = clean.pop("parent", None)
    _check_sibling_name(clean["name"], parent, exclude=None)
    if parent is not None:  # a sub-category starts from its main category's settings
        base = {"lowest_level": parent.lowest_level, "department_kind": parent.department_kind,
                "on_site": parent.on_site, "deadlines": parent.deadlines,
                "escalate_when_overdue": parent.escalate_when_overdue,
                "max_extension_days": parent.max_extension_days}
        clean = {**base, **clean}
    clean.setdefault("deadlines", default_deadlines())
    clean.setdefault("sort_order", (Category.objects.order_by("-sort_order").values_list("sort_order", flat=True)
                                    .first() or 0) + 1)
    code = f"c{now:%y%m%d}{secrets.token_hex(3)}"
    category = Category.objects.create(code=code, parent=parent, **clean)
    audit_record(action="case.category_create", actor=actor, now=now, obj=category, role=role,
                 detail={"name": category.name, "parent": parent.code if parent else None, "code": code})
    return category


def _check_sibling_name(name: str, parent: Category | None, *, exclude: int | None) -> None:
    qs = Category.objects.filter(parent=parent, name=name, is_active=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationFailed(f"同一上级下已有名为「{name}」的类别。", field="name")


def _category_value(category: Category, key: str) -> Any:
    if key == "parent":
        return category.parent.code if category.parent is not None else None
    return getattr(category, key)


# --- the reporter's identity ------------------------------------------------------------------------

UNMASK_REASON_MIN = 4


@dataclass(frozen=True)
class RevealedReporter:
    name: str
    phone: str


@transaction.atomic
def case_reporter_unmask(*, actor: Any, now: dt.datetime, case_id: int, reason: str) -> RevealedReporter:
    """The reporter's full name and phone, for a user holding resident.unmask over the place or the
    answerable unit, or in a department the office disclosed the reporter to, for a stated reason;
    audited. Without a disclosure a department never sees who reported (never an anonymous reporter)."""
    case = Case.unscoped.filter(pk=case_id).first()
    if case is None or actor is None:
        raise NotFound()
    scope = scope_for(actor)
    if not _visible(scope, case):
        raise NotFound()
    path = next((p for p in (case.unit_path, case.owner_path) if scope.can(P.RESIDENT_UNMASK, p)), None)
    if path is None and disclosure.disclosed_to(scope, case):
        path = case.unit_path  # a department the office disclosed the reporter to (reporter disclosure)
    if path is None:
        raise PermissionDenied("您没有查看反映人完整姓名和电话的权限。")
    text = (reason or "").strip()
    if len(text) < UNMASK_REASON_MIN:
        raise ValidationFailed(f"请写明查看反映人完整信息的原因（至少 {UNMASK_REASON_MIN} 个字）。", field="reason")
    if len(text) > 200:
        raise ValidationFailed("原因不能超过 200 个字。", field="reason")
    audit_record(action="case.reporter_unmask", actor=actor, now=now, obj=case, unit_path=path,
                 role=scope.role_at(path), detail={"reason": text, "fields": ["name", "phone"],
                                                   "number": case.number})
    return RevealedReporter(name=reporter.reveal_name(case), phone=reporter.reveal_phone(case))
