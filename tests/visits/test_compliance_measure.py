"""The visit compliance measure (走访达标率, docs/measures.md) on a small fixed world, computed by hand.

Period 2026-03-01 … 2026-03-31, read on 2026-04-10, so the evaluation day E is 2026-03-31.
Rules at the county: 独居老人 every 7 days, 低保户 every 30, 困难户 every 60.

| household (吴城村) | groups on E (entry) | cadence | first deadline < E? | last visit ≤ E | compliant |
|---|---|---|---|---|---|
| H1 | 独居老人 member (03-02) | 7 | 03-09 yes | 03-24 = E − 7 (boundary) | yes |
| H2 | 低保户 (01-01) | 30 | yes | 02-28 = E − 31 | no |
| H3 | 困难户 (01-01) + 独居老人 (03-02) | 7 (shortest; entry 03-02) | 03-09 yes | 03-23 = E − 8 | no |
| H4 | 低保户 (03-20, mid-period) | 30 | 04-19 no → left out | — | — |
| H5 | none | — | left out | — | — |
| H7 | 低保户 (01-01) ended 03-31 | not in a group on E | left out | — | — |
| H8 | 低保户 (01-01) | 30 | yes | none (one visit on 04-05, after E) | no |
| C1 (驼峰乡) | 低保户 | outside the unit | left out | — | — |

→ 1 of 4 = 25.0%. 东坊村 has no must-visit household → "—".
"""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.core.clock import LOCAL_TZ
from gridgov.insights.measures import Period
from gridgov.insights.visit_measures import visit_compliance
from gridgov.residents.models import Resident, Tag, TagAssignment
from gridgov.residents.tags import tag_end
from gridgov.visits import services
from gridgov.visits.models import Visit
from tests.residents.conftest import household, make_id
from tests.visits.conftest import tag_on
from tests.world import T0

pytestmark = pytest.mark.django_db

PERIOD = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
TODAY = dt.date(2026, 4, 10)


def visit(h, day: dt.date, worker) -> None:  # type: ignore[no-untyped-def]
    Visit.dangerously_unscoped.create(household=h, unit=h.unit, unit_path=h.unit.path, visitor=worker, kind="home",
                          visited_at=dt.datetime.combine(day, dt.time(16, 30), tzinfo=LOCAL_TZ), created_at=T0)


@pytest.fixture
def fixed(world):  # type: ignore[no-untyped-def]
    for code, days in (("dibao", 30), ("elder_alone", 7), ("hardship", 60)):
        services.rule_set(actor=world.chen_jing, now=T0, unit_id=world.county.pk,
                          tag_id=Tag.objects.get(code=code).pk, cadence_days=days)
    n = iter(range(100, 200))

    def h(unit, name):  # type: ignore[no-untyped-def]
        return household(world, unit, "吴城村", name, make_id(dt.date(1950, 1, 1), next(n)), no=str(next(n)))

    h1, h2, h3, h4, _h5, h7, h8 = (h(world.grid_a1, name) for name in ("张一", "张二", "张三", "张四", "张五", "张七",
                                                                     "张八"))
    c1 = h(world.grid_c1, "外乡户")
    tag_on("elder_alone", resident=Resident.dangerously_unscoped.get(household=h1), start=dt.date(2026, 3, 2))
    tag_on("dibao", household=h2, start=dt.date(2026, 1, 1))
    tag_on("hardship", household=h3, start=dt.date(2026, 1, 1))
    tag_on("elder_alone", resident=Resident.dangerously_unscoped.get(household=h3), start=dt.date(2026, 3, 2))
    tag_on("dibao", household=h4, start=dt.date(2026, 3, 20))
    tag_on("dibao", household=h7, start=dt.date(2026, 1, 1))
    # The tag of H7 ends on E itself: from that day on H7 is not in the group.
    tag_end(actor=None, now=T0 + dt.timedelta(days=40),
                   assignment_id=TagAssignment.dangerously_unscoped.get(household=h7).pk, end_date=dt.date(2026, 3, 31))
    tag_on("dibao", household=h8, start=dt.date(2026, 1, 1))
    tag_on("dibao", household=c1, start=dt.date(2026, 1, 1))
    w = world.wang_fang
    visit(h1, dt.date(2026, 3, 24), w)
    visit(h1, dt.date(2026, 3, 10), w)
    visit(h2, dt.date(2026, 2, 28), w)
    visit(h3, dt.date(2026, 3, 23), w)
    visit(h8, dt.date(2026, 4, 5), w)
    visit(h7, dt.date(2026, 3, 30), w)
    return world


def test_hand_computed_compliance(fixed):
    result = visit_compliance(unit=fixed.village, period=PERIOD, today=TODAY)
    assert (result.as_of, result.households, result.compliant) == (dt.date(2026, 3, 31), 4, 1)
    assert result.value == 0.25 and result.text == "25.0%" and result.parts == "1/4 户"


def test_the_boundary_day_counts_and_the_day_before_does_not(fixed):
    # Read one day later (E = 04-01): H1's visit of 03-24 is now 8 days old → late; nobody compliant.
    later = visit_compliance(unit=fixed.village, period=Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
                             today=TODAY)
    assert (later.households, later.compliant) == (4, 0)


def test_no_must_visit_household_reads_as_a_dash(fixed):
    result = visit_compliance(unit=fixed.village_b, period=PERIOD, today=TODAY)
    assert (result.households, result.value, result.text) == (0, None, "—")


def test_an_unfinished_period_is_read_today(fixed):
    result = visit_compliance(unit=fixed.village, period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
                              today=dt.date(2026, 3, 25))
    # E = 03-25: H1 (visited 03-24) and H3 (03-23) are within 7 days; H2 (02-28, 30) within 30 days;
    # H8 (since 01-01, never visited by then) is late; H7's tag is still on (ends 03-31): since 01-01, no
    # visit before 03-30 → late. H4 entered 03-20 → not yet due.
    assert (result.households, result.compliant) == (5, 3)


def test_the_dashboard_shows_it_with_its_definition(fixed, login):
    page = login(fixed.zhang_wei).get("/dashboard/", {"unit": fixed.village.pk, "start": "2026-03-01",
                                                       "end": "2026-03-31"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "走访达标率" in text and "最近一次走访距统计日不超过其走访周期" in text


def test_the_figure_is_kept_per_unit_and_day_when_the_dashboard_keeps_figures(fixed, settings,
                                                                               django_assert_num_queries):
    from django.core.cache import cache

    settings.GRIDGOV_INSIGHTS_CACHE_SECONDS = 60
    cache.clear()
    first = visit_compliance(unit=fixed.village, period=PERIOD, today=TODAY)
    with django_assert_num_queries(0):
        again = visit_compliance(unit=fixed.village, period=PERIOD, today=TODAY)
    assert (again.households, again.compliant) == (first.households, first.compliant) == (4, 1)
    other = visit_compliance(unit=fixed.village_b, period=PERIOD, today=TODAY)
    assert other.households == 0  # another unit is its own figure
    cache.clear()
