"""The small named world every test speaks about.

浑源县 (county)
├── 吴城乡 (township)                      张伟: township office · 派出所 with handler 刘洋
│   ├── 吴城村 (village)                    李强: village secretary
│   │   ├── A1 网格                         王芳: grid worker · 赵磊: grid head
│   │   └── A2 网格                         钱多: grid worker
│   └── 东坊村 (village)
│       └── B1 网格
└── 驼峰乡 (sibling township)              孙丽: township office (the outsider)
    └── 驼峰村 → C1 网格
陈静: county office · 周敏: system admin · 吴刚: audit admin · 郑红: security admin
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gridgov.access.models import Department, User
from gridgov.access.services import department_create, grant_create, user_create
from gridgov.units.models import Unit
from gridgov.units.services import unit_create

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Grid-Test-2026"


def square(lng: float, lat: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


@dataclass
class World:
    county: Unit
    township: Unit
    village: Unit
    grid_a1: Unit
    grid_a2: Unit
    village_b: Unit
    grid_b1: Unit
    sibling_township: Unit
    sibling_village: Unit
    grid_c1: Unit
    department: Department
    wang_fang: User  # grid worker in A1
    zhao_lei: User  # grid head of A1
    qian_duo: User  # grid worker in A2
    li_qiang: User  # village secretary of 吴城村
    zhang_wei: User  # township office 吴城乡
    chen_jing: User  # county office 浑源县
    liu_yang: User  # department handler, 吴城乡派出所
    sun_li: User  # outsider: township office of 驼峰乡
    zhou_min: User  # system admin
    wu_gang: User  # audit admin
    zheng_hong: User  # security admin

    def personas(self) -> dict[str, User]:
        return {
            "grid_worker": self.wang_fang,
            "grid_head": self.zhao_lei,
            "village_secretary": self.li_qiang,
            "township_office": self.zhang_wei,
            "county_office": self.chen_jing,
            "department_handler": self.liu_yang,
            "outsider": self.sun_li,
        }


def build_world() -> World:
    def unit(parent: Unit | None, name: str, kind: str, **kw: object) -> Unit:
        return unit_create(actor=None, now=T0, parent=parent, name=name, kind_code=kind, **kw).unit  # type: ignore[arg-type]

    county = unit(None, "浑源县", "county", division_code="140225000000", boundary=square(113.0, 39.0, 1.0))
    township = unit(county, "吴城乡", "township", division_code="140225210000", grid_level=1,
                    boundary=square(113.0, 39.0, 0.5))
    village = unit(township, "吴城村", "village", grid_level=2, boundary=square(113.0, 39.0, 0.2))
    grid_a1 = unit(village, "吴城村第一网格", "grid", serial="A1", grid_level=3, grid_type="hamlet",
                   boundary=square(113.0, 39.0, 0.1))
    grid_a2 = unit(village, "吴城村第二网格", "grid", serial="A2", grid_level=3, boundary=square(113.1, 39.0, 0.1))
    village_b = unit(township, "东坊村", "village", grid_level=2, boundary=square(113.2, 39.2, 0.2))
    grid_b1 = unit(village_b, "东坊村第一网格", "grid", serial="B1", grid_level=3, boundary=square(113.2, 39.2, 0.1))
    sibling = unit(county, "驼峰乡", "township", division_code="140225204000", boundary=square(113.5, 39.5, 0.5))
    sibling_village = unit(sibling, "驼峰村", "village", boundary=square(113.5, 39.5, 0.2))
    grid_c1 = unit(sibling_village, "驼峰村第一网格", "grid", serial="C1", boundary=square(113.5, 39.5, 0.1))
    department = department_create(actor=None, now=T0, unit=township, name="吴城乡派出所", kind="police")

    def person(username: str, name: str, role: str, at: Unit, **kw: object) -> User:
        user = user_create(actor=None, now=T0, username=username, full_name=name, password=PASSWORD,
                           work_phone="0352-8123456", validate=False)
        grant_create(actor=None, now=T0, user=user, role_code=role, unit=at, **kw)  # type: ignore[arg-type]
        return user

    return World(
        county=county, township=township, village=village, grid_a1=grid_a1, grid_a2=grid_a2,
        village_b=village_b, grid_b1=grid_b1, sibling_township=sibling, sibling_village=sibling_village,
        grid_c1=grid_c1, department=department,
        wang_fang=person("wangfang", "王芳", "grid_worker_full", grid_a1),
        zhao_lei=person("zhaolei", "赵磊", "grid_head", grid_a1),
        qian_duo=person("qianduo", "钱多", "grid_worker_part", grid_a2),
        li_qiang=person("liqiang", "李强", "village_secretary", village),
        zhang_wei=person("zhangwei", "张伟", "township_office", township),
        chen_jing=person("chenjing", "陈静", "county_office", county),
        liu_yang=person("liuyang", "刘洋", "department_handler", township, department=department),
        sun_li=person("sunli", "孙丽", "township_office", sibling),
        zhou_min=person("zhoumin", "周敏", "system_admin", county),
        wu_gang=person("wugang", "吴刚", "audit_admin", county),
        zheng_hong=person("zhenghong", "郑红", "security_admin", county),
    )
