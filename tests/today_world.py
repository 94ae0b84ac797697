"""What the named world (tests/world.py) has to do on the morning of NOW, for the home page (今日工作):
cases, households due a visit, duty-list items, mediations and in-app messages, each placed so that
every persona's figures differ and none leaks into another's. `EXPECTED` says what each persona sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from gridgov.access.models import User
from gridgov.access.services import grant_create, user_create
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case
from gridgov.cases.transitions import case_act
from gridgov.mediation import services as mediation_services
from gridgov.mediation.models import MediationCase
from gridgov.notify.models import InboxMessage
from gridgov.residents.models import Resident, Tag
from gridgov.residents.tags import tag_assign
from gridgov.visits import services as visit_services
from gridgov.workforce import services as duty_services
from tests.residents.conftest import household, make_id
from tests.world import T0, World

# Monday 16 March 2026, 10:00 China time: a fortnight after the world was built.
NOW = dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

# persona → what the home page shows. cases: (待办, 即将超期, 已超期); visits: (逾期未访, 今天该访, 三天内该访);
# duty: (已逾期, 今天到期, 要做的任务); mediation: (已受理待调解, 调解中, 已超期); unread messages. None: no such part.
EXPECTED: dict[str, dict[str, Any]] = {
    "grid_worker": {"cases": (3, 1, 2), "visits": (1, 1, 1), "duty": (1, 1, 3), "mediation": None, "unread": 2},
    "grid_head": {"cases": (3, 1, 2), "visits": (1, 1, 1), "duty": (0, 0, 0), "mediation": (1, 0, 1), "unread": 0},
    "village_secretary": {"cases": (0, 0, 2), "visits": (2, 1, 1), "duty": (0, 1, 1), "mediation": (1, 0, 1),
                          "unread": 0},
    "township_office": {"cases": (1, 0, 2), "visits": (2, 1, 1), "duty": (0, 1, 1), "mediation": (1, 0, 1),
                        "unread": 0},
    "county_office": {"cases": (0, 0, 3), "visits": (3, 1, 1), "duty": (0, 1, 1), "mediation": (2, 0, 1),
                      "unread": 0},
    "department_handler": {"cases": (1, 0, 1), "visits": None, "duty": None, "mediation": None, "unread": 0},
    "outsider": {"cases": (0, 0, 1), "visits": (1, 0, 0), "duty": (0, 0, 0), "mediation": (1, 0, 0), "unread": 1},
}


@dataclass
class Filled:
    cases: dict[str, Case] = field(default_factory=dict)
    mediator: User | None = None


def _tag(code: str, *, start: dt.date, household: Any = None, resident: Any = None) -> None:
    tag_assign(actor=None, now=T0, tag_code=code, household_id=household.pk if household else None,
                      resident_id=resident.pk if resident else None, start_date=start)


def _visits(w: World) -> None:
    """The county's rules (低保户 30 days, 独居老人 7, 困难户 60) and households placed on them: in A1 one
    overdue, one due today, one due in two days, one not yet due; in A2 one overdue; in C1 one overdue."""
    for code, days in (("dibao", 30), ("elder_alone", 7), ("hardship", 60)):
        visit_services.rule_set(actor=w.chen_jing, now=T0, unit_id=w.county.pk,
                                tag_id=Tag.objects.get(code=code).pk, cadence_days=days)
    elder = household(w, w.grid_a1, "吴城村一组", "张桂兰", make_id(dt.date(1940, 3, 3), 42), no="15")
    _tag("elder_alone", resident=Resident.dangerously_unscoped.get(household=elder), start=dt.date(2026, 3,
                                                                                                   2))  # due 3-9
    today = household(w, w.grid_a1, "吴城村一组", "王伟", make_id(dt.date(1975, 4, 12), 31), no="12")
    _tag("dibao", household=today, start=dt.date(2026, 2, 14))  # due 3-16
    soon = household(w, w.grid_a1, "吴城村一组", "李梅", make_id(dt.date(1982, 9, 9), 22), no="3")
    _tag("hardship", household=soon, start=dt.date(2026, 1, 17))  # due 3-18
    later = household(w, w.grid_a1, "吴城村一组", "王伟民", make_id(dt.date(1960, 1, 5), 51), no="14")
    _tag("dibao", household=later, start=dt.date(2026, 3, 2))  # due 4-1
    a2 = household(w, w.grid_a2, "吴城村二组", "赵刚", make_id(dt.date(1941, 2, 2), 71), no="8")
    _tag("elder_alone", resident=Resident.dangerously_unscoped.get(household=a2), start=dt.date(2026, 3, 1))
    c1 = household(w, w.grid_c1, "驼峰村", "孙强", make_id(dt.date(1970, 7, 7), 91, "140226"), no="1")
    _tag("hardship", household=c1, start=dt.date(2026, 1, 10))  # due 3-11


def _cases(w: World) -> dict[str, Case]:
    moment = [T0]

    def tick() -> dt.datetime:
        moment[0] += dt.timedelta(minutes=10)
        return moment[0]

    def report(title: str, actor: Any = None, unit: Any = None) -> Case:
        return case_report(actor=actor or w.wang_fang, now=tick(), title=title, description=f"{title}，请尽快处理。",
                           category_code="sanitation", channel="field", unit_id=(unit or w.grid_a1).pk).case

    def act(case: Case, action: str, actor: Any, **params: Any) -> Case:
        return case_act(actor=actor, now=tick(), case_id=case.pk, action=action, **params)

    cases = {"over": report("村口垃圾堆放"), "soon": report("路灯不亮"), "later": report("水渠堵塞")}
    town = act(report("桥面裂缝"), "accept", w.zhao_lei)
    town = act(act(town, "escalate", w.zhao_lei), "escalate", w.li_qiang)
    cases["town"] = town
    dept = act(report("噪音扰民"), "accept", w.zhao_lei)
    dept = act(act(dept, "escalate", w.zhao_lei), "escalate", w.li_qiang)
    cases["dept"] = act(dept, "dispatch", w.zhang_wei, department_id=w.department.pk)
    cases["c1"] = report("驼峰村道路塌陷", actor=w.sun_li, unit=w.grid_c1)
    due = {"over": NOW - DAY, "soon": NOW + dt.timedelta(hours=10), "later": NOW + 10 * DAY,
           "town": NOW + 10 * DAY, "dept": NOW - dt.timedelta(hours=2), "c1": NOW - DAY}
    for name, when in due.items():
        Case.dangerously_unscoped.filter(pk=cases[name].pk).update(resolve_due=when)
    return cases


def _duty(w: World) -> None:
    """Named to 王芳: one past its time, one due this afternoon, one next week; to A2 (钱多's grid): one today."""
    for title, due in (("核对低保户家庭收入", NOW - DAY), ("上报防汛责任人", NOW + dt.timedelta(hours=3)),
                       ("走访独居老人", NOW + 5 * DAY)):
        duty_services.duty_list_issue(actor=w.zhang_wei, now=T0, unit_id=w.township.pk, title=title,
                                      due_at=due, worker_ids=[w.wang_fang.pk])
    duty_services.duty_list_issue(actor=w.zhang_wei, now=T0, unit_id=w.township.pk, title="清理河道垃圾",
                                  due_at=NOW + dt.timedelta(hours=5), target_unit_ids=[w.grid_a2.pk])


def _mediation(w: World) -> User:
    xu = user_create(actor=None, now=T0, username="xuxiuying", full_name="徐秀英", password=None)
    grant_create(actor=None, now=T0, user=xu, role_code="mediator", unit=w.township)
    ma = user_create(actor=None, now=T0, username="mahong", full_name="马红", password=None)
    grant_create(actor=None, now=T0, user=ma, role_code="mediator", unit=w.sibling_township)
    parties = [{"role": "applicant", "name": "张建国", "phone": "13812345678", "id_number": ""},
               {"role": "respondent", "name": "李卫东", "phone": "", "id_number": ""}]
    common = {"summary": "两户因院墙位置发生争执。", "dispute_type": "land", "source": "grid", "mode": "people",
              "level": "township", "parties": parties}
    a1 = mediation_services.mediation_register(actor=None, now=T0, presiding_id=xu.pk, title="宅基地边界纠纷",
                                               unit_id=w.grid_a1.pk, **common)
    MediationCase.dangerously_unscoped.filter(pk=a1.pk).update(due_at=NOW - DAY)
    mediation_services.mediation_register(actor=None, now=NOW - DAY, presiding_id=ma.pk, title="驼峰村用水纠纷",
                                          unit_id=w.grid_c1.pk, **common)
    return xu


def _inbox(w: World) -> None:
    """Whatever the steps above sent is read; then 王芳 has two new messages (and one read), 孙丽 one."""
    InboxMessage.objects.filter(read_at__isnull=True).update(read_at=T0)
    for user, read in ((w.wang_fang, None), (w.wang_fang, None), (w.wang_fang, NOW), (w.sun_li, None)):
        InboxMessage.objects.create(user=user, topic="case.assigned", title="新的待办事件", created_at=NOW - DAY,
                                    read_at=read)


def fill(w: World) -> Filled:
    _visits(w)
    cases = _cases(w)
    _duty(w)
    xu = _mediation(w)
    _inbox(w)
    return Filled(cases=cases, mediator=xu)
