"""Reads of the household ledger, always through the actor's scope.

What leaves here is already protected: ID numbers and phones only in masked form (the models
hold nothing else in clear), sensitive tags, health details and the names of children under 14
only for roles holding resident.sensitive_tags. Lists use keyset pagination (id > cursor,
limit + 1) so no page ever runs count(*) over a whole ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
)

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.errors import CommonError, NotFound, ValidationFailed
from gridgov.units.models import Unit

from . import idnumber, phones, protected
from .errors import ResidentError
from .models import (
    AssignmentKind,
    Household,
    HouseholdAssignment,
    HouseholdEvent,
    HouseholdStatus,
    Relation,
    Resident,
    ResidentStatus,
    Tag,
    TagAssignment,
)

PAGE_SIZE = 50
# A unit's boundary is a polygon (kilobytes of JSON): never loaded with households or unit lists.
UNIT_HEAVY = ("unit__boundary",)
_ID_LIKE = re.compile(r"^[0-9]{15}$|^[0-9]{17}[0-9Xx]$")
_PHONE_LIKE = re.compile(r"^[0-9+\-\s()]{7,16}$")


def can_see_sensitive(scope: Scope, path: str) -> bool:
    return scope.can(P.SENSITIVE_TAGS, path)


def visible_tags(scope: Scope, path: str | None = None) -> list[Tag]:
    tags = list(Tag.objects.filter(is_active=True))
    if path is None:
        allowed = scope.can(P.SENSITIVE_TAGS)
        return [t for t in tags if allowed or not t.is_sensitive]
    return [t for t in tags if not t.is_sensitive or can_see_sensitive(scope, path)]


def tag_catalogue() -> list[Tag]:
    """Every key group, retired ones too, each with `in_use`: how many households and people carry it now.
    (For the catalogue page: only holders of category.manage reach it, who also see sensitive tags.)"""
    from django.db.models import Count

    return list(Tag.objects.annotate(in_use=Count("assignments", filter=Q(assignments__end_date__isnull=True)))
                .order_by("-is_active", "sort_order", "id"))


def tag_get(*, tag_id: int) -> Tag:
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise NotFound()
    return tag


# --- search -------------------------------------------------------------------------------------------
@dataclass
class HouseholdQuery:
    text: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    house_number: str = ""
    tag: str = ""
    unit_id: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str = HouseholdStatus.ACTIVE
    after: int | None = None
    limit: int = PAGE_SIZE

    @classmethod
    def from_params(cls, params: Any) -> HouseholdQuery:
        def num(key: str) -> int | None:
            value = str(params.get(key, "") or "").strip()
            if not value:
                return None
            if not value.isdecimal():
                raise ValidationFailed("请输入整数。", field=key)  # as interfaces/api/paging.py words it, byte for byte
            return int(value)

        def text(key: str, n: int = 60) -> str:
            return str(params.get(key, "") or "").strip()[:n]

        status = text("status", 16) or HouseholdStatus.ACTIVE
        if status not in HouseholdStatus.values and status != "all":
            status = HouseholdStatus.ACTIVE
        return cls(text=text("q"), name=text("name", 40), id_number=text("id_number", 24), phone=text("phone", 24),
                   address=text("address", 100), house_number=text("house_number", 40), tag=text("tag", 40),
                   unit_id=num("unit"), age_min=num("age_min"), age_max=num("age_max"), status=status,
                   after=num("after"), limit=min(num("limit") or PAGE_SIZE, 200))


def bigrams(text: str) -> list[str]:
    """The two-character pieces of a fragment (跃龙街 → 跃龙, 龙街): what the address index holds.
    pg_trgm needs three characters, too many for Chinese place names like 龙泉."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


class AddressBigrams(Func):
    """gridgov_bigrams(address): the SQL function behind the household address index (PostgreSQL)."""

    function = "gridgov_bigrams"
    arity = 1

    @property
    def output_field(self) -> Any:  # type: ignore[override]
        from django.contrib.postgres.fields import ArrayField

        return ArrayField(TextField())


def name_q(name: str, prefix: str = "") -> Q:
    """Exact-or-prefix name match that an index can serve on both databases.
    PostgreSQL: LIKE '王伟%' uses the varchar_pattern_ops index. SQLite's LIKE is case-insensitive
    and skips indexes, so there the prefix is a range over the plain btree index."""
    if connection.vendor == "sqlite":
        return Q(**{f"{prefix}name__gte": name, f"{prefix}name__lt": name + "\U0010ffff"})
    return Q(**{f"{prefix}name__startswith": name})


def _resident_filter(q: HouseholdQuery, scope: Scope, today: dt.date) -> Q | None:
    """Conditions on members; None when the query says nothing about members."""
    cond = Q()
    used = False
    if q.name:
        cond &= name_q(q.name)
        used = True
    if q.id_number:
        try:
            info = idnumber.parse(q.id_number, today=today)
        except ValidationFailed as exc:
            raise ValidationFailed(f"身份证号无法查询：{exc.message}", field="id_number",
                                   reason=CommonError.MALFORMED) from exc
        cond &= Q(id_index=protected.id_index(info.number))
        used = True
    if q.age_min is not None:
        cond &= Q(birth_date__lte=_years_before(today, q.age_min))
        used = True
    if q.age_max is not None:
        cond &= Q(birth_date__gt=_years_before(today, q.age_max + 1))
        used = True
    if not used:
        return None
    return cond & Q(status=ResidentStatus.ACTIVE)


def _years_before(today: dt.date, years: int) -> dt.date:
    # An age filter beyond any life (age_max=59142 from the API fuzzer) would leave the calendar.
    years = max(0, min(years, 150))
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _interpret_text(q: HouseholdQuery) -> None:
    """One search box: an ID number, a phone, a house number or a name/address fragment."""
    text = q.text.replace(" ", "")
    if not text:
        return
    if _ID_LIKE.match(text):
        q.id_number = text
    elif _PHONE_LIKE.match(q.text) and sum(c.isdecimal() for c in text) >= 7:
        q.phone = text
    elif re.fullmatch(r"[0-9A-Za-z\-]{1,10}号?", text):
        q.house_number = text
    else:
        q.name = q.name or text


@dataclass
class Page:
    rows: list[Any]  # Households, each with `.heads` prefetched; or search rows (dicts), see household_search
    next_after: int | None
    query: HouseholdQuery


def ledger_q(scope: Scope, path_field: str = "unit__path") -> Q:
    """The ledger is read only where the actor holds household.view: seeing a unit (a mediator, the
    system or audit admin) is not enough. Empty when it adds nothing to the scope's own narrowing."""
    if scope.paths_for(P.HOUSEHOLD_VIEW) == scope.unit_paths:
        return Q()
    return scope.path_q(path_field, P.HOUSEHOLD_VIEW)


# The fields of a search row (`household_search(..., rows=True)`): what the API's HouseholdOut shows,
# read as plain values, the head's name included, in one statement.
SEARCH_ROW_FIELDS = ("id", "unit_id", "status", "address", "house_number", "phone_masked", "lat", "lng",
                     "version")


def household_search(*, scope: Scope, query: HouseholdQuery, today: dt.date, rows: bool = False) -> Page:
    """Households matching `query` in the scope, in id order, `query.limit` a page.

    rows=False: Household instances with the unit and `.heads` (the active head, prefetched).
    rows=True: search rows, plain dicts of SEARCH_ROW_FIELDS plus `unit_name` and `head_name` (the active
    head's name or None), for the API: one statement, no model instances (issue #8)."""
    q = query
    name_as_address = bool(q.text) and not q.name and not q.address
    _interpret_text(q)
    qs: QuerySet[Household] = Household.objects.within(scope).filter(ledger_q(scope))
    if q.status != "all":
        qs = qs.filter(status=q.status)
    if q.unit_id is not None:
        unit = Unit.objects.within(scope).filter(pk=q.unit_id).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    member_cond = _resident_filter(q, scope, today)
    phone_cond = None
    if q.phone:
        try:
            phone = phones.normalize(q.phone)
        except ValidationFailed as exc:
            raise ValidationFailed(f"电话无法查询：{exc.message}", field="phone", reason=CommonError.MALFORMED) from exc
        index = protected.phone_index(phone)
        # The household's own phone or a member's: one UNION of two index lookups. (An OR of the two
        # would make PostgreSQL test every household in scope against the members' subquery.)
        members = Resident.dangerously_unscoped.filter(phone_index=index, status=ResidentStatus.ACTIVE)
        phone_cond = Q(pk__in=Household.dangerously_unscoped.filter(phone_index=index).order_by().values("pk").union(
            members.order_by().values("household_id")))
    if member_cond is not None:
        qs = qs.filter(pk__in=Resident.dangerously_unscoped.filter(member_cond).values("household_id"))
    if phone_cond is not None:
        qs = qs.filter(phone_cond)
    if q.address:
        grams = bigrams(q.address)
        if grams and connection.vendor == "postgresql":
            # The GIN index on gridgov_bigrams(address) (migration 0003) finds the candidates. For a
            # two-character fragment that is the whole condition; a longer one is checked with LIKE
            # too (its bigrams could be in another order). Not adding LIKE when it is redundant keeps
            # the planner's row estimate right, so it joins the units by hash.
            qs = qs.alias(_address_grams=AddressBigrams("address")).filter(_address_grams__contains=grams)
            if len(q.address) > 2:
                qs = qs.filter(address__contains=q.address)
        else:
            qs = qs.filter(address__contains=q.address)
    if q.house_number:
        qs = qs.filter(house_number__in={q.house_number, q.house_number.removesuffix("号")})
    if q.tag:
        tag = next((t for t in visible_tags(scope) if t.code == q.tag), None)
        if tag is None:
            qs = qs.none()
        else:
            open_tags = TagAssignment.dangerously_unscoped.filter(tag=tag, end_date__isnull=True)
            qs = qs.filter(Q(pk__in=open_tags.values("household_id"))
                           | Q(pk__in=open_tags.filter(resident__status=ResidentStatus.ACTIVE)
                               .values("resident__household_id")))
            if tag.is_sensitive:
                qs = qs.filter(scope.path_q("unit__path", P.SENSITIVE_TAGS))
    if q.after is not None:
        qs = qs.filter(pk__gt=q.after)
    heads = Resident.dangerously_unscoped.filter(relation=Relation.HEAD, status=ResidentStatus.ACTIVE)
    # With a selective condition, find the matches through its index first and sort them after:
    # `ORDER BY id + 0` keeps PostgreSQL from walking the whole ledger in id order in the hope of
    # meeting 51 matches early (households of one township are one id range, so it would scan
    # every household filed before them). Plain browsing keeps the id order the keyset follows.
    # Browsing, or a single character (王, a surname), matches a large share of the scope: the walk in
    # id order usually meets 51 matches soon. (Not for a township far down the id order: see
    # docs/ledger.md, "Known gap".)
    selective = bool(len(q.name) >= 2 or q.id_number or q.phone or q.house_number or q.tag or len(q.address) >= 2)
    order = ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()) if selective else F("pk")
    found: list[Any]
    if rows:
        # At most one active head a household (constraint resident_one_head_per_household): the
        # subquery gives the name the prefetch gives. PostgreSQL evaluates it after the LIMIT.
        head_name = Subquery(heads.filter(household_id=OuterRef("pk")).order_by("id").values("name")[:1])
        found = list(qs.annotate(unit_name=F("unit__name"), head_name=head_name)
                     .order_by(order).values(*SEARCH_ROW_FIELDS, "unit_name", "head_name")[: q.limit + 1])
        next_after = found[q.limit - 1]["id"] if len(found) > q.limit else None
    else:
        found = list(
            qs.select_related("unit").defer(*UNIT_HEAVY)
            .prefetch_related(Prefetch("members", queryset=heads, to_attr="heads"))
            .order_by(order)[: q.limit + 1]
        )
        next_after = found[q.limit - 1].pk if len(found) > q.limit else None
    if not found and name_as_address and q.name and q.after is None:
        # The one search box: no resident has that name, so try it as a fragment of the address.
        # (Tried second so a name search keeps to the name index instead of scanning addresses.)
        fallback = dataclasses.replace(q, text="", name="", address=q.name)
        return household_search(scope=scope, query=fallback, today=today, rows=rows)
    return Page(rows=found[: q.limit], next_after=next_after, query=q)


# --- one household ----------------------------------------------------------------------------------
@dataclass
class ResidentView:
    """A resident as this viewer may see them."""

    resident: Resident
    name: str
    age: int
    is_minor: bool
    show_sensitive: bool
    tags: list[TagAssignment] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.resident.pk

    @property
    def id_masked(self) -> str:
        return self.resident.id_masked

    @property
    def phone_masked(self) -> str:
        return self.resident.phone_masked

    @property
    def birth_display(self) -> str:
        r = self.resident
        return f"{r.birth_date:%Y-%m-%d}" if self.show_sensitive or not self.is_minor else f"{r.birth_date:%Y}年"

    @property
    def health_display(self) -> str:
        r = self.resident
        if not self.show_sensitive:
            return "—"
        return r.get_health_display() + (f"（{r.disability}）" if r.disability else "")


def resident_view(resident: Resident, *, scope: Scope, path: str, today: dt.date,
                  tags: list[TagAssignment] | None = None) -> ResidentView:
    sensitive_ok = can_see_sensitive(scope, path)
    minor = idnumber.is_sensitive_minor(resident.birth_date, today)
    return ResidentView(
        resident=resident,
        name=resident.name if (sensitive_ok or not minor) else protected.mask_name(resident.name),
        age=idnumber.age_on(resident.birth_date, today),
        is_minor=minor,
        show_sensitive=sensitive_ok,
        tags=[t for t in (tags or []) if sensitive_ok or not t.tag.is_sensitive],
    )


@dataclass
class HouseholdDetail:
    household: Household
    members: list[ResidentView]
    former_members: list[ResidentView]
    tags: list[TagAssignment]
    past_tags: list[TagAssignment]
    history: list[HouseholdEvent]
    grid_worker: HouseholdAssignment | None
    party_links: list[HouseholdAssignment]
    show_sensitive: bool
    can_edit: bool
    can_unmask: bool

    @property
    def head(self) -> ResidentView | None:
        return next((m for m in self.members if m.resident.relation == Relation.HEAD), None)


def household_get(*, scope: Scope, household_id: int) -> Household:
    return get_in_scope(  # type: ignore[no-any-return]
        Household.objects.select_related("unit").defer(*UNIT_HEAVY).filter(ledger_q(scope)), scope, pk=household_id)


def resident_get(*, scope: Scope, resident_id: int) -> Resident:
    return get_in_scope(  # type: ignore[no-any-return]
        Resident.objects.select_related("household__unit").filter(ledger_q(scope, "household__unit__path")), scope,
        pk=resident_id)


def household_detail(*, scope: Scope, household_id: int, today: dt.date, full: bool = True) -> HouseholdDetail:
    """The household with members and tags; `full` adds its history and who looks after it (the page shows
    them, the API does not; the page's cases, with those of households merged into it, come from
    `cases.selectors.cases_for_household`). A fixed number of queries whatever its size."""
    household = household_get(scope=scope, household_id=household_id)
    path = household.unit.path
    sensitive_ok = can_see_sensitive(scope, path)
    residents = list(Resident.dangerously_unscoped.filter(household=household).order_by("status", "id"))
    tag_rows = list(
        TagAssignment.dangerously_unscoped.filter(Q(household=household) | Q(resident__in=residents))
        .select_related("tag", "set_by").order_by("tag__sort_order", "id")
    )
    if not sensitive_ok:
        tag_rows = [t for t in tag_rows if not t.tag.is_sensitive]
    by_resident: dict[int, list[TagAssignment]] = {}
    for t in tag_rows:
        if t.resident_id and t.end_date is None:
            by_resident.setdefault(t.resident_id, []).append(t)
    views = [resident_view(r, scope=scope, path=path, today=today, tags=by_resident.get(r.pk)) for r in residents]
    relation_order = {code: i for i, code in enumerate(Relation.values)}
    active = sorted((v for v in views if v.resident.status == ResidentStatus.ACTIVE),
                    key=lambda v: (relation_order.get(v.resident.relation, 99), v.resident.birth_date))
    history_qs = HouseholdEvent.dangerously_unscoped.filter(household=household).select_related("actor")
    if not sensitive_ok:
        history_qs = history_qs.filter(sensitive=False)
    links = list(HouseholdAssignment.dangerously_unscoped.filter(household=household, ended_at__isnull=True)
                 .select_related("user", "party_member")) if full else []
    return HouseholdDetail(
        household=household,
        members=active,
        former_members=[v for v in views if v.resident.status != ResidentStatus.ACTIVE],
        tags=[t for t in tag_rows if t.household_id and t.end_date is None],
        past_tags=[t for t in tag_rows if t.end_date is not None],
        history=list(history_qs[:100]) if full else [],
        grid_worker=next((a for a in links if a.kind == AssignmentKind.GRID_WORKER), None),
        party_links=[a for a in links if a.kind == AssignmentKind.PARTY_MEMBER],
        show_sensitive=sensitive_ok,
        can_edit=scope.can(P.HOUSEHOLD_EDIT, path),
        can_unmask=scope.can(P.RESIDENT_UNMASK, path),
    )


def deepest_units(*, scope: Scope, perm: str = P.HOUSEHOLD_EDIT, limit: int = 500) -> list[Unit]:
    """The grids a household can be filed in: active units without active children, where the actor may `perm`."""
    return list(
        Unit.objects.within(scope).filter(scope.path_q("path", perm), is_active=True)
        .exclude(children__is_active=True).select_related("parent").defer("boundary", "parent__boundary")
        .order_by("path")[:limit]
    )


def grid_choices(*, scope: Scope, perm: str = P.HOUSEHOLD_VIEW, limit: int = 500) -> list[dict[str, Any]]:
    """Id and name of the grids for a filter list (what `deepest_units` finds, without loading units)."""
    rows = (Unit.objects.within(scope).filter(scope.path_q("path", perm), is_active=True)
            .exclude(children__is_active=True).order_by("path").values("pk", "name")[:limit])
    return [dict(row) for row in rows]


def import_roots(*, scope: Scope) -> list[Unit]:
    """The units the actor may import a ledger into (where they hold household.import)."""
    ids = [int(p.strip("/").split("/")[-1]) for p in scope.paths_for(P.HOUSEHOLD_IMPORT)]
    return list(Unit.objects.within(scope).filter(pk__in=ids).order_by("path"))


def grid_workers_for(*, scope: Scope, household: Household) -> list[Any]:
    """Staff holding a grid-worker role over the household's grid (candidates for its assignment)."""
    return grid_workers_at(scope=scope, unit=household.unit)


def grid_workers_at(*, scope: Scope, unit: Unit) -> list[Any]:
    """Staff holding a grid-worker role at this unit or above it (they cover its households)."""
    from gridgov.access.models import Grant

    parts = unit.path.strip("/").split("/")
    paths = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    grants = (Grant.objects.within(scope).filter(role__field_worker=True, revoked_at__isnull=True, unit__path__in=paths)
              .select_related("user").order_by("user_id"))
    return list({g.user_id: g.user for g in grants}.values())


def grid_worker_user_id(household: Household) -> int | None:
    """The user of the household's current grid-worker assignment, if any (the household was fetched
    through the actor's scope)."""
    return (HouseholdAssignment.dangerously_unscoped.filter(household=household, ended_at__isnull=True,
                                                kind=AssignmentKind.GRID_WORKER)
            .values_list("user_id", flat=True).first())


def party_members_near(*, scope: Scope, household: Household, limit: int = 200) -> list[Resident]:
    """Party members who may look after this household (党员联系户): those of its village, or of its
    own unit when that has no parent in sight."""
    return party_members_for(scope=scope, unit=household.unit, limit=limit)


@dataclass(frozen=True)
class PartyMemberChoice:
    pk: int
    name: str


def party_member_choices(*, scope: Scope, household: Household, limit: int = 200) -> list[PartyMemberChoice]:
    """`party_members_near` for a choice list: the id and the name only. The household page lists up to
    200 of them; building 200 residents with their households and units was a quarter of its CPU."""
    unit = household.unit
    parent = Unit.objects.within(scope).filter(pk=unit.parent_id).first() if unit.parent_id else None
    pool = (parent or unit).path
    rows = (Resident.objects.within(scope).filter(household__unit__path__startswith=pool,
                                                   status=ResidentStatus.ACTIVE,
                                                   political_status__in=["party_member", "probationary"])
            .order_by("name", "id").values_list("pk", "name")[:limit])
    return [PartyMemberChoice(pk=pk, name=name) for pk, name in rows]


def party_members_for(*, scope: Scope, unit: Unit, limit: int = 200) -> list[Resident]:
    parent = Unit.objects.within(scope).filter(pk=unit.parent_id).first() if unit.parent_id else None
    pool = (parent or unit).path
    return list(
        Resident.objects.within(scope).filter(household__unit__path__startswith=pool, status=ResidentStatus.ACTIVE,
                                              political_status__in=["party_member", "probationary"])
        .select_related("household__unit").order_by("name", "id")[:limit]
    )


# --- 党员联系户 board ------------------------------------------------------------------------------
# What the printed board posted in the village may show (decided for issue #5, see docs/glossary.md):
# the party member's full name (党员亮身份 is the point of the board), and for each linked household
# its door (address and house number) with the head's name reduced to the surname (王某). Never an ID
# number, a resident's phone, a tag (低保, 留守…), health, or any other member of the household.
PARTY_BOARD_LIMIT = 400


@dataclass(frozen=True)
class PartyBoardHousehold:
    door: str
    head: str  # masked: surname + 某


@dataclass(frozen=True)
class PartyBoardRow:
    member: str
    households: list[PartyBoardHousehold]


@dataclass(frozen=True)
class PartyBoard:
    rows: list[PartyBoardRow]
    household_count: int  # distinct households (one may be linked by two party members)


def masked_name(name: str) -> str:
    """A resident's name as a public board shows it: the surname and 某 (王某, 欧阳某)."""
    name = (name or "").strip()
    if not name:
        return ""
    surname = name[:2] if len(name) >= 4 else name[:1]  # four-character names carry a compound surname
    return surname + "某"


def _door(household: Household, prefixes: tuple[str, ...] = ()) -> str:
    """Address and house number, without the names the board's title already carries (the grid's,
    the village's): 吴城村第一网格3组51号 prints as 3组51号."""
    number = (household.house_number or "").strip()
    if number and number.isdecimal():
        number += "号"
    address = household.address
    for prefix in prefixes:
        if prefix and address.startswith(prefix) and len(address) > len(prefix):
            address = address[len(prefix):]
            break
    return f"{address}{number}"


def _name_prefixes(unit: Unit) -> tuple[str, ...]:
    names = list(Unit.dangerously_unscoped.filter(pk__in=unit.path_ids()).values_list("name", flat=True))
    return tuple(sorted({unit.name, *names}, key=len, reverse=True))


def party_member_board(*, scope: Scope, unit: Unit) -> PartyBoard:
    """The current 党员联系户 links of the unit's households (its subtree), one row per party member in
    name order, households by door. Three queries whatever the size. Raises ValidationFailed past
    PARTY_BOARD_LIMIT links (print grid by grid)."""
    links = list(
        HouseholdAssignment.objects.within(scope)
        .filter(kind=AssignmentKind.PARTY_MEMBER, ended_at__isnull=True, household__unit__path__startswith=unit.path,
                household__status=HouseholdStatus.ACTIVE)
        .filter(Q(party_member__isnull=True, user__is_active=True)
                | Q(party_member__status=ResidentStatus.ACTIVE))
        .select_related("household", "party_member", "user")
        .order_by("household_id", "id")[: PARTY_BOARD_LIMIT + 1]
    )
    if len(links) > PARTY_BOARD_LIMIT:
        raise ValidationFailed("联系户太多，一张公示牌放不下，请按网格分别打印。", field="unit",
                               reason=ResidentError.BOARD_TOO_LARGE)
    heads = dict(
        Resident.objects.within(scope)
        .filter(household_id__in={link.household_id for link in links}, relation=Relation.HEAD,
                status=ResidentStatus.ACTIVE)
        .values_list("household_id", "name")
    )
    by_member: dict[tuple[str, int], list[Household]] = {}
    for link in links:
        if link.party_member is not None:
            key = (link.party_member.name, link.party_member.pk)
        else:
            key = (link.user.display_name, -link.user.pk)  # type: ignore[union-attr]
        by_member.setdefault(key, []).append(link.household)
    prefixes = _name_prefixes(unit)

    def door_order(h: Household) -> tuple[str, tuple[int, str], int]:
        return (h.address, _door_sort(h.house_number), h.pk)

    for households in by_member.values():
        households.sort(key=door_order)
    rows = []
    # Party members in the order of the first door they look after: the order one walks the grid.
    for (member, _), households in sorted(by_member.items(), key=lambda kv: (door_order(kv[1][0]), kv[0])):
        rows.append(PartyBoardRow(member=member, households=[
            PartyBoardHousehold(door=_door(h, prefixes), head=masked_name(heads.get(h.pk, ""))) for h in households]))
    return PartyBoard(rows=rows, household_count=len({link.household_id for link in links}))


def _door_sort(number: str) -> tuple[int, str]:
    digits = re.match(r"\d+", number or "")
    return (int(digits.group()) if digits else 1 << 30, number or "")


def household_doors(*, scope: Scope, unit: Unit, limit: int) -> list[str]:
    """The doors (address and house number) of the unit's active households, in door order, for
    printing one contact or supervision card per household. At most `limit` + 1 (the caller refuses
    more)."""
    households = list(
        Household.objects.within(scope).filter(unit__path__startswith=unit.path, status=HouseholdStatus.ACTIVE)
        .only("id", "address", "house_number").order_by("id")[: limit + 1]
    )
    households.sort(key=lambda h: (h.address, _door_sort(h.house_number), h.pk))
    prefixes = _name_prefixes(unit)
    return [_door(h, prefixes) for h in households]


# --- who looks after which households (联系户分配) ------------------------------------------------------------
@dataclass
class ContactsBoard:
    unit: Unit
    grids: list[Unit]  # when the unit has grids below it: pick one
    households: list[Any]  # Households, each with .heads, .links (open), .worker_link and .party_links
    truncated: bool
    workers: list[tuple[Any, int]]  # (user, households they look after now)
    party_members: list[tuple[Resident, int]]  # (party member, households linked now)


def contacts_board(*, scope: Scope, unit_id: int, limit: int = 300) -> ContactsBoard:
    """One grid's households with their grid worker and linked party members, and the candidates
    with their current load (~50 households per grid worker, ~10 per party member)."""
    from django.db.models import Count

    unit = get_in_scope(Unit.objects.select_related("parent"), scope, pk=unit_id)
    scope.require(P.HOUSEHOLD_EDIT, unit.path)
    if Unit.objects.within(scope).filter(parent=unit, is_active=True).exists():
        grids = [u for u in deepest_units(scope=scope, limit=2000) if u.path.startswith(unit.path)]
        return ContactsBoard(unit=unit, grids=grids, households=[], truncated=False, workers=[], party_members=[])
    links = HouseholdAssignment.dangerously_unscoped.filter(ended_at__isnull=True).select_related("user",
                                                                                                  "party_member")
    heads = Resident.dangerously_unscoped.filter(relation=Relation.HEAD, status=ResidentStatus.ACTIVE)
    rows = list(
        Household.objects.within(scope).filter(unit=unit, status=HouseholdStatus.ACTIVE)
        .prefetch_related(Prefetch("members", queryset=heads, to_attr="heads"),
                          Prefetch("assignments", queryset=links, to_attr="links"))
        .order_by("pk")[: limit + 1]
    )
    for h in rows:
        h.worker_link = next((a for a in h.links if a.kind == AssignmentKind.GRID_WORKER), None)  # type: ignore[attr-defined]
        h.party_links = [a for a in h.links if a.kind == AssignmentKind.PARTY_MEMBER]  # type: ignore[attr-defined]
    workers = grid_workers_at(scope=scope, unit=unit)
    worker_load = dict(
        HouseholdAssignment.dangerously_unscoped.filter(kind=AssignmentKind.GRID_WORKER, ended_at__isnull=True,
                                            user__in=[u.pk for u in workers])
        .values_list("user").annotate(n=Count("id")).values_list("user", "n"))
    members = party_members_for(scope=scope, unit=unit)
    member_load = dict(
        HouseholdAssignment.dangerously_unscoped.filter(kind=AssignmentKind.PARTY_MEMBER, ended_at__isnull=True,
                                            party_member__in=[m.pk for m in members])
        .values_list("party_member").annotate(n=Count("id")).values_list("party_member", "n"))
    return ContactsBoard(
        unit=unit, grids=[], households=rows[:limit], truncated=len(rows) > limit,
        workers=[(u, worker_load.get(u.pk, 0)) for u in workers],
        party_members=[(m, member_load.get(m.pk, 0)) for m in members],
    )


def assignment_get(*, scope: Scope, assignment_id: int) -> HouseholdAssignment:
    return get_in_scope(  # type: ignore[no-any-return]
        HouseholdAssignment.objects.select_related("household__unit", "party_member", "user")
        .filter(ledger_q(scope, "household__unit__path")), scope, pk=assignment_id)
