"""The county office's category tree editor: add, edit, retire and restore categories with their
graded response; Chinese messages and nothing written on bad input; audited; nobody else gets in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Category
from gridgov.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

URL = reverse("staff:case_categories")


def _form(**over):
    data = {"op": "create", "name": "井盖缺失", "lowest_level": "village", "department_kind": "police",
            "max_extension_days": "5", "on_site": "on",
            "respond_emergency": "1", "resolve_emergency": "12", "respond_urgent": "1", "resolve_urgent": "2",
            "respond_ordinary": "1", "resolve_ordinary": "5", "respond_complex": "2", "resolve_complex": "10"}
    data.update(over)
    return data


def _counts():
    return Category.objects.count(), AuditEvent.objects.filter(action__startswith="case.category").count()


PERSONAS = ["wang_fang", "zhao_lei", "li_qiang", "zhang_wei", "chen_jing", "liu_yang", "sun_li",
            "zhou_min", "wu_gang", "zheng_hong"]


@pytest.mark.parametrize("who", PERSONAS)
def test_only_the_county_office_opens_and_posts_the_editor(kit, login, who):
    w = kit.world
    client = login(getattr(w, who))
    page = client.get(URL)
    nav = client.get(reverse("staff:home")).content.decode()
    if who == "chen_jing":
        assert page.status_code == 200 and "事件类别与分级响应" in page.content.decode()
        assert "环境卫生" in page.content.decode() and URL in nav
        return
    assert page.status_code == 403 and URL not in nav
    before = _counts()
    sanitation = Category.objects.get(code="sanitation")
    assert client.post(URL, _form()).status_code == 403
    assert client.post(URL, {"op": "retire", "category_id": sanitation.pk}).status_code == 403
    assert _counts() == before and Category.objects.get(code="sanitation").is_active


def test_add_a_sub_category_and_report_with_it(kit, login):
    w = kit.world
    office = login(w.chen_jing)
    hazard = Category.objects.get(code="hazard")
    r = office.post(URL, _form(parent_id=str(hazard.pk)))
    assert r.status_code == 302
    made = Category.objects.get(name="井盖缺失")
    assert made.parent == hazard and made.on_site and made.lowest_level == "village"
    assert made.department_kind == "police" and made.max_extension_days == 5
    assert made.deadlines == {"emergency": {"respond_hours": 1, "resolve_hours": 12},
                              "urgent": {"respond_days": 1, "resolve_days": 2},
                              "ordinary": {"respond_days": 1, "resolve_days": 5},
                              "complex": {"respond_days": 2, "resolve_days": 10}}
    audit = AuditEvent.objects.get(action="case.category_create")
    assert audit.actor_id == w.chen_jing.pk and audit.detail["name"] == "井盖缺失"
    case = kit.report(category=made.code)
    assert case.category == made
    assert "井盖缺失" in office.get(URL).content.decode()


@pytest.mark.parametrize(("over", "message"), [
    ({"name": ""}, "请填写类别名称"),
    ({"name": "环境卫生"}, "同一上级下已有名为「环境卫生」的类别"),
    ({"lowest_level": "planet"}, "请选择最低办结层级"),
    ({"department_kind": "nonexistent"}, "默认交办部门类别不存在"),
    ({"resolve_ordinary": "七"}, "请填写「一般」的办结时限"),
    ({"resolve_ordinary": "0"}, "「一般」的办结时限应为 1 到 60 之间的整数"),
    ({"respond_urgent": "5", "resolve_urgent": "3"}, "「较急」的响应时限不能长于办结时限"),
    ({"resolve_emergency": "800"}, "「紧急」的办结时限应为 1 到 720 之间的整数（小时）"),
    ({"max_extension_days": "99"}, "延时上限应在 0 到 60 个工作日之间"),
    ({"parent_id": "987654"}, "上级类别不存在"),
])
def test_bad_input_gives_a_chinese_message_and_writes_nothing(kit, login, over, message):
    office = login(kit.world.chen_jing)
    before = _counts()
    r = office.post(URL, _form(**over))
    assert r.status_code == 200 and message in r.content.decode()
    assert _counts() == before


def test_edit_deadlines_and_settings_is_audited_with_before_and_after(kit, login):
    w = kit.world
    office = login(w.chen_jing)
    cat = Category.objects.get(code="sanitation")
    r = office.post(URL + f"?edit={cat.pk}", _form(op="update", category_id=str(cat.pk), name="环境卫生",
                                                   lowest_level="grid", department_kind="judicial",
                                                   resolve_ordinary="3", on_site=""))
    assert r.status_code == 302
    cat.refresh_from_db()
    assert cat.deadlines["ordinary"] == {"respond_days": 1, "resolve_days": 3}
    assert cat.department_kind == "judicial" and not cat.on_site
    audit = AuditEvent.objects.get(action="case.category_update")
    assert "deadlines" in audit.detail["fields"] and audit.detail["before"]["department_kind"] == "environment"
    assert audit.detail["after"]["department_kind"] == "judicial"
    # New cases follow the new deadline: 3 working days for an ordinary case.
    c = kit.report()
    assert (c.resolve_due - c.created_at).days <= 5
    # A bad edit changes nothing.
    before = (Category.objects.get(pk=cat.pk).deadlines, _counts())
    r = office.post(URL + f"?edit={cat.pk}", _form(op="update", category_id=str(cat.pk), name="环境卫生",
                                                   resolve_complex="0"))
    assert "「复杂」的办结时限应为 1 到 60 之间的整数" in r.content.decode()
    assert (Category.objects.get(pk=cat.pk).deadlines, _counts()) == before


def test_retire_and_restore(kit, login):
    w = kit.world
    office = login(w.chen_jing)
    dispute = Category.objects.get(code="dispute")
    before = _counts()
    r = office.post(URL, {"op": "retire", "category_id": dispute.pk}, follow=True)
    assert "请先停用该大类下的子类别" in r.content.decode() and _counts() == before
    open_case = kit.report(category="dispute_land")
    for child in dispute.children.all():
        office.post(URL, {"op": "retire", "category_id": child.pk})
    office.post(URL, {"op": "retire", "category_id": dispute.pk})
    assert not Category.objects.get(pk=dispute.pk).is_active
    assert AuditEvent.objects.filter(action="case.category_retire").count() == 1 + dispute.children.count()
    # Retired: not offered at intake; cases already open carry on.
    with pytest.raises(ValidationFailed, match="事件类别不存在"):
        kit.report(category="dispute_land")
    assert kit.act(open_case, "accept", w.zhao_lei).status == "handling"
    new_page = login(w.wang_fang).get(reverse("staff:case_new")).content.decode()
    assert "土地山林纠纷" not in new_page
    # A child cannot come back before its main category.
    land = Category.objects.get(code="dispute_land")
    r = office.post(URL, {"op": "restore", "category_id": land.pk}, follow=True)
    assert "上级类别已停用" in r.content.decode()
    office.post(URL, {"op": "restore", "category_id": dispute.pk})
    office.post(URL, {"op": "restore", "category_id": land.pk})
    assert Category.objects.get(pk=land.pk).is_active
    assert kit.report(category="dispute_land").category.code == "dispute_land"
