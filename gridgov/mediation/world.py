"""World generator step: a realistic mediation ledger (调解台账) for each township of a world.

Over the last 120 days: disputes found by grid workers, applied for by a party or handed over by a
department; 70 % people's, 20 % administrative, 10 % judicial mediation (seed 001's split); most
mediated by the village committee, the rest at the township or its 司法所; about nine in ten end in
a signed agreement, a few fail (the parties referred to a court, arbitration or an administrative
channel) or are terminated; some needed an extension, some ran late; agreements older than two
weeks have had their return visits (履行回访) and most are filed. Everything is written through the
services (actor None = the system), so every row keeps the invariants and every step is audited.
The seed_world command calls `seed_world_step` by dotted path.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, TextIO

from gridgov.access.models import Grant
from gridgov.core.clock import local
from gridgov.residents import idnumber
from gridgov.units.models import GRID_BASE_KINDS, TOWNSHIP_BASE_KINDS, Unit

from . import selectors, services
from .models import Level, Mode

HISTORY_DAYS = 120
PER_TOWNSHIP_SMALL = 36  # a preset world (one or two townships): a full ledger to look at
PER_TOWNSHIP_LARGE = 6  # a county or more: a few per township, so seeding stays quick

TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "neighbour": (("邻里排水沟堵塞纠纷", "两户共用排水沟堵塞，雨天积水进院，双方互相指责。"),
                  ("邻居堆放杂物占道纠纷", "一方长期在巷道堆放柴草，另一方车辆无法通行。"),
                  ("邻里噪音纠纷", "楼上住户夜间施工，楼下老人休息受影响，多次争吵。")),
    "family": (("赡养老人纠纷", "兄弟三人对母亲赡养费分担意见不一，老人无人照料。"),
               ("婚姻家庭矛盾", "夫妻因家庭开支多次争吵，女方回娘家，要求分家。"),
               ("分家析产纠纷", "父亲去世后，兄妹对老宅分配意见不一。")),
    "land": (("宅基地边界纠纷", "两户因院墙位置发生争执，各执一词。"),
             ("承包地边界纠纷", "相邻承包地地界不清，一方耕种越界。"),
             ("山林权属争议", "两组村民对一片山林的权属有争议，林木被砍伐。")),
    "labour": (("拖欠务工工资纠纷", "村民在本地工地务工三个月，包工头拖欠工资未付。"),
               ("用工受伤赔偿纠纷", "务工人员干活时受伤，与雇主就医疗费发生争议。")),
    "property": (("小区物业费纠纷", "业主认为物业服务不到位，拒交物业费。"),
                 ("小区停车位纠纷", "业主与物业就车位收费发生争执。")),
    "damages": (("交通事故赔偿纠纷", "农用车与电动车相撞，双方就赔偿金额协商不成。"),
                ("牲畜毁坏庄稼赔偿纠纷", "一方的羊群啃食另一方的玉米地。"),
                ("房屋漏水损失纠纷", "上下两户因房屋漏水造成的损失发生争议。")),
    "other": (("合伙经营纠纷", "两人合伙养殖，散伙时对投入分配有争议。"),),
}
TYPE_WEIGHTS = (("neighbour", 30), ("family", 20), ("land", 20), ("labour", 8), ("property", 5),
                ("damages", 12), ("other", 5))
SOURCE_WEIGHTS = (("grid", 50), ("applied", 38), ("department", 12))
TERMS = {
    "neighbour": "一、双方共同出资疏通排水沟，费用各半；二、今后各自保持门前通道畅通；三、双方互不追究。",
    "family": "一、子女按月各承担赡养费 300 元，于每月 5 日前交付；二、老人由长子照料，其余子女每周探望。",
    "land": "一、边界以原界桩为准，由村委会现场确认；二、越界部分于 15 日内拆除；三、双方不再就此争议。",
    "labour": "一、包工方于协议签订后 10 日内一次性支付工资；二、申请人不再追究其他责任。",
    "property": "一、业主补交物业费，物业公司限期整改服务问题；二、双方按物业合同履行。",
    "damages": "一、被申请人一次性赔偿损失 2000 元，于签订之日当场付清；二、双方无其他争议。",
    "other": "一、按出资比例分配剩余财产；二、双方无其他争议。",
}
PLACES = ("村委会调解室", "乡综治中心调解室", "当事人家中", "田间地头", "司法所调解室")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
GIVEN = ("建国", "卫东", "秀英", "桂兰", "志强", "海燕", "春花", "永红", "小军", "国庆", "玉梅", "振华", "明亮", "淑珍")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _person(rng: random.Random) -> dict[str, str]:
    birth = dt.date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
    phone = f"1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}"
    id_number = idnumber.make("140225", birth, rng.randint(1, 999)) if rng.random() < 0.6 else ""
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "phone": phone, "id_number": id_number}


def _townships(root: Unit) -> list[Unit]:
    return list(Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base__in=TOWNSHIP_BASE_KINDS,
                                                 is_active=True)
                .select_related("kind").order_by("path"))


def _grids(township: Unit) -> list[Unit]:
    """Grids that lie under a village or community (so every level has a committee)."""
    grids = list(Unit.dangerously_unscoped.filter(path__startswith=township.path, kind__base__in=GRID_BASE_KINDS,
                                      is_active=True).select_related("kind").order_by("path")[:400])
    villages = set(Unit.dangerously_unscoped.filter(path__startswith=township.path,
                                        kind__base__in=("village", "community", "area")).values_list("pk", flat=True))
    return [g for g in grids if villages & set(g.ancestor_ids())]


def _departments(township: Unit) -> list[int]:
    from gridgov.access.models import Department

    return list(Department.dangerously_unscoped.filter(unit__path__startswith=township.path, is_active=True)
                .values_list("pk", flat=True)[:20])


def _presiding(committee: Unit, rng: random.Random) -> int | None:
    people = selectors.presiding_candidates(committee=committee)
    if not people:
        return None
    mediators = set(Grant.dangerously_unscoped.filter(user__in=people, role__code="mediator", revoked_at__isnull=True)
                    .values_list("user_id", flat=True))
    preferred = [p for p in people if p.pk in mediators] if committee.kind.base in TOWNSHIP_BASE_KINDS else []
    return (rng.choice(preferred) if preferred and rng.random() < 0.8 else rng.choice(people)).pk


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO | None = None) -> None:
    townships = _townships(root)
    per = PER_TOWNSHIP_SMALL if len(townships) <= 2 else PER_TOWNSHIP_LARGE
    made = 0
    for township in townships:
        rng = random.Random(f"{seed}:mediation:{township.division_code or township.pk}")
        grids = _grids(township)
        if not grids:
            continue
        departments = _departments(township)
        for _ in range(per):
            made += _one(rng, now=now, grids=grids, departments=departments)
    if stdout is not None:
        stdout.write(f"调解台账：{made} 件。")


def _one(rng: random.Random, *, now: dt.datetime, grids: list[Unit], departments: list[int]) -> int:
    dispute_type = _pick(rng, TYPE_WEIGHTS)
    title, summary = rng.choice(TITLES[dispute_type])
    mode = _pick(rng, ((Mode.PEOPLE, 70), (Mode.ADMINISTRATIVE, 20), (Mode.JUDICIAL, 10)))
    if mode == Mode.PEOPLE:
        level = _pick(rng, ((Level.VILLAGE, 60), (Level.TOWNSHIP, 30), (Level.GRID, 10)))
    else:
        level = _pick(rng, ((Level.TOWNSHIP, 60), (Level.JUSTICE_OFFICE, 40)))
    source = _pick(rng, SOURCE_WEIGHTS)
    if source == "department" and not departments:
        source = "applied"
    grid = rng.choice(grids)
    committee = services.committee_for(grid, level)
    presiding = _presiding(committee, rng)
    if presiding is None:
        return 0
    age = rng.randint(0, HISTORY_DAYS)
    start = now - dt.timedelta(days=age, hours=rng.randint(0, 8))
    parties: list[dict[str, Any]] = [{"role": "applicant", **_person(rng)}, {"role": "respondent", **_person(rng)}]
    m = services.mediation_register(
        actor=None, now=start, title=title, summary=summary, dispute_type=dispute_type, source=source, mode=mode,
        level=level, unit_id=grid.pk, parties=parties, presiding_id=presiding,
        source_department_id=rng.choice(departments) if source == "department" else None,
    )

    def act(action: str, at: dt.datetime, **params: Any) -> None:
        services.mediation_act(actor=None, now=min(at, now), mediation_id=m.pk, action=action, **params)

    if age < 2:
        return 1  # just taken up
    t = start + dt.timedelta(days=1)
    act("start", t, rights_informed=True, facts="已分别走访双方当事人，了解核实纠纷经过，告知权利义务。")
    # How long it takes: mostly within the month; some extended, a few late.
    length = rng.choice((3, 5, 7, 10, 12, 15, 18, 21, 25, 28, 34, 40))
    steps: list[tuple[dt.datetime, str]] = []
    if length > 28 and rng.random() < 0.6:
        steps.append((start + dt.timedelta(days=25), "extend"))
    sittings = 1 + (length > 10) + (length > 20)
    steps += [(start + dt.timedelta(days=1 + (length * (i + 1)) // (sittings + 1)), "session")
              for i in range(sittings)]
    for day, what in sorted(steps):
        if day >= now:
            break
        if what == "extend":
            act("extend", day, days=15, reason="双方同意延期，待补充证据后再行调解。")
        else:
            act("record_session", day, held_on=local(day).date(), place=rng.choice(PLACES),
                attendees="双方当事人、调解员、网格员", notes="双方陈述事实和诉求，调解员释法说理，双方各自作出让步。")
    end = start + dt.timedelta(days=length)
    if end >= now:
        return 1  # still being mediated
    outcome = rng.random()
    if outcome < 0.84:
        act("agree", end, terms=TERMS[dispute_type], signed=True)
        if (now - end).days >= 14:
            fulfilment = "full" if rng.random() < 0.85 else "partial"
            act("follow_up", end + dt.timedelta(days=10), fulfilment=fulfilment,
                note="" if fulfilment == "full" else "尚有部分款项未付，已督促履行。")
            if (now - end).days >= 30:
                act("close", end + dt.timedelta(days=25),
                    note="协议已履行完毕。" if fulfilment == "full" else "已引导当事人申请司法确认。")
    elif outcome < 0.94:
        act("fail", end, channel=rng.choice(("litigation", "arbitration", "administrative")),
            note="双方分歧较大，经多次调解未能达成一致，已告知依法通过其他途径解决。")
        if (now - end).days >= 7:
            act("close", end + dt.timedelta(days=5), note="已归档。")
    else:
        act("terminate", end, reason="申请人撤回调解申请。")
    return 1
