"""The world generator's hierarchy: the five reference systems (presets) and generated sizes.

Planning is pure (a random.Random in, a WorldPlan out), so one seed always gives the same world;
`persist_units` then writes the plan with bulk inserts: ids first, then paths.

The structural posts of each system (who heads which grid, how many grid workers) are part of
the plan because the reference documents count them per level; gridgov.access.world turns them
into people, adds offices and departments, and writes them.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat

from . import divisions
from .models import LevelName, Theme, Unit, UnitEvent, UnitKind

PRESETS = ("wucheng", "suoxiyu", "wangdian", "plan2024", "xilujiao")
SIZES = ("S", "M", "L")


@dataclass
class Post:
    """A position the structure asks for: a role at a unit. Posts sharing a holder are one person."""

    role: str
    title: str = ""
    holder: str | None = None


@dataclass
class NodePlan:
    key: int
    parent: int | None
    depth: int
    name: str
    kind: str
    grid_level: int | None = None
    division_code: str | None = None
    serial: str = ""
    grid_type: str = ""
    household_estimate: int | None = None
    themes: tuple[str, ...] = ()
    sort_order: int = 0
    boundary: dict[str, Any] | None = None
    centroid: tuple[float, float] | None = None  # (lat, lng)
    posts: list[Post] = field(default_factory=list)


@dataclass
class WorldPlan:
    label: str
    nodes: list[NodePlan] = field(default_factory=list)
    level_names: list[tuple[int, int, str]] = field(default_factory=list)  # (node key, level, name)
    phone_area_code: str = "0352"
    staff_target: int | None = None
    _child_count: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def add(self, parent: NodePlan | None, name: str, kind: str, **kw: Any) -> NodePlan:
        node = NodePlan(key=len(self.nodes), parent=parent.key if parent else None,
                        depth=parent.depth + 1 if parent else 0, name=name, kind=kind, **kw)
        if "sort_order" not in kw and parent is not None:
            node.sort_order = self._child_count.get(parent.key, 0)
        if parent is not None:
            self._child_count[parent.key] = self._child_count.get(parent.key, 0) + 1
        self.nodes.append(node)
        return node

    def roots(self) -> list[NodePlan]:
        return [n for n in self.nodes if n.parent is None]

    def leaves(self) -> list[NodePlan]:
        parents = {n.parent for n in self.nodes}
        return [n for n in self.nodes if n.key not in parents]


# --- names ------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜"
    "戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
VILLAGE_ENDINGS = "庄堡营湾坪沟峪窑店寨屯岭坊河园洼"
PREFIXES = "东西南北上下前后大小新中"
PLACE_WORDS = (
    "石门", "柳林", "杏树", "桃园", "梨园", "青山", "白杨", "红旗", "龙泉", "双井", "黄土", "沙河", "清水", "槐树",
    "榆林", "松树", "马坊", "古城", "三岔", "五里", "凤凰", "金沙", "银杏", "长岭", "高庙", "团山", "麻地", "土桥",
)
COMMUNITY_WORDS = (
    "和平", "新华", "文昌", "向阳", "建设", "人民", "团结", "幸福", "光明", "朝阳", "文化", "民主", "振兴", "锦绣",
    "滨河", "育才", "兴隆", "福康", "安居", "春晖",
)
HAMLET_ENDINGS = ("湾", "坪", "垭", "坡", "冲", "台", "岗", "院子", "峪", "嘴", "溶", "塔")
CN_NUMBERS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (up to 99), for names like 第二十三网格."""
    if n <= 10:
        return CN_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_NUMBERS[tens - 1]
    return head + "十" + (CN_NUMBERS[ones - 1] if ones else "")


def _village_name(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.45:
        return f"{rng.choice(SURNAMES)}家{rng.choice(VILLAGE_ENDINGS)}村"
    if style < 0.75:
        return f"{rng.choice(PREFIXES)}{rng.choice(VILLAGE_ENDINGS)}村"
    return f"{rng.choice(PLACE_WORDS)}村"


def unique_names(rng: random.Random, n: int, make: Any, taken: Iterable[str] = ()) -> list[str]:
    seen = set(taken)
    out: list[str] = []
    while len(out) < n:
        name = make(rng)
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def village_names(rng: random.Random, n: int, *, first: Sequence[str] = ()) -> list[str]:
    return [*first, *unique_names(rng, n - len(first), _village_name, taken=first)]


def community_names(rng: random.Random, n: int, *, first: Sequence[str] = ()) -> list[str]:
    return [*first, *unique_names(rng, n - len(first), lambda r: f"{r.choice(COMMUNITY_WORDS)}社区", taken=first)]


def hamlet_names(rng: random.Random, n: int, taken: Iterable[str] = ()) -> list[str]:
    return unique_names(rng, n, lambda r: f"{r.choice(SURNAMES)}家{r.choice(HAMLET_ENDINGS)}", taken=taken)


# --- numbers ----------------------------------------------------------------------------


def apportion(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder), each ≥ minimum;
    the parts always sum to `total` exactly."""
    n = len(weights)
    if n == 0:
        return []
    if total < minimum * n:
        raise ValueError("total too small for the minimum")
    rest = total - minimum * n
    s = float(sum(weights)) or 1.0
    raw = [rest * w / s for w in weights]
    parts = [math.floor(x) for x in raw]
    order = sorted(range(n), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def jittered(rng: random.Random, n: int, spread: float = 0.3) -> list[float]:
    return [rng.uniform(1 - spread, 1 + spread) for _ in range(n)]


# --- places -----------------------------------------------------------------------------

# Approximate seats (lat, lng) of the reference counties, and the provincial capitals used to
# place a generated county somewhere plausible in its province.
COUNTY_SEATS = {
    "140225": (39.70, 113.68),  # 浑源县
    "430811": (29.35, 110.55),  # 武陵源区
    "341202": (32.89, 115.81),  # 颍州区
    "110117": (40.14, 117.12),  # 平谷区
    "361130": (29.25, 117.86),  # 婺源县
}
PROVINCE_SEATS = {
    "11": (39.90, 116.40), "12": (39.13, 117.20), "13": (38.04, 114.51), "14": (37.87, 112.55),
    "15": (40.84, 111.75), "21": (41.80, 123.43), "22": (43.82, 125.32), "23": (45.80, 126.53),
    "31": (31.23, 121.47), "32": (32.06, 118.80), "33": (30.27, 120.16), "34": (31.82, 117.23),
    "35": (26.07, 119.30), "36": (28.68, 115.86), "37": (36.65, 117.12), "41": (34.75, 113.62),
    "42": (30.59, 114.31), "43": (28.23, 112.94), "44": (23.13, 113.26), "45": (22.82, 108.37),
    "46": (20.04, 110.35), "50": (29.56, 106.55), "51": (30.57, 104.07), "52": (26.65, 106.63),
    "53": (25.04, 102.71), "54": (29.65, 91.14), "61": (34.34, 108.94), "62": (36.06, 103.83),
    "63": (36.62, 101.78), "64": (38.49, 106.23), "65": (43.83, 87.62),
}
PHONE_AREA_CODES = {"140225": "0352", "430811": "0744", "341202": "0558", "110117": "010", "361130": "0793"}


def county_seat(code: str, rng: random.Random) -> tuple[float, float]:
    if code in COUNTY_SEATS:
        return COUNTY_SEATS[code]
    lat, lng = PROVINCE_SEATS.get(code[:2], (34.0, 112.0))
    return lat + rng.uniform(-1.2, 1.2), lng + rng.uniform(-1.5, 1.5)


# --- boundaries -------------------------------------------------------------------------

Box = tuple[float, float, float, float]  # min lng, min lat, max lng, max lat
INSET = 0.03  # each child keeps this share of its cell's smaller side free, so siblings never touch


def _inset(box: Box, share: float = INSET) -> Box:
    x0, y0, x1, y1 = box
    m = share * min(x1 - x0, y1 - y0)
    return x0 + m, y0 + m, x1 - m, y1 - m


def _split(box: Box, weights: Sequence[float], rng: random.Random, lng_scale: float) -> list[Box]:
    """Cut a box into len(weights) cells of proportional area: halve the list by weight and cut the
    longer side (in ground distance) at the weighted share, jittered a little, recursively."""
    if len(weights) == 1:
        return [box]
    half = len(weights) // 2
    a, b = sum(weights[:half]), sum(weights[half:])
    share = min(max(a / (a + b) * rng.uniform(0.92, 1.08), 0.1), 0.9)
    x0, y0, x1, y1 = box
    if (x1 - x0) * lng_scale >= (y1 - y0):
        cut = x0 + (x1 - x0) * share
        first, second = (x0, y0, cut, y1), (cut, y0, x1, y1)
    else:
        cut = y0 + (y1 - y0) * share
        first, second = (x0, y0, x1, cut), (x0, cut, x1, y1)
    return _split(first, weights[:half], rng, lng_scale) + _split(second, weights[half:], rng, lng_scale)


def _ring(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    coords = [[round(x, 6), round(y, 6)] for x, y in points]
    return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}


def _rect(box: Box) -> dict[str, Any]:
    x0, y0, x1, y1 = box
    return _ring([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def _dented(box: Box, rng: random.Random) -> dict[str, Any]:
    """A leaf's outline: its cell with each side's midpoint pushed inwards, so grids do not all look
    like tiles. Star-shaped around the centre, hence simple and inside the cell."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _ring([
        (x0, y0), (cx + rng.uniform(-0.2, 0.2) * w, y0 + rng.uniform(0, 0.15) * h),
        (x1, y0), (x1 - rng.uniform(0, 0.15) * w, cy + rng.uniform(-0.2, 0.2) * h),
        (x1, y1), (cx + rng.uniform(-0.2, 0.2) * w, y1 - rng.uniform(0, 0.15) * h),
        (x0, y1), (x0 + rng.uniform(0, 0.15) * w, cy + rng.uniform(-0.2, 0.2) * h),
    ])


def lay_out(plan: WorldPlan, root: NodePlan, seat: tuple[float, float], rng: random.Random,
            size_km: float = 45.0) -> None:
    """Give every unit under `root` a boundary nested in its parent's and apart from its siblings'."""
    lat, lng = seat
    lng_scale = math.cos(math.radians(lat))
    half_h = size_km / 111.0 / 2
    half_w = half_h / lng_scale
    children_of: dict[int, list[NodePlan]] = {}
    for n in plan.nodes:
        if n.parent is not None:
            children_of.setdefault(n.parent, []).append(n)

    def weight(n: NodePlan) -> float:
        kids = children_of.get(n.key)
        if not kids:
            return float(max(n.household_estimate or 0, 5))
        return sum(weight(k) for k in kids)

    def place(node: NodePlan, box: Box) -> None:
        kids = children_of.get(node.key, [])
        node.boundary = _rect(box) if kids else _dented(box, rng)
        node.centroid = ((box[1] + box[3]) / 2, (box[0] + box[2]) / 2)
        if not kids:
            return
        if len(kids) == 1:
            # A lone child (the preset's township in its county) takes part of the parent's box.
            x0, y0, x1, y1 = box
            fw, fh = rng.uniform(0.35, 0.5), rng.uniform(0.35, 0.5)
            ox, oy = rng.uniform(0.05, 0.95 - fw), rng.uniform(0.05, 0.95 - fh)
            cells = [(x0 + ox * (x1 - x0), y0 + oy * (y1 - y0),
                      x0 + (ox + fw) * (x1 - x0), y0 + (oy + fh) * (y1 - y0))]
        else:
            cells = _split(box, [weight(k) for k in kids], rng, lng_scale)
        for kid, cell in zip(kids, cells, strict=True):
            place(kid, _inset(cell))

    place(root, (lng - half_w, lat - half_h, lng + half_w, lat + half_h))


# --- the five reference systems ---------------------------------------------------------

WUCHENG_THEMES = ("party_building", "public_safety", "emergency", "work_safety", "epidemic")
WANGDIAN_THEMES = ("party_building", "public_safety", "civil_affairs", "relapse_monitoring", "rural_revitalisation")
SUOXIYU_THEMES = ("party_building", "public_safety", "civil_affairs", "emergency")


def _county(plan: WorldPlan, code: str, **kw: Any) -> NodePlan:
    c = divisions.county(code)
    plan.phone_area_code = PHONE_AREA_CODES.get(code, plan.phone_area_code)
    return plan.add(None, c.name, "county", division_code=c.full_code, **kw)


def _township(plan: WorldPlan, county: NodePlan, county_code: str, name: str, **kw: Any) -> NodePlan:
    t = divisions.township(county_code, name)
    kind = "subdistrict" if name.endswith("街道") else "township"
    return plan.add(county, name, kind, division_code=t.full_code if t else None, **kw)


def _secretary(kind: str) -> Post:
    title = "社区党委书记" if kind == "community" else "村党支部书记"
    return Post("village_secretary", title)


def plan_wucheng(rng: random.Random) -> WorldPlan:
    """吴城乡, 浑源县: 1 township grid, 10 village grids, 35 third-level grids; 10 grid heads from the
    village committees, 105 grid workers (3 per grid); 3,454 households in the ledger."""
    plan = WorldPlan("吴城乡（浑源县）")
    county = _county(plan, "140225")
    town = _township(plan, county, "140225", "吴城乡", grid_level=1)
    plan.level_names += [(town.key, 1, "一级网格"), (town.key, 2, "二级网格"), (town.key, 3, "三级网格")]
    names = village_names(rng, 10, first=["吴城村"])
    grids_per_village = apportion(35, jittered(rng, 10), minimum=3)
    households = apportion(3454, jittered(rng, 35, 0.35))
    g = 0
    for vi, (vname, n_grids) in enumerate(zip(names, grids_per_village, strict=True), start=1):
        village = plan.add(town, vname, "village", grid_level=2, serial=f"{vi:02d}",
                           posts=[Post("village_secretary", "村党支部书记"), Post("grid_head", "村两委干部")])
        for gi in range(1, n_grids + 1):
            plan.add(village, f"{vname}第{cn_number(gi)}网格", "grid", grid_level=3, serial=f"{vi:02d}-{gi:02d}",
                     grid_type="hamlet", household_estimate=households[g], themes=WUCHENG_THEMES,
                     posts=[Post("grid_worker_full"), Post("grid_worker_part"), Post("grid_worker_part")])
            g += 1
    lay_out(plan, county, county_seat("140225", rng), rng)
    return plan


SUOXIYU_COMPOUNDS = ("溪布街", "水绕四门", "吴家峪", "高云", "沙坪", "宝峰", "金鞭", "锣鼓塔", "标志门", "天子",
                     "龙尾巴", "双峰", "索溪", "黄龙")
SUOXIYU_INSTITUTIONS = ("街道机关", "区人民医院", "武陵源一中", "索溪峪小学", "区行政中心", "区消防救援大队")
SUOXIYU_SCENIC = ("黄龙洞景区", "宝峰湖景区", "百龙天梯景区", "溪布街景区", "标志门游客中心", "水绕四门景区")


def plan_suoxiyu(rng: random.Random) -> WorldPlan:
    """索溪峪街道, 武陵源区: 5 communities and 4 mountain villages; 176 grids of several types, 150 of
    them 屋场网格 (hamlet grids) holding 2–3 red micro-grids each: 357 red micro-grids, each one party
    member with ~10 households."""
    plan = WorldPlan("索溪峪街道（武陵源区）")
    county = _county(plan, "430811")
    # Not in the 2022 division list (see data/divisions/README.md), so it has no statistical code.
    street = _township(plan, county, "430811", "索溪峪街道", grid_level=1)
    plan.level_names += [(street.key, 1, "街道网格"), (street.key, 2, "村（社区）网格"),
                         (street.key, 3, "网格"), (street.key, 4, "红色微网格")]
    communities = community_names(rng, 5, first=["吴家峪社区", "高云社区"])
    villages = village_names(rng, 4, first=["沙坪村"])
    units = [(n, "community") for n in communities] + [(n, "village") for n in villages]
    n_hamlets, n_micro = 150, 357
    # Villages hold more hamlets than communities; every one of the nine has some (村村有格).
    hamlets_per_unit = apportion(n_hamlets, [1.0] * 5 + [2.4] * 4, minimum=4)
    three_micro = set(rng.sample(range(n_hamlets), n_micro - 2 * n_hamlets))
    other_grids = ([("residential", n) for n in SUOXIYU_COMPOUNDS]
                   + [("institution", n) for n in SUOXIYU_INSTITUTIONS]
                   + [("scenic", n) for n in SUOXIYU_SCENIC])
    others_at: dict[int, list[tuple[str, str]]] = {i: [] for i in range(5)}
    for j, item in enumerate(other_grids):
        others_at[j % 5 if item[0] != "scenic" else rng.randrange(5)].append(item)
    taken: set[str] = set()
    h = 0
    for ui, ((uname, kind), n_h) in enumerate(zip(units, hamlets_per_unit, strict=True), start=1):
        unit = plan.add(street, uname, kind, grid_level=2, serial=f"{ui:02d}", posts=[_secretary(kind)])
        serial = 0
        names = hamlet_names(rng, n_h, taken)
        taken.update(names)
        for hname in names:
            serial += 1
            hamlet = plan.add(unit, f"{hname}屋场网格", "hamlet_grid", grid_level=3, serial=f"{ui:02d}-{serial:03d}",
                              grid_type="hamlet", themes=SUOXIYU_THEMES,
                              posts=[Post("grid_worker_part", "屋场网格员")])
            for mi in range(1, (3 if h in three_micro else 2) + 1):
                plan.add(hamlet, f"{hname}第{cn_number(mi)}红色微网格", "red_micro_grid", grid_level=4,
                         serial=f"{mi}", household_estimate=rng.randint(8, 13),
                         posts=[Post("grid_head", "党员网格长")])
            h += 1
        for gtype, oname in others_at.get(ui - 1, []):
            serial += 1
            label = f"{oname}小区网格" if gtype == "residential" else f"{oname}网格"
            estimate = {"residential": rng.randint(60, 180), "institution": rng.randint(2, 10),
                        "scenic": rng.randint(3, 15)}[gtype]
            plan.add(unit, label, "grid", grid_level=3, serial=f"{ui:02d}-{serial:03d}", grid_type=gtype,
                     household_estimate=estimate, themes=SUOXIYU_THEMES,
                     posts=[Post("grid_worker_full", "专职网格员")])
    lay_out(plan, county, county_seat("430811", rng), rng, size_km=30)
    return plan


def plan_wangdian(rng: random.Random) -> WorldPlan:
    """王店镇, 颍州区: 330 grids merging party-building, public-safety, civil-affairs, poverty-relapse
    and rural-revitalisation grids into one (多网合一); 470 grid workers."""
    plan = WorldPlan("王店镇（颍州区）")
    county = _county(plan, "341202")
    town = _township(plan, county, "341202", "王店镇", grid_level=1)
    plan.level_names += [(town.key, 1, "镇级网格"), (town.key, 2, "村级网格"), (town.key, 3, "网格")]
    units = [(n, "community") for n in community_names(rng, 2, first=["王店社区"])]
    units += [(n, "village") for n in village_names(rng, 20)]
    grids_per_unit = apportion(330, jittered(rng, len(units)), minimum=8)
    second_worker = set(rng.sample(range(330), 470 - 330))
    g = 0
    for ui, ((uname, kind), n_grids) in enumerate(zip(units, grids_per_unit, strict=True), start=1):
        unit = plan.add(town, uname, kind, grid_level=2, serial=f"{ui:02d}",
                        posts=[_secretary(kind)])
        for gi in range(1, n_grids + 1):
            posts = [Post("grid_worker_full" if rng.random() < 0.3 else "grid_worker_part")]
            if g in second_worker:
                posts.append(Post("grid_worker_part", "村民组长"))
            plan.add(unit, f"{uname}第{cn_number(gi)}网格" if gi < 100 else f"{uname}{gi}号网格", "grid",
                     grid_level=3, serial=f"{ui:02d}-{gi:02d}", grid_type="hamlet",
                     household_estimate=rng.randint(45, 75), themes=WANGDIAN_THEMES, posts=posts)
            g += 1
    lay_out(plan, county, county_seat("341202", rng), rng, size_km=40)
    return plan


PLAN2024_AREAS = ("城郊片区", "东片区", "西片区", "南片区", "北片区", "中心片区", "河东片区", "山区片区")


def plan_2024(rng: random.Random) -> WorldPlan:
    """The 2024 implementation plan's dual grids (双网格): one responsibility grid of ~200 households per
    village (two in 五都村, 石门村 and 王村) and 8 township area grids joining neighbouring villages.
    Each grid has a service team of at least 5. The plan names no township; it is placed in a real 乡."""
    plan = WorldPlan("2024年实施方案·双网格（段莘乡，婺源县）")
    county = _county(plan, "361130")
    town = _township(plan, county, "361130", "段莘乡", grid_level=1)
    plan.level_names += [(town.key, 1, "乡网格"), (town.key, 2, "片区网格"), (town.key, 3, "责任网格")]
    names = village_names(rng, 24, first=["五都村", "石门村", "王村"])
    rng.shuffle(names)
    villages_per_area = apportion(len(names), jittered(rng, 8, 0.2), minimum=2)
    i = 0
    for ai, (aname, n_v) in enumerate(zip(PLAN2024_AREAS, villages_per_area, strict=True), start=1):
        area = plan.add(town, aname, "area", grid_level=2, serial=f"{ai:02d}",
                        posts=[Post("area_head", "乡班子成员（工作片片长）"), Post("resident_cadre", "片区驻村干部")])
        for vname in names[i:i + n_v]:
            village = plan.add(area, vname, "village", posts=[Post("village_secretary", "村党组织书记（团队负责人）"),
                                                               Post("resident_cadre", "驻村干部")])
            n_grids = 2 if vname in ("五都村", "石门村", "王村") else 1
            for gi in range(1, n_grids + 1):
                plan.add(village, f"{vname}责任网格" if n_grids == 1 else f"{vname}第{cn_number(gi)}责任网格", "grid",
                         grid_level=3, serial=f"{gi:02d}", grid_type="hamlet",
                         household_estimate=rng.randint(180, 220), themes=WUCHENG_THEMES,
                         posts=[Post("grid_head", "村干部"), Post("info_officer", "信息管理员"),
                                Post("grid_worker_part", "村民代表"), Post("grid_worker_part", "农村党员"),
                                Post("grid_worker_full", "大学生村官")])
        i += n_v
    lay_out(plan, county, county_seat("361130", rng), rng, size_km=35)
    return plan


# (title, how many) of the 23 grid workers of 西鹿角村
XILUJIAO_WORKERS = (("协管员", 7), ("创城、接诉即办专员", 5), ("村委会后勤人员", 8), ("村民代表", 3))


def plan_xilujiao(rng: random.Random) -> WorldPlan:
    """西鹿角村, 平谷镇: 1+6+23+N — the party branch secretary as chief grid head, 6 areas led by the
    other village committee members, 23 grids of ~58 households (~2,600 residents), and micro-grids."""
    plan = WorldPlan("西鹿角村（平谷镇，平谷区）")
    county = _county(plan, "110117")
    # 平谷镇 is not in the 2022 list (it became subdistricts); it keeps no statistical code.
    town = _township(plan, county, "110117", "平谷镇")
    village = plan.add(town, "西鹿角村", "village", grid_level=1,
                       posts=[Post("chief_grid_head", "村党总支部书记（总网格长）", holder="xlj-secretary"),
                              Post("village_secretary", "村党总支部书记", holder="xlj-secretary")])
    plan.level_names += [(village.key, 1, "总网格"), (village.key, 2, "片区"), (village.key, 3, "网格"),
                         (village.key, 4, "微网格")]
    grids_per_area = apportion(23, jittered(rng, 6, 0.2), minimum=3)
    households = apportion(23 * 58, jittered(rng, 23, 0.15))
    titles = [t for t, n in XILUJIAO_WORKERS for _ in range(n)]
    rng.shuffle(titles)
    g = 0
    for ai, n_grids in enumerate(grids_per_area, start=1):
        area = plan.add(village, f"第{cn_number(ai)}片区", "area", grid_level=2, serial=f"{ai}",
                        posts=[Post("area_head", "村两委委员（片长）")])
        for _ in range(n_grids):
            g += 1
            role = "grid_worker_full" if titles[g - 1] == "协管员" else "grid_worker_part"
            grid = plan.add(area, f"第{cn_number(g)}网格", "grid", grid_level=3, serial=f"{g:02d}", grid_type="hamlet",
                            themes=WUCHENG_THEMES, posts=[Post(role, titles[g - 1])])
            n_micro = rng.randint(2, 4)
            for mi, est in enumerate(apportion(households[g - 1], jittered(rng, n_micro, 0.2)), start=1):
                plan.add(grid, f"第{cn_number(g)}网格{mi}号微网格", "micro_grid", grid_level=4, serial=f"{g:02d}-{mi}",
                         household_estimate=est)
    lay_out(plan, county, county_seat("110117", rng), rng, size_km=25)
    return plan


PRESET_PLANNERS = {
    "wucheng": plan_wucheng,
    "suoxiyu": plan_suoxiyu,
    "wangdian": plan_wangdian,
    "plan2024": plan_2024,
    "xilujiao": plan_xilujiao,
}


def plan_preset(name: str, rng: random.Random) -> WorldPlan:
    return PRESET_PLANNERS[name](rng)


# --- generated sizes ----------------------------------------------------------------------

GENERIC_THEMES = ("party_building", "public_safety", "civil_affairs", "relapse_monitoring", "rural_revitalisation",
                  "emergency", "work_safety", "environment")


@dataclass(frozen=True)
class SizeSpec:
    counties: int
    townships: int  # per county
    villages: int  # per township
    grids: int  # per county
    households: int  # per county
    staff: int  # per county


SIZE_SPECS = {
    "S": SizeSpec(counties=1, townships=1, villages=18, grids=200, households=15_000, staff=180),
    "M": SizeSpec(counties=1, townships=14, villages=15, grids=2_600, households=190_000, staff=2_500),
    "L": SizeSpec(counties=8, townships=14, villages=15, grids=2_700, households=200_000, staff=2_500),
}


def plan_size(size: str, rng: random.Random) -> WorldPlan:
    """A generated county (S: one township of it; L: eight counties) in a real place with its real
    townships, generated villages and grids, one grid worker post per grid (merged to the staff
    target by gridgov.access.world)."""
    spec = SIZE_SPECS[size]
    plan = WorldPlan(f"规模 {size}", staff_target=spec.staff * spec.counties)
    candidates = divisions.counties_with_townships(spec.townships)
    chosen = rng.sample(candidates, spec.counties)
    for c in sorted(chosen, key=lambda d: d.code):
        county = plan.add(None, c.name, "county", division_code=c.full_code, grid_level=1)
        plan.level_names += [(county.key, 1, "县级网格"), (county.key, 2, "乡级网格"), (county.key, 3, "村级网格"),
                             (county.key, 4, "网格")]
        towns = [t for t in divisions.townships(c.code) if not t.name.endswith(("开发区", "园区", "农场"))]
        towns = sorted(rng.sample(towns, min(spec.townships, len(towns))), key=lambda d: d.code)
        n_villages = spec.villages * len(towns)
        grids = apportion(spec.grids, jittered(rng, n_villages, 0.35), minimum=3)
        households = apportion(spec.households, jittered(rng, spec.grids, 0.35))
        v = g = 0
        for t in towns:
            town = plan.add(county, t.name, t.kind_code, division_code=t.full_code, grid_level=2)
            seat = t.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
            n_comm = 2 if t.kind_code == "subdistrict" or t.name.endswith("镇") else 0
            names = [(n, "community") for n in community_names(rng, n_comm, first=[f"{seat}社区"][:n_comm])]
            names += [(n, "village") for n in village_names(rng, spec.villages - n_comm, first=[f"{seat}村"])]
            for vi, (vname, kind) in enumerate(names, start=1):
                village = plan.add(town, vname, kind, grid_level=3, serial=f"{vi:02d}",
                                   posts=[_secretary(kind), Post("grid_head", "村两委干部")])
                for gi in range(1, grids[v] + 1):
                    themes = ("party_building", *sorted(rng.sample(GENERIC_THEMES[1:], rng.randint(2, 4))))
                    plan.add(village, f"{vname}第{cn_number(gi)}网格", "grid", grid_level=4, serial=f"{gi:02d}",
                             grid_type="residential" if kind == "community" else "hamlet",
                             household_estimate=households[g], themes=themes,
                             posts=[Post("grid_worker_full" if rng.random() < 0.35 else "grid_worker_part")])
                    g += 1
                v += 1
        lay_out(plan, county, county_seat(c.code, rng), rng, size_km=60)
    return plan


# --- writing ------------------------------------------------------------------------------


def persist_units(plan: WorldPlan, *, now: dt.datetime) -> dict[int, Unit]:
    """Write the plan's units, their themes, level names and creation history with bulk inserts.
    Returns the units by plan key."""
    kinds = {k.code: k for k in UnitKind.objects.all()}
    themes = {t.code: t.pk for t in Theme.objects.all()}
    missing = {n.kind for n in plan.nodes} - set(kinds)
    if missing:
        raise LookupError(f"unknown unit kinds: {sorted(missing)}")
    by_key: dict[int, Unit] = {}
    token = f"~seed{now.timestamp():.0f}~"
    for depth in sorted({n.depth for n in plan.nodes}):
        level = [n for n in plan.nodes if n.depth == depth]
        rows = [
            Unit(
                name=n.name, kind=kinds[n.kind], parent=by_key[n.parent] if n.parent is not None else None,
                path=f"{token}{n.key}", depth=depth, grid_level=n.grid_level, division_code=n.division_code,
                serial=n.serial, grid_type=n.grid_type, boundary=n.boundary,
                centroid_lat=n.centroid[0] if n.centroid else None, centroid_lng=n.centroid[1] if n.centroid else None,
                household_estimate=n.household_estimate, sort_order=n.sort_order, created_at=now, updated_at=now,
            )
            for n in level
        ]
        Unit.dangerously_unscoped.bulk_create(rows, batch_size=500)
        for n, u in zip(level, rows, strict=True):
            parent = by_key[n.parent] if n.parent is not None else None
            u.path = f"{parent.path if parent else '/'}{u.pk}/"
            by_key[n.key] = u
        # One statement per level sets the same paths in the database (a bulk_update of thousands
        # of rows is a CASE over every id and took most of a size-M run).
        parent_path: Any = Value("/") if depth == 0 else Subquery(
            Unit.dangerously_unscoped.filter(pk=OuterRef("parent_id")).values("path")[:1]
        )
        Unit.dangerously_unscoped.filter(depth=depth, path__startswith=token).update(
            path=Concat(parent_path, Cast("id", CharField()), Value("/"), output_field=CharField())
        )
    through = Unit.themes.through
    through.objects.bulk_create(
        [through(unit_id=by_key[n.key].pk, theme_id=themes[c]) for n in plan.nodes for c in n.themes],
        batch_size=1000,
    )
    LevelName.objects.bulk_create([LevelName(root=by_key[k], level=lv, name=nm) for k, lv, nm in plan.level_names])
    UnitEvent.objects.bulk_create(
        [UnitEvent(unit=u, action=UnitEvent.Action.CREATED, at=now, new_path=u.path, new_parent=u.parent)
         for u in by_key.values()],
        batch_size=1000,
    )
    return by_key
