"""Must-visit rules (五必访) kept by the county office, the due list they make, and visit campaigns."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.scope import scope_for
from gridgov.audit.models import AuditEvent
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.residents.models import Tag
from gridgov.visits import selectors, services
from gridgov.visits.models import Visit, VisitCampaign, VisitRule
from tests.visits.conftest import NOW
from tests.world import T0

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 16)


def tag(code: str) -> int:
    return Tag.objects.get(code=code).pk


def test_the_county_office_keeps_the_rules_with_an_audit_row_each(vw):
    w = vw.w
    rule = VisitRule.dangerously_unscoped.get(unit=w.county, tag__code="elder_alone")
    assert rule.cadence_days == 7
    services.rule_update(actor=w.chen_jing, now=NOW, rule_id=rule.pk, cadence_days="10", expected_version=1)
    rule.refresh_from_db()
    assert (rule.cadence_days, rule.version) == (10, 2)
    row = AuditEvent.objects.filter(action="visit_rule.update").latest("id")
    assert row.detail == {"tag": "elder_alone", "changes": {"cadence_days": [7, 10]}}
    assert AuditEvent.objects.filter(action="visit_rule.create").count() == 3


@pytest.mark.parametrize(("raw", "words"), [("", "请填写"), ("两周", "整数"), ("0", "1 到 366"), ("400", "1 到 366")])
def test_cadence_is_checked_in_chinese(vw, raw, words):
    before = VisitRule.dangerously_unscoped.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.rule_set(actor=vw.w.chen_jing, now=NOW, unit_id=vw.w.township.pk, tag_id=tag("veteran"),
                          cadence_days=raw)
    assert words in exc.value.message and exc.value.field == "cadence_days"
    assert (VisitRule.dangerously_unscoped.count(), AuditEvent.objects.count()) == before


def test_only_the_catalogue_keepers_edit_rules(vw):
    w = vw.w
    with pytest.raises(PermissionDenied):
        services.rule_set(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, tag_id=tag("veteran"), cadence_days=30)
    with pytest.raises(PermissionDenied):
        services.rule_set(actor=w.wang_fang, now=NOW, unit_id=w.grid_a1.pk, tag_id=tag("veteran"), cadence_days=30)
    rule = VisitRule.dangerously_unscoped.get(unit=w.county, tag__code="dibao")
    with pytest.raises(NotFound):
        services.rule_update(actor=w.liu_yang, now=NOW, rule_id=rule.pk, cadence_days=5)
    with pytest.raises(ValidationFailed):
        services.rule_update(actor=w.chen_jing, now=NOW, rule_id=rule.pk, cadence_days="-1")


def test_the_deepest_rule_decides_and_a_retired_one_switches_the_group_off(vw):
    w = vw.w
    # The township wants its 低保户 visited every 14 days; 东坊村… stays with the county's 30.
    services.rule_set(actor=w.chen_jing, now=NOW, unit_id=w.township.pk, tag_id=tag("dibao"), cadence_days=14)
    book = selectors.RuleBook([w.grid_a1.path, w.grid_c1.path])
    assert book.rule_for(w.grid_a1.path, tag("dibao")).cadence_days == 14
    assert book.rule_for(w.grid_c1.path, tag("dibao")).cadence_days == 30
    township_rule = VisitRule.dangerously_unscoped.get(unit=w.township, tag__code="dibao")
    services.rule_update(actor=w.chen_jing, now=NOW, rule_id=township_rule.pk, is_active=False)
    book = selectors.RuleBook([w.grid_a1.path])
    assert book.rule_for(w.grid_a1.path, tag("dibao")) is None


def test_rules_from_the_catalogue(vw):
    w = vw.w
    made = services.rules_from_catalogue(actor=w.chen_jing, now=NOW, unit_id=w.township.pk)
    assert {r.tag.code: r.cadence_days for r in made}["elder_alone"] == 7
    assert len(made) == Tag.objects.filter(is_active=True, visit_cadence_days__isnull=False).count()
    assert services.rules_from_catalogue(actor=w.chen_jing, now=NOW, unit_id=w.township.pk) == []


def test_the_due_list_puts_the_most_overdue_first(vw):
    w = vw.w
    # 张桂兰 lives alone (7 days) since 03-02, never visited → overdue since 03-09 (7 days late on 03-16).
    # 王伟's household: 低保户 (30 days) since 03-02 → due 04-01: not listed unless "all".
    vw.record(household=vw.a1, now=NOW)
    rows, left = selectors.due_list(scope=scope_for(w.wang_fang), today=TODAY, user_id=w.wang_fang.pk)
    assert [r.household.pk for r in rows] == [vw.a1_elder.pk] and left == 0
    assert rows[0].days_late == 7 and rows[0].overdue and rows[0].groups == ["独居老人"]
    everything, _ = selectors.due_list(scope=scope_for(w.wang_fang), today=TODAY, include_later=True)
    assert [r.household.pk for r in everything] == [vw.a1_elder.pk, vw.a1.pk]
    # A sensitive group (低保户) is named only to those who may see sensitive tags.
    assert everything[1].groups == ["重点户"]
    secretary, _ = selectors.due_list(scope=scope_for(w.li_qiang), today=TODAY, include_later=True)
    assert {tuple(r.groups) for r in secretary} >= {("低保户",), ("独居老人",)}
    # After a visit today the elder is no longer due.
    vw.record(household=vw.a1_elder)
    rows, _ = selectors.due_list(scope=scope_for(w.wang_fang), today=TODAY)
    assert rows == []


def test_the_due_list_of_another_grid_is_its_own(vw):
    rows, _ = selectors.due_list(scope=scope_for(vw.w.qian_duo), today=TODAY, include_later=True)
    assert [r.household.pk for r in rows] == [vw.a2.pk]
    assert selectors.due_list(scope=scope_for(vw.w.liu_yang), today=TODAY) == ([], 0)


def test_a_campaign_and_its_progress(vw):
    w = vw.w
    c = services.campaign_create(actor=w.li_qiang, now=NOW, unit_id=w.village.pk, name="2026年第一季度集中走访",
                                 starts_on="2026-03-10", ends_on="2026-03-31")
    assert AuditEvent.objects.filter(action="visit_campaign.create", object_id=str(c.pk)).exists()
    visit = vw.record(household=vw.a1, kind="campaign")
    assert visit.campaign_id == c.pk
    vw.record(household=vw.a2, actor=w.qian_duo, kind="phone")
    progress = selectors.campaign_progress(scope=scope_for(w.li_qiang), campaign=c)
    assert (progress.covered, progress.visited) == (4, 2)
    assert {h.pk for h in progress.not_visited} == {vw.a1_elder.pk, vw.a1_plain.pk}
    # 钱多 sees the village's campaign, with the progress of his own grid only.
    mine = selectors.campaign_progress(scope=scope_for(w.qian_duo), campaign=c)
    assert (mine.covered, mine.visited) == (1, 1)
    must = services.campaign_create(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, name="五必访对象走访",
                                    starts_on="2026-03-01", ends_on="2026-03-31",
                                    covers=VisitCampaign.Covers.MUST_VISIT)
    assert selectors.campaign_progress(scope=scope_for(w.zhang_wei), campaign=must).covered == 3


@pytest.mark.parametrize(("kw", "words"), [
    ({"name": ""}, "名称"), ({"ends_on": "2026-03-01"}, "不能早于"), ({"ends_on": "2026-08-01"}, "92 天"),
    ({"starts_on": "三月"}, "格式"), ({"covers": "some"}, "走访对象"),
])
def test_campaign_input_is_checked(vw, kw, words):
    data = {"unit_id": vw.w.village.pk, "name": "集中走访", "starts_on": "2026-03-10", "ends_on": "2026-03-31"} | kw
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(actor=vw.w.li_qiang, now=NOW, **data)
    assert words in exc.value.message
    assert not VisitCampaign.dangerously_unscoped.exists()


def test_grid_workers_do_not_call_campaigns(vw):
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=vw.w.wang_fang, now=NOW, unit_id=vw.w.grid_a1.pk, name="集中走访",
                                 starts_on="2026-03-10", ends_on="2026-03-31")
    with pytest.raises(ValidationFailed):
        services.campaign_create(actor=vw.w.sun_li, now=NOW, unit_id=vw.w.village.pk, name="集中走访",
                                 starts_on="2026-03-10", ends_on="2026-03-31")
    assert not Visit.dangerously_unscoped.exists() and T0 < NOW
