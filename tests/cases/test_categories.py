from __future__ import annotations

import pytest

from gridgov.cases.categories import category_update
from gridgov.cases.models import Category
from gridgov.core.errors import PermissionDenied, ValidationFailed
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_seeded_tree_has_the_issue_categories_and_defaults(kit):
    names = set(Category.objects.values_list("name", flat=True))
    assert {"民生服务", "矛盾纠纷", "安全隐患", "环境卫生", "违法建设", "治安", "疫情防控", "劳动保障"} <= names
    hazard = Category.objects.get(code="hazard")
    assert hazard.on_site and hazard.policy("emergency") == {"respond_hours": 2, "resolve_hours": 24}
    assert hazard.policy("complex")["resolve_days"] == 15
    assert Category.objects.get(code="dispute_land").parent.code == "dispute"


def test_county_office_edits_deadlines_and_new_cases_follow(kit):
    w = kit.world
    cat = Category.objects.get(code="sanitation")
    category_update(actor=w.chen_jing, now=T0, category_id=cat.pk,
                    deadlines={**cat.deadlines, "ordinary": {"respond_days": 1, "resolve_days": 2}})
    c = kit.report()
    assert (c.resolve_due - c.created_at).days <= 4
    with pytest.raises(PermissionDenied):
        category_update(actor=w.zhang_wei, now=T0, category_id=cat.pk, on_site=True)
    with pytest.raises(ValidationFailed):
        category_update(actor=w.chen_jing, now=T0, category_id=cat.pk, deadlines={"ordinary": {"resolve_days": 0}})
    with pytest.raises(ValidationFailed):
        category_update(actor=w.chen_jing, now=T0, category_id=cat.pk, max_extension_days=365)
