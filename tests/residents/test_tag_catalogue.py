"""The key-group catalogue (重点人群目录): kept by the county office (category.manage, as the case
categories), Chinese validation, audited, nothing half written; retiring and sensitivity changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.residents.key_groups import tag_create, tag_update
from gridgov.residents.models import HouseholdEvent, Tag
from gridgov.residents.tags import tag_assign, tag_end
from tests.world import T0

pytestmark = pytest.mark.django_db

KEEPERS = {"county_office"}


@pytest.mark.parametrize("persona", ["grid_worker", "grid_head", "village_secretary", "township_office",
                                     "county_office", "department_handler", "outsider", "system_admin",
                                     "audit_admin", "security_admin"])
def test_only_the_county_office_reaches_the_catalogue(world, login, persona):
    user = world.personas().get(persona) or {"system_admin": world.zhou_min, "audit_admin": world.wu_gang,
                                             "security_admin": world.zheng_hong}[persona]
    client = login(user)
    dibao = Tag.objects.get(code="dibao")
    expected = 200 if persona in KEEPERS else 404
    assert client.get(reverse("staff:tag_catalogue")).status_code == expected
    assert client.get(reverse("staff:tag_edit", args=[dibao.pk])).status_code == expected
    before = Tag.objects.count()
    response = client.post(reverse("staff:tag_catalogue"), {"name": "重点青少年", "applies_to": "resident",
                                                            "sensitivity": "sensitive"})
    assert response.status_code == (302 if persona in KEEPERS else 404)
    assert Tag.objects.count() == before + (1 if persona in KEEPERS else 0)
    listing = client.get(reverse("staff:household_list"))
    if listing.status_code == 200:
        assert (reverse("staff:tag_catalogue") in listing.content.decode()) == (persona in KEEPERS)


def test_missing_tag_looks_like_any_404(world, login):
    client = login(world.chen_jing)
    assert client.get(reverse("staff:tag_edit", args=[987654])).status_code == 404


def test_add_a_tag_with_chinese_validation_and_audit(world, login):
    client = login(world.chen_jing)
    url = reverse("staff:tag_catalogue")
    page = client.get(url).content.decode()
    assert "低保户" in page and "上访户" in page  # the keeper sees sensitive tags too
    before = (Tag.objects.count(), AuditEvent.objects.count())
    for data, message in [
        ({"name": "", "applies_to": "household", "sensitivity": "normal"}, "请填写标签名称。"),
        ({"name": "低保户", "applies_to": "household", "sensitivity": "normal"}, "已有名为「低保户」的标签。"),
        ({"name": "新标签", "applies_to": "household", "sensitivity": "normal", "visit_cadence_days": "0"},
         "走访周期应在 1 到 366 天之间"),
        ({"name": "新标签", "applies_to": "household", "sensitivity": "normal", "visit_cadence_days": "两周"},
         "走访周期应为天数"),
        ({"name": "新标签", "applies_to": "household", "sensitivity": "normal", "code": "Bad Code"},
         "标签代码只能用小写字母"),
        ({"name": "新标签", "applies_to": "household", "sensitivity": "normal", "code": "dibao"},
         "标签代码「dibao」已被使用。"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200 and message in response.content.decode(), message
    assert (Tag.objects.count(), AuditEvent.objects.count()) == before  # nothing half written
    ok = client.post(url, {"name": "重点青少年", "applies_to": "resident", "sensitivity": "sensitive",
                           "visit_cadence_days": "14", "code": "key_youth"})
    assert ok.status_code == 302
    tag = Tag.objects.get(code="key_youth")
    assert (tag.name, tag.applies_to, tag.sensitivity, tag.visit_cadence_days, tag.is_active) == (
        "重点青少年", "resident", "sensitive", 14, True)
    event = AuditEvent.objects.get(action="tag.catalogue_create")
    assert event.actor == world.chen_jing and event.role == "county_office" and event.detail["code"] == "key_youth"
    # Without a code one is made up; the sort order puts the new tag last.
    client.post(url, {"name": "困境儿童", "applies_to": "resident", "sensitivity": "sensitive"})
    made = Tag.objects.get(name="困境儿童")
    assert made.code.startswith("tag_") and made.sort_order > tag.sort_order
    # The new tag can be used at once, and only by those who may see sensitive tags.
    with pytest.raises(PermissionDenied):
        tag_assign(actor=world.wang_fang, now=T0, tag_code="key_youth",
                            resident_id=_someone(world).pk)


def _someone(world):  # type: ignore[no-untyped-def]
    import datetime as dt

    from tests.residents.conftest import household, make_id

    h = household(world, world.grid_a1, "吴城村一组", "刘备", make_id(dt.date(1980, 1, 1), 77))
    return h.members.get()


def test_edit_retire_and_restore(world, login):
    client = login(world.chen_jing)
    hardship = Tag.objects.get(code="hardship")
    url = reverse("staff:tag_edit", args=[hardship.pk])
    page = client.get(url).content.decode()
    assert 'value="困难户"' in page
    bad = client.post(url, {"name": "困难户", "applies_to": "household", "sensitivity": "normal",
                            "visit_cadence_days": "999", "sort_order": "50"})
    assert "走访周期应在 1 到 366 天之间" in bad.content.decode()
    assert Tag.objects.get(pk=hardship.pk).visit_cadence_days == 60
    assert client.post(url, {"name": "生活困难户", "applies_to": "household", "sensitivity": "normal",
                             "visit_cadence_days": "", "sort_order": "55"}).status_code == 302
    hardship.refresh_from_db()
    assert (hardship.name, hardship.visit_cadence_days, hardship.sort_order) == ("生活困难户", None, 55)
    audit = AuditEvent.objects.get(action="tag.catalogue_update")
    assert set(audit.detail["changes"]) == {"name", "visit_cadence_days", "sort_order"}
    # Retire: no new uses, and it leaves the search filter; restoring brings it back.
    assert client.post(url, {"active": "0"}).status_code == 302
    assert not Tag.objects.get(pk=hardship.pk).is_active
    assert AuditEvent.objects.filter(action="tag.catalogue_retire").count() == 1
    h = _someone(world).household
    with pytest.raises(ValidationFailed, match="请选择有效的标签"):
        tag_assign(actor=world.zhao_lei, now=T0, tag_code="hardship", household_id=h.pk)
    listing = login(world.zhao_lei).get(reverse("staff:household_list")).content.decode()
    assert "生活困难户" not in listing
    catalogue = client.get(reverse("staff:tag_catalogue")).content.decode()
    assert "生活困难户" in catalogue and "已停用" in catalogue
    client.post(url, {"active": "1"})
    assert tag_assign(actor=world.zhao_lei, now=T0, tag_code="hardship", household_id=h.pk)


def test_applies_to_is_fixed_once_used(world, login):
    h = _someone(world).household
    tag_assign(actor=None, now=T0, tag_code="hardship", household_id=h.pk)
    tag = Tag.objects.get(code="hardship")
    response = login(world.chen_jing).post(reverse("staff:tag_edit", args=[tag.pk]), {
        "name": tag.name, "applies_to": "resident", "sensitivity": "normal", "sort_order": tag.sort_order})
    assert "不能再改适用对象" in response.content.decode()
    assert Tag.objects.get(pk=tag.pk).applies_to == "household"


def test_making_a_tag_sensitive_hides_it_and_its_history_from_a_grid_worker(world, login):
    h = _someone(world).household
    tag_assign(actor=None, now=T0, tag_code="hardship", household_id=h.pk)
    worker = login(world.wang_fang)
    detail = reverse("staff:household_detail", args=[h.pk])
    assert "困难户" in worker.get(detail).content.decode()
    tag = Tag.objects.get(code="hardship")
    tag_update(actor=world.chen_jing, now=T0, tag_id=tag.pk, sensitivity="sensitive")
    assert HouseholdEvent.dangerously_unscoped.filter(household=h, action="tagged").get().sensitive
    assert "困难户" not in worker.get(detail).content.decode()
    assert "困难户" in login(world.zhao_lei).get(detail).content.decode()
    assert worker.get(reverse("staff:household_list"), {"tag": "hardship"}).context["page"].rows == []


def test_the_service_refuses_everyone_but_the_keeper(world):
    before = Tag.objects.count()
    for user in (world.zhang_wei, world.zhou_min, world.li_qiang):
        with pytest.raises(PermissionDenied, match="只有县网格办"):
            tag_create(actor=user, now=T0, name="测试", applies_to="household")
        with pytest.raises(PermissionDenied):
            tag_update(actor=user, now=T0, tag_id=Tag.objects.get(code="dibao").pk, is_active=False)
    assert Tag.objects.count() == before and Tag.objects.get(code="dibao").is_active


def test_household_page_shows_tag_dates_and_who_set_them(world, ledger, login):
    import datetime as dt

    tag_assign(actor=world.zhao_lei, now=T0, tag_code="veteran", resident_id=ledger.wang_wei.pk,
                        start_date=dt.date(2025, 5, 1))
    a = tag_assign(actor=world.zhao_lei, now=T0, tag_code="dibao", household_id=ledger.a1.pk,
                            start_date=dt.date(2025, 1, 1))
    tag_end(actor=world.zhao_lei, now=T0, assignment_id=a.pk, end_date=dt.date(2026, 2, 1))
    head = login(world.zhao_lei).get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "王伟 · 2025-05-01 至 今" in head and "赵磊设置" in head
    assert "2025-01-01 至 2026-02-01" in head  # the ended 低保户 tag, for a role that may see it
    worker = login(world.wang_fang).get(reverse("staff:household_detail", args=[ledger.a1.pk])).content.decode()
    assert "2025-05-01 至 今" in worker and "2026-02-01" not in worker and "低保户" not in worker
