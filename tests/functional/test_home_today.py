"""The home page (今日工作) with the named personas: each sees their own figures for today and nothing of
anyone else's, every figure is the length of the list it links to, and the page reads a fixed handful of
rows whatever the data (docs/architecture.md: query counts are asserted, never timings)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.access.scope import scope_for
from gridgov.cases import queue_counts
from gridgov.cases import selectors as case_selectors
from gridgov.insights import today as today_module
from gridgov.notify.models import InboxMessage
from gridgov.residents.models import Resident
from gridgov.units.models import Unit
from gridgov.visits import selectors as visit_selectors
from gridgov.workforce import selectors as duty_selectors
from tests.residents.conftest import household, make_id
from tests.today_world import DAY, EXPECTED, NOW, _tag, fill
from tests.world import T0

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r'<a class="figure[^"]*" href="([^"]+)" data-figure="(\w+)"><strong>([^<]+)</strong>')
PARTS = {"cases": ("todo", "due_soon", "overdue"), "visits": ("visits_overdue", "visits_today", "visits_soon"),
         "duty": ("duty_overdue", "duty_today", "duty_open"),
         "mediation": ("mediation_accepted", "mediation_mediating", "mediation_overdue")}


@pytest.fixture
def filled(world, monkeypatch):  # type: ignore[no-untyped-def]
    for view in ("views", "mediation", "cases"):
        monkeypatch.setattr(f"gridgov.interfaces.staff.{view}.now", lambda: NOW)
    return fill(world)


def figures(html: str) -> dict[str, tuple[str, str]]:
    """data-figure → (the number shown, where it links)."""
    return {name: (value, href.replace("&amp;", "&")) for href, name, value in FIGURE.findall(html)}


def home(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_sees_their_own_figures_and_no_one_elses(world, filled, login, persona):
    html = home(login(world.personas()[persona]))
    shown = figures(html)
    expected = EXPECTED[persona]
    want: dict[str, str] = {}
    for part, names in PARTS.items():
        if expected[part] is None:
            assert not any(n in shown for n in names), (part, shown)
        else:
            want.update({n: str(v) for n, v in zip(names, expected[part], strict=True)})
    assert {n: v for n, (v, _) in shown.items()} == want
    unread = re.search(r"未读消息 <strong>(\d+)</strong> 条", html)
    assert (int(unread.group(1)) if unread else 0) == expected["unread"]


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_every_figure_is_the_length_of_the_list_it_links_to(world, filled, login, persona):
    user = world.personas()[persona]
    client = login(user)
    shown = figures(home(client))
    scope = scope_for(user)
    if "todo" in shown:
        for queue in queue_counts.HOME_QUEUES:
            value, href = shown[queue]
            assert href == f"/cases/?queue={queue}"
            rows = case_selectors.case_queue(scope=scope, queue=queue, now=NOW)
            assert int(value) == len(rows), queue
            page = client.get(href)
            assert page.status_code == 200
    if "visits_overdue" in shown:
        rows, _ = visit_selectors.due_list(scope=scope, today=dt.date(2026, 3, 16))
        assert int(shown["visits_overdue"][0]) == sum(1 for r in rows if r.overdue)
        assert int(shown["visits_today"][0]) == sum(1 for r in rows if r.days_left == 0)
        assert int(shown["visits_soon"][0]) == sum(1 for r in rows if r.days_left > 0)
        assert {href for n, (_, href) in shown.items() if n.startswith("visits_")} == {"/visits/"}
    if "duty_open" in shown:
        assert int(shown["duty_open"][0]) == len(duty_selectors.my_items(scope=scope, user=user))
        assert shown["duty_open"][1] == "/workforce/my/"
    if "mediation_overdue" in shown:
        assert shown["mediation_overdue"][1] == "/mediation/?overdue=1"
        ledger = client.get("/mediation/?overdue=1").content.decode()
        assert ledger.count('class="case-item"') == int(shown["mediation_overdue"][0])
        for status in ("accepted", "mediating"):
            value, href = shown[f"mediation_{status}"]
            assert href == f"/mediation/?status={status}"
            assert client.get(href).content.decode().count('class="case-item"') == int(value)


def test_the_grid_worker_sees_overdue_cases_first_and_big_links(world, filled, login):
    html = home(login(world.wang_fang))
    over, soon, later = (html.index(filled.cases[n].title) for n in ("over", "soon", "later"))
    assert over < soon < later
    assert filled.cases["c1"].title not in html and filled.cases["town"].title not in html
    # The overdue one is marked as such, in words.
    line = html[html.index(filled.cases["over"].title):][:300]
    assert "已超期" in line
    quick = html[html.index('<nav class="quick"'):html.index("</nav>", html.index('<nav class="quick"'))]
    for label, href in (("我的走访", "/visits/"), ("我的待办", "/cases/?queue=todo"), ("我的任务", "/workforce/my/"),
                        ("上报事件", "/cases/new/"), ("登记走访", "/visits/new/"), ("登记纠纷", "/mediation/new/")):
        assert f'href="{href}">{label}</a>' in quick, label
    # Today's duty items: the late one first, by name.
    assert html.index("核对低保户家庭收入") < html.index("上报防汛责任人") < html.index("走访独居老人")
    assert "清理河道垃圾" not in html  # 钱多's grid's task


def test_a_department_handler_sees_the_departments_cases_only(world, filled, login):
    html = home(login(world.liu_yang))
    assert filled.cases["dept"].title in html and filled.cases["over"].title not in html
    assert "我的走访" not in html and "上报事件" not in html and "责任清单任务" not in html


@pytest.mark.parametrize("who", ["zhou_min", "wu_gang", "zheng_hong"])
def test_admins_home_pages_keep_working_without_work_figures(world, filled, login, who):
    html = home(login(getattr(world, who)))
    assert figures(html) == {}
    assert "您的职务没有待办的事件、走访或任务" in html and "我的职务" in html


def test_a_charge_larger_than_a_village_leaves_the_visit_figures_to_my_visits(world, filled, login, monkeypatch):
    monkeypatch.setattr(today_module, "VISIT_MOST", 3)  # the township has more households than that
    html = home(login(world.zhang_wei))
    assert "visits_overdue" not in figures(html)
    assert '该走访的户请在 <a href="/visits/">我的走访</a> 查看' in html
    assert "visits_overdue" not in figures(home(login(world.wang_fang)))  # A1 has four: above 3 too
    monkeypatch.setattr(today_module, "VISIT_MOST", 4)
    assert "visits_overdue" in figures(home(login(world.wang_fang)))


def test_counts_stop_at_the_cap(world, filled, login, monkeypatch):
    monkeypatch.setattr(today_module, "CASE_CAP", 2)
    monkeypatch.setattr(today_module, "UNREAD_CAP", 1)
    shown = figures(html := home(login(world.wang_fang)))
    assert shown["todo"][0] == "2+" and shown["due_soon"][0] == "1" and shown["overdue"][0] == "2"
    assert "未读消息 <strong>1+</strong> 条" in html


def _grow(world, filled, n: int) -> None:  # type: ignore[no-untyped-def]
    """n more of everything on the grid worker's and the offices' pages."""
    from gridgov.cases.intake import case_report
    from gridgov.mediation.services import mediation_register
    from gridgov.workforce.services import duty_list_issue

    for i in range(n):
        case_report(actor=world.wang_fang, now=T0 + dt.timedelta(hours=i + 20), title=f"新增事件{i}",
                    description="路边垃圾无人清运。", category_code="sanitation", channel="field",
                    unit_id=world.grid_a1.pk)
        name = "张" + "甲乙丙丁戊己庚辛壬癸子丑寅卯"[i]
        h = household(world, world.grid_a1, "吴城村三组", name, make_id(dt.date(1939, 1, 1 + i), 60 + i),
                      no=str(100 + i))
        _tag("elder_alone", resident=Resident.dangerously_unscoped.get(household=h), start=dt.date(2026, 2, 1 + i))
        duty_list_issue(actor=world.zhang_wei, now=T0, unit_id=world.township.pk, title=f"新增任务{i}",
                        due_at=NOW + i * DAY, worker_ids=[world.wang_fang.pk], target_unit_ids=[world.grid_a1.pk])
        mediation_register(actor=None, now=T0, presiding_id=filled.mediator.pk, title=f"新增纠纷{i}",
                           summary="邻里纠纷。", dispute_type="neighbour", source="grid", mode="people",
                           level="township", unit_id=world.grid_a1.pk,
                           parties=[{"role": "applicant", "name": "赵大", "phone": "", "id_number": ""},
                                    {"role": "respondent", "name": "钱二", "phone": "", "id_number": ""}])
        InboxMessage.objects.create(user=world.wang_fang, topic="case.assigned", title="新的待办", created_at=NOW)
        InboxMessage.objects.create(user=world.zhang_wei, topic="case.assigned", title="新的待办", created_at=NOW)


BUDGET = 20  # session and user, then the page's own reads (all parts shown: about 16)


@pytest.mark.parametrize("persona", ["grid_worker", "grid_head", "township_office", "county_office",
                                     "department_handler", "outsider"])
def test_the_query_count_does_not_grow_with_the_data(world, filled, login, persona):
    user = world.personas()[persona]
    client = login(user)

    def count() -> int:
        client.get("/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    before, shown_before = count(), figures(home(client))
    _grow(world, filled, 12)
    user.refresh_from_db()
    after, shown_after = count(), figures(home(client))
    assert after == before <= BUDGET, (before, after)
    if persona in ("grid_worker", "township_office"):  # their figures did grow: the page read the new rows
        assert shown_after != shown_before


def test_the_first_cases_name_their_grid(world, filled, login):
    client = login(world.wang_fang)
    html = home(client)
    section = html[html.index('id="first-cases"'):]
    section = section[:section.index("</section>")]
    lines = re.findall(r'<span class="when">([^<]*)</span>', section)
    scope = scope_for(world.wang_fang)
    rows = case_selectors.case_queue(scope=scope, queue="todo", now=NOW, limit=today_module.FIRST_CASES)
    assert rows and len(lines) == len(rows)
    for line, case in zip(lines, rows, strict=True):
        assert line.rstrip().endswith("· " + Unit.dangerously_unscoped.get(pk=case.unit_id).name), line
