"""The world generator's ledger step: realistic households and residents for every deepest unit.

`seed_world_step` is called by the seed_world command (gridgov.interfaces.jobs) after the units
exist. For each deepest unit under `root` with `household_estimate` set it fills the ledger up to
exactly that many households: family sizes and ages as in a north-China village, valid ID numbers
for the county's region code, about a quarter of working-age adults away working, left-behind
children (parents away) and elders, about 8% of households tagged. System code: dangerously_unscoped managers,
bulk inserts, no per-row audit (one audit row per run).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction
from django.db.models import Count
from faker import Faker
from shapely.geometry import Point

from gridgov.access.models import Grant
from gridgov.audit.services import audit_record
from gridgov.core.bulkload import Draft, draft_class, id_pool, relaxed_commit, write_drafts
from gridgov.core.clock import local
from gridgov.geo.geometry import parse_boundary
from gridgov.units.models import Unit

from . import idnumber, protected
from .models import (
    AssignmentKind,
    Education,
    Household,
    HouseholdAssignment,
    HouseholdEvent,
    PoliticalStatus,
    Relation,
    Residency,
    Resident,
    Tag,
    TagAssignment,
)

DEFAULT_REGION = "140225"  # 浑源县
AWAY_PLACES = ("大同市", "太原市", "北京市", "天津市", "呼和浩特市", "石家庄市", "鄂尔多斯市", "朔州市")
OCCUPATIONS = ("农民", "农民", "农民", "个体经营", "建筑工人", "司机", "教师", "村医", "务工", "")
# (household size, weight): rural north China after decades of migration, about 2.5 people per
# registered household (西鹿角村: ~2,600 residents in ~1,330 households).
SIZES = ((1, 25), (2, 35), (3, 18), (4, 12), (5, 6), (6, 4))
# Household tags and their share of households; resident tags are derived from the family.
HOUSEHOLD_TAG_SHARES = (("dibao", 0.012), ("monitored", 0.006), ("hardship", 0.006), ("tekun", 0.002),
                        ("wubao", 0.001), ("petitioner", 0.001), ("returnee_entrepreneur", 0.003))


@dataclass
class _Person:
    relation: str
    gender: str
    birth: dt.date
    away: bool = False
    tags: list[str] = field(default_factory=list)


@dataclass
class _Stats:
    households: int = 0
    residents: int = 0
    tagged: int = 0


def _region_of(unit: Unit, codes: dict[int, str | None]) -> str:
    for uid in reversed(unit.path_ids()):
        code = codes.get(uid)
        if code:
            return code[:6]
    return DEFAULT_REGION


def _birth(rng: random.Random, today: dt.date, age: int) -> dt.date:
    return today - dt.timedelta(days=age * 365 + rng.randrange(365))


def _family(rng: random.Random, today: dt.date) -> list[_Person]:
    size = rng.choices([s for s, _ in SIZES], weights=[w for _, w in SIZES])[0]
    head_age = rng.randint(28, 82) if size > 1 else rng.choice([rng.randint(25, 45), rng.randint(60, 90)])
    head_gender = "M" if rng.random() < 0.85 or size > 1 else rng.choice("MF")
    people = [_Person(Relation.HEAD, head_gender, _birth(rng, today, head_age))]
    if size >= 2:
        spouse_age = max(20, head_age + rng.randint(-5, 3))
        people.append(_Person(Relation.SPOUSE, "F" if head_gender == "M" else "M", _birth(rng, today, spouse_age)))
    remaining = size - len(people)
    # Younger heads live with children and perhaps their own parents; older heads with
    # grown children and grandchildren.
    if head_age < 50:
        for _ in range(remaining):
            if rng.random() < 0.2 and head_age + 24 < 95:
                parent_age = head_age + rng.randint(22, 30)
                people.append(_Person(Relation.PARENT, rng.choice("MF"), _birth(rng, today, parent_age)))
            else:
                child_age = max(0, head_age - rng.randint(22, 34))
                people.append(_Person(Relation.CHILD, rng.choice("MF"), _birth(rng, today, child_age)))
    else:
        for i in range(remaining):
            if i % 2 == 0:
                child_age = max(0, head_age - rng.randint(22, 32))
                people.append(_Person(Relation.CHILD, rng.choice("MF"), _birth(rng, today, child_age)))
            else:
                grand_age = max(0, head_age - rng.randint(45, 58))
                people.append(_Person(Relation.GRANDCHILD, rng.choice("MF"), _birth(rng, today, grand_age)))
    for p in people:
        age = idnumber.age_on(p.birth, today)
        p.away = 18 <= age <= 55 and rng.random() < 0.28
    _derive_tags(people, today, rng)
    return people


def _derive_tags(people: list[_Person], today: dt.date, rng: random.Random) -> None:
    ages = [idnumber.age_on(p.birth, today) for p in people]
    home_adults = [p for p, a in zip(people, ages, strict=True) if 18 <= a < 60 and not p.away]
    for p, age in zip(people, ages, strict=True):
        if age < 16 and not home_adults and any(q.away for q in people):
            p.tags.append("left_behind_child")
        elif age >= 60 and not home_adults and any(q.away for q in people) and rng.random() < 0.25:
            p.tags.append("left_behind_elder")
        elif age >= 70 and len(people) == 1 and rng.random() < 0.3:
            p.tags.append("elder_alone")
        if rng.random() < 0.004:
            p.tags.append("disabled")
        if age >= 60 and p.gender == "M" and rng.random() < 0.01:
            p.tags.append("veteran")


class _IdMaker:
    """Unique valid ID numbers: sequence numbers per birth date, skipping any already in the ledger."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.next_seq: dict[tuple[str, dt.date], int] = {}

    def make(self, region: str, birth: dt.date, gender: str, rng: random.Random) -> str:
        key = (region, birth)
        seq = self.next_seq.get(key, rng.randrange(1, 400))
        for _ in range(1000):
            seq = seq % 998 + 1
            if (seq % 2 == 1) != (gender == "M"):
                continue
            number = idnumber.make(region, birth, seq)
            self.next_seq[key] = seq
            index = protected.id_index(number)
            if index not in self.taken:
                self.taken.add(index)
                return number
        raise RuntimeError(f"no free ID sequence left for {region} {birth}")


def _point_in(unit: Unit, geom: Any, rng: random.Random) -> tuple[float | None, float | None]:
    if geom is None:
        return None, None
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(20):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geom.contains(Point(x, y)):
            return round(y, 6), round(x, 6)
    return unit.centroid_lat, unit.centroid_lng


# Rows are drafts streamed to COPY, not model instances (gridgov.core.bulkload).
# seed_world loads these tables, when they start empty on PostgreSQL, without their secondary
# indexes and foreign keys and rebuilds them after the step (bulkload.without_indexes).
BULK_MODELS = (Household, Resident, TagAssignment, HouseholdEvent, HouseholdAssignment)
HouseholdRow = draft_class(Household)
ResidentRow = draft_class(Resident)
TagAssignmentRow = draft_class(TagAssignment)
HouseholdEventRow = draft_class(HouseholdEvent)
HouseholdAssignmentRow = draft_class(HouseholdAssignment)


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    """Fill the ledger of every deepest unit under `root` up to its `household_estimate`."""
    today = local(now).date()
    units = list(
        Unit.dangerously_unscoped.filter(path__startswith=root.path, is_active=True, household_estimate__isnull=False)
        .exclude(children__is_active=True).order_by("path")
    )
    if not units:
        stdout.write("户情台账：没有设置户数的网格，跳过。\n")
        return
    codes = dict(Unit.dangerously_unscoped.filter(pk__in={i for u in units for i in u.path_ids()},
                                                  division_code__isnull=False)
                 .values_list("pk", "division_code"))
    tags = {t.code: t for t in Tag.objects.all()}
    taken: set[str] = set()
    if Resident.dangerously_unscoped.exists():
        taken = set(Resident.dangerously_unscoped.filter(status="active").values_list("id_index", flat=True))
    ids = _IdMaker(taken)
    existing = dict(
        Household.dangerously_unscoped.filter(unit__in=units).values("unit").annotate(n=Count("id")).values_list("unit",
                                                                                                                 "n")
    )
    workers: dict[int, list[int]] = {}
    for g in Grant.dangerously_unscoped.filter(unit__in=units, revoked_at__isnull=True,
                                               role__code__startswith="grid_worker"):
        workers.setdefault(g.unit_id, []).append(g.user_id)
    fake = Faker("zh_CN")
    stats = _Stats()
    with transaction.atomic(), id_pool():
        relaxed_commit()
        for unit in units:
            wanted = (unit.household_estimate or 0) - existing.get(unit.pk, 0)
            if wanted > 0:
                _fill_unit(unit, wanted, seed=seed, now=now, today=today, region=_region_of(unit, codes), ids=ids,
                           tags=tags, fake=fake, workers=workers.get(unit.pk, []), stats=stats)
        audit_record(action="household.seed", actor=None, now=now, unit_path=root.path, role="system",
                     detail={"households": stats.households, "residents": stats.residents, "seed": seed})
    stdout.write(f"户情台账：新建 {stats.households} 户、{stats.residents} 人，"
                 f"{stats.tagged} 户有重点人群标签（{root.name}）。\n")


def _fill_unit(unit: Unit, wanted: int, *, seed: int, now: dt.datetime, today: dt.date, region: str,
               ids: _IdMaker, tags: dict[str, Tag], fake: Faker, workers: list[int], stats: _Stats) -> None:
    rng = random.Random(f"{seed}:{unit.pk}")
    fake.seed_instance(rng.randrange(1 << 30))
    make_phone: Callable[[], str] = lambda: f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"  # noqa: E731
    families = [_family(rng, today) for _ in range(wanted)]
    family_phones = [[make_phone() if 18 <= idnumber.age_on(p.birth, today) <= 75 and rng.random() < 0.7 else ""
                      for p in family] for family in families]
    group_size = max(20, min(60, wanted // 6 or 20))
    households = []
    # Parsed once per unit and call: a cache across calls keyed by the unit's pk would hand a later
    # world (a test database flushed and refilled) the boundary of an earlier unit with the same pk.
    geom = parse_boundary(unit.boundary) if unit.boundary else None
    for i in range(wanted):
        lat, lng = _point_in(unit, geom, rng)
        # The household's phone is its head's (the first person of a family).
        hph = protected.seal_phone(family_phones[i][0])
        households.append(HouseholdRow(unit=unit, address=f"{unit.name}{i // group_size + 1}组",
                                    house_number=str(i + 1), lat=lat, lng=lng, phone_cipher=hph.cipher,
                                    phone_index=hph.index, phone_masked=hph.masked, created_at=now, updated_at=now))
    write_drafts(Household, households)
    residents: list[Draft] = []
    resident_tag_codes: list[tuple[Draft, str]] = []
    tag_rows: list[Draft] = []
    events: list[Draft] = []
    links: list[Draft] = []
    party_members: list[Draft] = []
    for n, (household, family) in enumerate(zip(households, families, strict=True)):
        surname = fake.last_name()
        tagged = False
        for p, phone in zip(family, family_phones[n], strict=True):
            age = idnumber.age_on(p.birth, today)
            same_surname = p.relation in (Relation.HEAD, Relation.CHILD, Relation.GRANDCHILD, Relation.PARENT)
            given = fake.first_name_male() if p.gender == "M" else fake.first_name_female()
            name = (surname if same_surname else fake.last_name()) + given
            number = ids.make(region, p.birth, p.gender, rng)
            sid = protected.seal_id(number)
            sph = protected.seal_phone(phone)
            political = PoliticalStatus.MASSES
            if age >= 18 and rng.random() < 0.07:
                political = PoliticalStatus.PARTY_MEMBER
            elif 14 <= age <= 28 and rng.random() < 0.25:
                political = PoliticalStatus.LEAGUE_MEMBER
            resident = ResidentRow(
                household=household, relation=p.relation, name=name, gender=p.gender, birth_date=p.birth,
                id_cipher=sid.cipher, id_index=sid.index, id_masked=sid.masked, phone_cipher=sph.cipher,
                phone_index=sph.index, phone_masked=sph.masked, political_status=political,
                residency=Residency.AWAY if p.away else Residency.REGISTERED,
                away_place=rng.choice(AWAY_PLACES) if p.away else "",
                away_since=today - dt.timedelta(days=rng.randrange(60, 3000)) if p.away else None,
                education=_education(rng, age), occupation="学生" if 6 <= age < 18 else (
                    "" if age < 6 or age >= 70 else rng.choice(OCCUPATIONS)),
                health="disabled" if "disabled" in p.tags else ("chronic" if age >= 60 and rng.random() < 0.3
                                                                else "healthy"),
                disability=rng.choice(["肢体三级", "视力二级", "听力四级", "智力三级"]) if "disabled" in p.tags else "",
                created_at=now, updated_at=now,
            )
            residents.append(resident)
            if political == PoliticalStatus.PARTY_MEMBER and not p.away and 25 <= age <= 75:
                party_members.append(resident)
            for code in p.tags:
                if code in tags:
                    resident_tag_codes.append((resident, code))
                    tagged = True
        roll = rng.random()
        acc = 0.0
        for code, share in HOUSEHOLD_TAG_SHARES:
            acc += share
            if roll < acc and code in tags:
                tag_rows.append(TagAssignmentRow(tag=tags[code], household=household, set_at=now,
                                              start_date=today - dt.timedelta(days=rng.randrange(30, 1500))))
                tagged = True
                break
        stats.tagged += tagged
        events.append(HouseholdEventRow(household=household, action=HouseholdEvent.Action.CREATED, at=now,
                                     changes={"source": "seed"}))
        if workers:
            links.append(HouseholdAssignmentRow(household=household, kind=AssignmentKind.GRID_WORKER,
                                             user_id=workers[n * len(workers) // wanted], started_at=now))
    write_drafts(Resident, residents)
    tag_rows.extend(TagAssignmentRow(tag=tags[code], resident=r, set_at=now,
                                  start_date=today - dt.timedelta(days=rng.randrange(30, 1500)))
                    for r, code in resident_tag_codes)
    write_drafts(TagAssignment, tag_rows)
    write_drafts(HouseholdEvent, events)
    # 党员联系户: each resident party member at home links about ten households of the grid.
    for i, household in enumerate(households):
        if party_members and i < len(party_members) * 10:
            links.append(HouseholdAssignmentRow(household=household, kind=AssignmentKind.PARTY_MEMBER,
                                             party_member=party_members[i // 10], started_at=now))
    write_drafts(HouseholdAssignment, links)
    stats.households += len(households)
    stats.residents += len(residents)


def _education(rng: random.Random, age: int) -> str:
    if age < 7:
        return Education.NONE
    if age < 13:
        return Education.PRIMARY
    if age < 16:
        return Education.JUNIOR
    return rng.choices([Education.PRIMARY, Education.JUNIOR, Education.SENIOR, Education.COLLEGE,
                        Education.BACHELOR], weights=[25, 40, 20, 8, 7] if age < 50 else [50, 35, 12, 2, 1])[0]
