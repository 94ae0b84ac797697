"""Case intake from every channel (`case_report`): the idempotency key, the place, the category's
deadlines, the case number; the case, its first history row, its audit row and the holders' in-app
notice in one transaction. Kept lean: every statement here is paid by every report (bench/cpu.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, connections, router, transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import fieldcrypto
from gridgov.core.clock import local
from gridgov.core.errors import Conflict, PermissionDenied, ValidationFailed
from gridgov.core.insert import insert_one
from gridgov.geo.geometry import validate_point
from gridgov.notify.services import notify_users
from gridgov.residents.models import Household
from gridgov.units import locate
from gridgov.units.models import Unit
from gridgov.units.selectors import county_of

from . import deadlines, numbering, reference, reporter
from .errors import CaseError
from .holders import case_link, holder_user_ids
from .models import Case, CaseEvent, Channel, Urgency
from .numbering import FormKind, form_number
from .places import DUPLICATE_RADIUS_M, distance_m
from .states import UNRESOLVED, Status
from .text import text_field as _text


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
        raise ValidationFailed("请同时提供经度和纬度。", field="location", reason=CaseError.LOCATION_INCOMPLETE)
    if unit_id is None and lat is None:
        raise ValidationFailed("请在地图上选择位置，或选择所在网格。", field="location",
                              reason=CaseError.LOCATION_MISSING)
    unit: Unit | None = None
    if lat is not None and lng is not None:
        validate_point(lat, lng)
        found = locate.unit_id_at(lat, lng)
        if found is None:
            raise ValidationFailed("该位置不在本县网格范围内，请核对位置。", field="location",
                                   reason=CaseError.LOCATION_OUTSIDE_COUNTY)
        if unit_id is None:
            unit = _unit_with_county(found, active_only=False)
            if unit is None:  # pragma: no cover - the locator only returns existing units
                raise ValidationFailed("该位置不在本县网格范围内，请核对位置。", field="location",
                                       reason=CaseError.LOCATION_OUTSIDE_COUNTY)
    if unit_id is not None:
        unit = _unit_with_county(unit_id, active_only=True)
        if unit is None:
            raise ValidationFailed("所选网格不存在。", field="unit_id", reason=CaseError.UNIT_NOT_FOUND)
        if scope is not None and not scope.can(P.CASE_REPORT, unit.path):
            raise ValidationFailed("所选网格不存在。", field="unit_id", reason=CaseError.UNIT_NOT_FOUND)
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
        raise ValidationFailed(f"没有找到户号 {pk}，或该户不在您的范围内。", field="household_id",
                              reason=CaseError.HOUSEHOLD_NOT_FOUND)
    return household


# The idempotency key's case, if any, and the reference stamp (cases/reference.py): one round trip.
_KEY_AND_STAMP = ("SELECT (SELECT id FROM cases_case WHERE idempotency_key = %s), "
                  "(SELECT value FROM cases_referencestamp WHERE id = 1)")


@transaction.atomic
def case_report(
    *,
    actor: User | None,
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
        raise ValidationFailed("幂等键不能超过 80 个字符。", field="idempotency_key",
                              reason=CaseError.IDEMPOTENCY_KEY_TOO_LONG)
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
            return _replay(Case.dangerously_unscoped.get(pk=found), digest, legacy)
    else:
        stamp = reference.read_stamp()
    kept = reference.reference(stamp)

    title = _text(title, field_name="title", label="标题", required=True, max_len=80)
    description = _text(description, field_name="description", label="事件内容", required=True, max_len=4000)
    if not category_code:
        raise ValidationFailed("请选择事件类别。", field="category", reason=CaseError.CATEGORY_MISSING)
    category = kept.categories.get(category_code)
    if category is None:
        raise ValidationFailed("事件类别不存在。", field="category", reason=CaseError.CATEGORY_UNKNOWN)
    if urgency not in Urgency.values:
        raise ValidationFailed("紧急程度不正确。", field="urgency", reason=CaseError.URGENCY_UNKNOWN)
    if channel not in Channel.values:
        raise ValidationFailed("事件来源不正确。", field="channel", reason=CaseError.CHANNEL_UNKNOWN)
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
            existing = Case.dangerously_unscoped.filter(idempotency_key=namespaced).first()
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
                 title=f"新事件：{case.title}", body=f"{case.number} · {category.name}", link=case_link(case),
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
                       details={"case_id": existing.pk, "number": existing.number},
                       reason=CaseError.IDEMPOTENCY_KEY_REUSED)
    return IntakeResult(case=existing, created=False)


def duplicates_near(*, case: Case, radius_m: float = DUPLICATE_RADIUS_M, limit: int = 5) -> list[Case]:
    """Open cases of the same category within a radius: suggested as duplicates at intake."""
    if case.lat is None or case.lng is None:
        return []
    dlat = radius_m / 111_000
    dlng = radius_m / (111_000 * max(math.cos(math.radians(case.lat)), 0.01))
    rows = (
        Case.dangerously_unscoped.filter(category_id=case.category_id, county_id=case.county_id,
                             status__in=[s.value for s in UNRESOLVED], lat__range=(case.lat - dlat, case.lat + dlat),
                             lng__range=(case.lng - dlng, case.lng + dlng))
        .exclude(pk=case.pk).order_by("-created_at")[:50]
    )
    near = [c for c in rows if c.lat is not None and c.lng is not None
            and distance_m(case.lat, case.lng, c.lat, c.lng) <= radius_m]
    return near[:limit]
