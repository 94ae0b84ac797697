"""The world generator's people: staff with Chinese names and work phones, their grants,
departments (职能部门/站所) with handlers, and one memorable demo account per role.

`plan_staff` is pure (same seed, same staff); `persist_staff` writes it with bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password

from gridgov.units.world import NodePlan, Post, WorldPlan

from .models import Department, Grant, Role, User
from .roles import ROLE_DEFS

# Printed by `make demo` and listed in the README: these accounts exist only in demo worlds. It meets the
# strictest password rule (12 characters from 3 classes: admin and office roles), so every demo account's
# password is one the policy would accept.
DEMO_PASSWORD = "Wangge-2026!"  # noqa: S105
# The admin duties' demo accounts behave like a deployment's first admins: their published password
# must be replaced at first sign-in.
DEMO_FIRST_CHANGE_ROLES = frozenset({"system_admin", "security_admin", "audit_admin"})

# One memorable account per role, in the order the README lists them.
DEMO_USERNAMES: dict[str, str] = {
    "county_office": "county",
    "township_office": "township",
    "chief_grid_head": "chief",
    "area_head": "areahead",
    "village_secretary": "secretary",
    "grid_head": "gridhead",
    "grid_worker_full": "worker",
    "grid_worker_part": "parttime",
    "info_officer": "info",
    "resident_cadre": "cadre",
    "mediator": "mediator",
    "department_handler": "police",
    "system_admin": "sysadmin",
    "security_admin": "secadmin",
    "audit_admin": "auditor",
}

# (suffix, kind, handlers) of the stations every township or subdistrict has.
TOWNSHIP_DEPARTMENTS = (
    ("派出所", "police", 2),
    ("国土所", "land", 1),
    ("民政办", "civil_affairs", 1),
    ("司法所", "justice", 1),
    ("综合执法队", "enforcement", 1),
    ("卫生院", "health", 1),
    ("应急管理办", "emergency", 1),
    ("市场监管所", "market", 1),
)
COUNTY_DEPARTMENTS = (
    ("公安局", "police"),
    ("自然资源局", "land"),
    ("民政局", "civil_affairs"),
    ("司法局", "justice"),
    ("住房和城乡建设局", "housing"),
    ("信访局", "petition"),
)
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187",
                   "188", "189", "198", "199")
TOWNSHIP_KINDS = ("township", "subdistrict")
VILLAGE_KINDS = ("village", "community")
FIELD_ROLES = ("grid_worker_full", "grid_worker_part")


@dataclass
class DepartmentPlan:
    unit_key: int
    name: str
    kind: str
    phone: str


@dataclass
class GrantPlan:
    holder: str
    role: str
    unit_key: int
    title: str = ""
    department: str | None = None  # name of a department at the same unit


@dataclass
class PersonPlan:
    holder: str
    username: str
    full_name: str
    work_phone: str
    demo_role: str | None = None


@dataclass
class StaffPlan:
    people: list[PersonPlan] = field(default_factory=list)
    grants: list[GrantPlan] = field(default_factory=list)
    departments: list[DepartmentPlan] = field(default_factory=list)

    def count(self, role: str) -> int:
        return sum(1 for g in self.grants if g.role == role)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(8))


def _landline(rng: random.Random, area_code: str) -> str:
    digits = 8 if area_code == "010" else 7
    return f"{area_code}-{rng.randint(2, 8)}" + "".join(str(rng.randrange(10)) for _ in range(digits - 1))


def plan_staff(plan: WorldPlan, rng: random.Random, fake: Any) -> StaffPlan:
    """People for every post of the plan, plus township and county offices, departments with their
    handlers and the system's admins; then one demo account per role."""
    staff = StaffPlan()
    nodes = plan.nodes
    seq = 0

    def grant(node: NodePlan, post: Post, department: str | None = None) -> GrantPlan:
        nonlocal seq
        seq += 1
        g = GrantPlan(holder=post.holder or f"h{seq}", role=post.role, unit_key=node.key, title=post.title,
                      department=department)
        staff.grants.append(g)
        return g

    for node in nodes:
        for post in node.posts:
            grant(node, post)
    has_chief = any(g.role == "chief_grid_head" for g in staff.grants)
    for node in nodes:
        if node.kind == "county":
            for suffix, kind in COUNTY_DEPARTMENTS:
                name = f"{node.name}{suffix}"
                staff.departments.append(DepartmentPlan(node.key, name, kind, _landline(rng, plan.phone_area_code)))
                grant(node, Post("department_handler", "业务科室负责人"), department=name)
            grant(node, Post("county_office", "县网格办主任"))
            grant(node, Post("county_office", "县网格办干事"))
        elif node.kind in TOWNSHIP_KINDS:
            for suffix, kind, handlers in TOWNSHIP_DEPARTMENTS:
                name = f"{node.name}{suffix}"
                staff.departments.append(DepartmentPlan(node.key, name, kind, _landline(rng, plan.phone_area_code)))
                for _ in range(handlers):
                    grant(node, Post("department_handler", "办理人"), department=name)
            grant(node, Post("township_office", "网格办主任"))
            grant(node, Post("township_office", "网格办干事"))
            grant(node, Post("mediator", "人民调解员"))
            if not has_chief:
                grant(node, Post("chief_grid_head", "党委书记（总网格长）"))
    for root in plan.roots():
        grant(root, Post("system_admin", "系统管理员"))
        grant(root, Post("security_admin", "安全管理员"))
        grant(root, Post("audit_admin", "审计管理员"))
    _cover_every_role(plan, staff, grant)
    if plan.staff_target is not None:
        _merge_workers(plan, staff, plan.staff_target, rng)
    _people(plan, staff, rng, fake)
    return staff


def _first(nodes: Iterable[NodePlan], kinds: tuple[str, ...]) -> NodePlan | None:
    return next((n for n in nodes if n.kind in kinds), None)


def _cover_every_role(plan: WorldPlan, staff: StaffPlan, grant: Any) -> None:
    """A demo needs someone in every role: add posts the reference system does not name at the
    unit where such a person would work (an area head where there is no 片区 heads a village)."""
    held = {g.role for g in staff.grants}
    township = _first(plan.nodes, TOWNSHIP_KINDS)
    village = _first(plan.nodes, VILLAGE_KINDS)
    area = _first(plan.nodes, ("area",))
    leaf = plan.leaves()[0]
    where = {
        "area_head": area or village,
        "info_officer": township,
        "resident_cadre": village,
        "grid_head": village or leaf,
        "grid_worker_full": leaf,
        "grid_worker_part": leaf,
        "village_secretary": village,
        "chief_grid_head": township,
        "mediator": township,
    }
    titles = {"area_head": "片长（包村）", "info_officer": "信息员", "resident_cadre": "驻村干部"}
    for role in ROLE_DEFS:
        node = where.get(role.code)
        if role.code not in held and node is not None:
            grant(node, Post(role.code, titles.get(role.code, "")))


def _merge_workers(plan: WorldPlan, staff: StaffPlan, target: int, rng: random.Random) -> None:
    """Fewer people than posts: some grid workers look after two grids of the same village."""
    by_key = {n.key: n for n in plan.nodes}
    people = len({g.holder for g in staff.grants})
    excess = people - target
    if excess <= 0:
        return
    by_village: dict[int | None, list[GrantPlan]] = {}
    for g in staff.grants:
        if g.role in FIELD_ROLES:
            by_village.setdefault(by_key[g.unit_key].parent, []).append(g)
    pairs: list[tuple[GrantPlan, GrantPlan]] = []
    for grants in by_village.values():
        pairs += [(grants[i], grants[i + 1]) for i in range(0, len(grants) - 1, 2)]
    rng.shuffle(pairs)
    if len(pairs) < excess:
        raise ValueError(f"cannot reach {target} staff: only {len(pairs)} grid-worker pairs to merge")
    for first, second in pairs[:excess]:
        second.holder, second.role = first.holder, first.role


def _people(plan: WorldPlan, staff: StaffPlan, rng: random.Random, fake: Any) -> None:
    by_key = {n.key: n for n in plan.nodes}
    demo_township = _first(plan.nodes, TOWNSHIP_KINDS)

    def in_demo_area(g: GrantPlan) -> bool:
        # Demo accounts come from the first township's subtree (or the county above it).
        node: NodePlan | None = by_key[g.unit_key]
        path = []
        while node is not None:
            path.append(node.key)
            node = by_key[node.parent] if node.parent is not None else None
        return demo_township is None or demo_township.key in path or by_key[g.unit_key].parent is None

    holders_roles: dict[str, set[str]] = {}
    for g in staff.grants:
        holders_roles.setdefault(g.holder, set()).add(g.role)
    demo_for: dict[str, str] = {}
    for role, _username in DEMO_USERNAMES.items():
        candidates = [g for g in staff.grants if g.role == role and in_demo_area(g) and g.holder not in demo_for]
        if role == "department_handler":
            candidates.sort(key=lambda g: not (g.department or "").endswith("派出所"))
        # A demo account should show one role's point of view: prefer people holding only it.
        candidates.sort(key=lambda g: len(holders_roles[g.holder]) > 1 and role != "chief_grid_head")
        if candidates:
            demo_for[candidates[0].holder] = role
    seen: set[str] = set()
    n = 0
    for g in staff.grants:
        if g.holder in seen:
            continue
        seen.add(g.holder)
        n += 1
        demo_role = demo_for.get(g.holder)
        username = DEMO_USERNAMES[demo_role] if demo_role else f"gg{n:05d}"
        staff.people.append(PersonPlan(holder=g.holder, username=username, full_name=fake.name(),
                                       work_phone=_mobile(rng), demo_role=demo_role))


def persist_staff(staff: StaffPlan, units: dict[int, Any], *, now: dt.datetime) -> dict[str, User]:
    """Write departments, users and grants in bulk. Demo accounts get DEMO_PASSWORD (hashed once);
    everyone else gets an unusable password until an office resets it."""
    departments = [Department(unit=units[d.unit_key], name=d.name, kind=d.kind, phone=d.phone)
                   for d in staff.departments]
    Department.dangerously_unscoped.bulk_create(departments, batch_size=500)
    dept_by_name = {(d.unit_id, d.name): d for d in departments}
    demo_hash = make_password(DEMO_PASSWORD)
    # Unusable either way; one marker instead of thousands of random ones keeps size M fast.
    unusable = make_password(None)
    users = [
        User(username=p.username, full_name=p.full_name, work_phone=p.work_phone,
             password=demo_hash if p.demo_role else unusable, date_joined=now,
             must_change_password=p.demo_role in DEMO_FIRST_CHANGE_ROLES)
        for p in staff.people
    ]
    User.objects.bulk_create(users, batch_size=500)
    by_holder = {p.holder: u for p, u in zip(staff.people, users, strict=True)}
    roles = {r.code: r for r in Role.objects.all()}
    Grant.dangerously_unscoped.bulk_create(
        [
            Grant(user=by_holder[g.holder], role=roles[g.role], unit=units[g.unit_key], title=g.title,
                  department=dept_by_name[(units[g.unit_key].pk, g.department)] if g.department else None,
                  granted_at=now)
            for g in staff.grants
        ],
        batch_size=500,
    )
    return by_holder


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str
    unit: str
    full_name: str
    role_code: str


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts present in the database with each role they hold, in role order, and the
    demo password while it still works (an account whose password was changed shows that instead).
    One person may hold two roles (西鹿角村's party secretary is also its chief grid head)."""
    order = {code: i for i, code in enumerate(DEMO_USERNAMES)}
    users = {u.pk: u for u in User.objects.filter(username__in=DEMO_USERNAMES.values())}
    grants = sorted(
        Grant.dangerously_unscoped.filter(user_id__in=users, revoked_at__isnull=True).select_related("role", "unit",
                                                                                                     "department"),
        key=lambda g: (order.get(g.role.code, len(order)), g.pk),
    )
    works = {pk: u.check_password(DEMO_PASSWORD) for pk, u in users.items()}
    out: list[DemoAccount] = []
    for g in grants:
        user = users[g.user_id]
        unit = g.department.name if g.department else g.unit.name
        out.append(DemoAccount(user.username, DEMO_PASSWORD if works[user.pk] else "（已修改）", g.role.name, unit,
                               user.full_name, g.role.code))
    return out
