"""The unit tree browser: township office 张伟 browses, edits, adds, re-zones and appoints staff in
吴城乡; every bad input of the foundation issue gives a Chinese message and writes nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from gridgov.access.models import Department, Grant, User
from gridgov.access.services import grant_create
from gridgov.audit.models import AuditEvent
from gridgov.core.errors import NotFound, PermissionDenied
from gridgov.units.models import Unit, UnitEvent
from tests.world import T0, square

pytestmark = pytest.mark.django_db


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def writes() -> tuple[int, int, int, int, int]:
    """Everything a unit or staff change writes; equal before and after means nothing written."""
    return (AuditEvent.objects.count(), UnitEvent.objects.count(), Unit.dangerously_unscoped.count(),
            Grant.dangerously_unscoped.count(), User.objects.count())


def edit_data(unit: Unit, **overrides: object) -> dict:
    data = {
        "expected_version": unit.version, "name": unit.name, "serial": unit.serial, "grid_type": unit.grid_type,
        "division_code": unit.division_code or "", "household_estimate": "", "themes": [],
        "boundary": json.dumps(unit.boundary) if unit.boundary else "",
    }
    data.update(overrides)
    return data


# --- browsing -----------------------------------------------------------------------

def test_township_office_browses_expands_and_searches(world, login):
    client = login(world.zhang_wei)
    tree = page(client.get(reverse("staff:unit_tree")))
    assert "吴城乡" in tree and "驼峰乡" not in tree
    children = page(client.get(reverse("staff:unit_children", args=[world.township.pk]), HTTP_HX_REQUEST="true"))
    assert "吴城村" in children and "东坊村" in children
    found = page(client.get(reverse("staff:unit_tree"), {"q": "第一网格"}))
    assert "吴城村第一网格" in found and "东坊村第一网格" in found and "驼峰村第一网格" not in found
    by_serial = page(client.get(reverse("staff:unit_tree"), {"q": "A2"}))
    assert "吴城村第二网格" in by_serial


def test_unit_detail_shows_staff_actions_and_departments(world, login):
    html = page(login(world.zhang_wei).get(reverse("staff:unit_detail", args=[world.township.pk])))
    for text in ["张伟", "乡镇网格办", "修改", "添加下级", "调整隶属", "变更记录", "添加人员", "吴城乡派出所", "刘洋"]:
        assert text in html, text


def test_unit_page_names_the_grid_level_by_the_nearest_scheme(world, login):
    """The level name read with the unit (`unit_page_get`) is the one `level_name` looks up on its own:
    the scheme set on the nearest unit above (or on the unit itself) wins, else the kind's name."""
    from gridgov.access.scope import scope_for
    from gridgov.units.models import LevelName
    from gridgov.units.selectors import level_name, unit_get, unit_page_get

    LevelName.objects.create(root=world.county, level=2, name="二级网格")
    LevelName.objects.create(root=world.county, level=3, name="三级网格")
    LevelName.objects.create(root=world.village, level=3, name="村网格")
    scope = scope_for(world.chen_jing)
    for unit_id in (world.county.pk, world.township.pk, world.village.pk, world.grid_a1.pk, world.grid_a2.pk,
                    world.sibling_village.pk):
        read = unit_page_get(scope=scope, unit_id=unit_id)
        alone = unit_get(scope=scope, unit_id=unit_id)
        assert level_name(read) == level_name(alone), unit_id
    assert level_name(unit_page_get(scope=scope, unit_id=world.village.pk)) == "二级网格"
    assert level_name(unit_page_get(scope=scope, unit_id=world.grid_a1.pk)) == "村网格"  # the village's scheme
    assert level_name(unit_page_get(scope=scope, unit_id=world.grid_a2.pk)) == "村网格"
    assert level_name(unit_page_get(scope=scope, unit_id=world.township.pk)) == world.township.kind.name  # level 1
    html = page(login(world.chen_jing).get(reverse("staff:unit_detail", args=[world.grid_a1.pk])))
    assert "<dt>层级</dt><dd>村网格</dd>" in html


def test_unit_lists_link_each_unit_its_children_and_its_revoke_form(world, login):
    """The tree's links are built once per list (not a `{% url %}` per row): each still goes to its own unit."""
    client = login(world.zhang_wei)
    html = page(client.get(reverse("staff:unit_detail", args=[world.village.pk])))
    assert f'<a href="{reverse("staff:unit_detail", args=[world.township.pk])}">吴城乡</a> ›' in html  # breadcrumb
    grids = Unit.dangerously_unscoped.filter(parent=world.village, is_active=True)
    grants = Grant.dangerously_unscoped.filter(unit=world.village, revoked_at__isnull=True)
    assert grids.count() >= 2 and grants.exists()
    for grid in grids:
        assert f'<a href="{reverse("staff:unit_detail", args=[grid.pk])}">{grid.name}</a>' in html, grid.name
    for grant in grants:
        assert f'action="{reverse("staff:grant_revoke", args=[grant.pk])}"' in html
    tree = page(client.get(reverse("staff:unit_tree")))
    assert f'hx-get="{reverse("staff:unit_children", args=[world.township.pk])}"' in tree
    children = page(client.get(reverse("staff:unit_children", args=[world.township.pk]), HTTP_HX_REQUEST="true"))
    assert f'hx-get="{reverse("staff:unit_children", args=[world.village.pk])}"' in children
    assert f'<a href="{reverse("staff:unit_detail", args=[world.village.pk])}">吴城村</a>' in children
    leaf = page(client.get(reverse("staff:unit_children", args=[world.grid_a1.pk]), HTTP_HX_REQUEST="true"))
    assert "没有下级单位" in leaf


def test_grid_worker_sees_no_edit_actions_and_cannot_open_them(world, login):
    client = login(world.wang_fang)
    html = page(client.get(reverse("staff:unit_detail", args=[world.grid_a1.pk])))
    assert "王芳" in html and "调整隶属" not in html and "添加人员" not in html and 'href="/units/' in html
    forbidden = client.get(reverse("staff:unit_edit", args=[world.grid_a1.pk]))
    assert forbidden.status_code == 403 and "没有权限" in page(forbidden)
    assert client.get(reverse("staff:unit_move", args=[world.grid_a1.pk])).status_code == 403
    assert client.get(reverse("staff:grant_add", args=[world.grid_a1.pk])).status_code == 403
    # … and pages of another grid do not exist for her
    missing = client.get(reverse("staff:unit_edit", args=[world.grid_a2.pk]))
    assert missing.status_code == 404 and "没有找到该页面或记录" in page(missing)


@pytest.mark.parametrize("url_name", ["staff:unit_edit", "staff:unit_add_child", "staff:unit_move",
                                      "staff:unit_history", "staff:grant_add"])
def test_outsider_gets_404_on_every_unit_page_of_another_township(world, login, url_name):
    client = login(world.sun_li)
    for unit in [world.township, world.village, world.grid_a1]:
        assert client.get(reverse(url_name, args=[unit.pk])).status_code == 404
        assert client.post(reverse(url_name, args=[unit.pk]), {"name": "x"}).status_code == 404
    assert client.get(reverse(url_name, args=[world.sibling_village.pk])).status_code == 200


def test_navigation_shows_only_what_roles_allow(world, login):
    worker = page(login(world.wang_fang).get("/"))
    assert "网格体系" in worker
    handler = page(login(world.liu_yang).get("/"))
    assert "网格体系" not in handler


# --- editing ------------------------------------------------------------------------

def test_edit_saves_through_the_service_with_history_and_audit(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:unit_edit", args=[world.grid_a1.pk]),
                           edit_data(world.grid_a1, name="吴城村一组网格", themes=["party_building", "emergency"],
                                     division_code="140225210201"))
    assert response.status_code == 302
    unit = Unit.dangerously_unscoped.get(pk=world.grid_a1.pk)
    assert unit.name == "吴城村一组网格" and unit.division_code == "140225210201"
    assert sorted(unit.themes.values_list("code", flat=True)) == ["emergency", "party_building"]
    assert AuditEvent.objects.filter(action="unit.update", object_id=str(unit.pk)).exists()
    history = page(client.get(reverse("staff:unit_history", args=[unit.pk])))
    assert "修改" in history and "名称" in history and "张伟" in history


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"boundary": "{not json"}, "边界不是有效的 GeoJSON 文本。"),
        ({"boundary": json.dumps({"type": "Point", "coordinates": [113, 39]})}, "边界只能是多边形"),
        ({"boundary": json.dumps({"type": "Polygon", "coordinates": [[[113, 39], [113.1, 39.1], [113.1, 39],
                                                                      [113, 39.1], [113, 39]]]})}, "边界自相交"),
        ({"division_code": "140225210000"}, "已被「吴城乡」使用"),
        ({"division_code": "12345"}, "统计用区划代码应为 12 位数字。"),
        ({"serial": "A2"}, "同一上级下已有编号为 A2 的网格"),
        ({"grid_type": "castle"}, "未知的网格类型。"),
        ({"themes": ["dragons"]}, "未知的专题网格：dragons"),
        ({"name": "  "}, "这个字段是必填项。"),
    ],
)
def test_bad_edits_give_a_chinese_error_and_write_nothing(world, login, overrides, message):
    client = login(world.zhang_wei)
    before = writes()
    response = client.post(reverse("staff:unit_edit", args=[world.grid_a1.pk]), edit_data(world.grid_a1, **overrides))
    assert response.status_code == 200
    assert message in page(response)
    assert writes() == before
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).version == world.grid_a1.version


def test_stale_edit_is_refused(world, login):
    client = login(world.zhang_wei)
    data = edit_data(world.grid_a1, name="新名称", expected_version=world.grid_a1.version - 1 or 99)
    response = client.post(reverse("staff:unit_edit", args=[world.grid_a1.pk]), data)
    assert "该单位已被他人修改，请刷新后重试。" in page(response)
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).name == "吴城村第一网格"


def test_boundary_outside_the_parent_is_saved_with_a_warning(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:unit_edit", args=[world.grid_a1.pk]),
                           edit_data(world.grid_a1, boundary=json.dumps(square(113.15, 39.15, 0.1))), follow=True)
    html = page(response)
    assert "超出上级「吴城村」的范围" in html
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).boundary["coordinates"][0][0] == [113.15, 39.15]


# --- adding a child -----------------------------------------------------------------

def test_add_child_grid(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:unit_add_child", args=[world.village_b.pk]), {
        "kind": "grid", "name": "东坊村第二网格", "serial": "B2", "grid_type": "residential", "themes": ["emergency"],
        "boundary": json.dumps(square(113.3, 39.2, 0.05)),
    })
    assert response.status_code == 302
    unit = Unit.dangerously_unscoped.get(name="东坊村第二网格")
    assert unit.parent_id == world.village_b.pk and unit.path == f"{world.village_b.path}{unit.pk}/"
    assert AuditEvent.objects.filter(action="unit.create", object_id=str(unit.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "castle"}, "未知的单位类型：castle"),
        ({"serial": "B1"}, "同一上级下已有编号为 B1 的网格"),
        ({"division_code": "140225204000"}, "已被「驼峰乡」使用"),
        ({"boundary": '{"type": "Polygon", "coordinates": [[[1, 2]]]}'}, "边界坐标格式不正确。"),
    ],
)
def test_bad_children_are_refused_and_nothing_written(world, login, overrides, message):
    client = login(world.zhang_wei)
    data = {"kind": "grid", "name": "东坊村第二网格", "serial": "", "grid_type": "", **overrides}
    before = writes()
    response = client.post(reverse("staff:unit_add_child", args=[world.village_b.pk]), data)
    assert response.status_code == 200 and message in page(response)
    assert writes() == before


# --- re-zoning ----------------------------------------------------------------------

def test_move_grid_to_another_village_of_the_township(world, login):
    client = login(world.zhang_wei)
    form = page(client.get(reverse("staff:unit_move", args=[world.grid_a2.pk])))
    assert "东坊村" in form and "驼峰村" not in form
    response = client.post(reverse("staff:unit_move", args=[world.grid_a2.pk]), {"new_parent": world.village_b.pk},
                           follow=True)
    assert "已将「吴城村第二网格」调整到「东坊村」之下。" in page(response)
    moved = Unit.dangerously_unscoped.get(pk=world.grid_a2.pk)
    assert moved.path == f"{world.village_b.path}{moved.pk}/"
    history = page(client.get(reverse("staff:unit_history", args=[moved.pk])))
    assert "从「吴城村」调整到「东坊村」" in history


def test_move_under_own_descendant_is_refused(world, login):
    client = login(world.zhang_wei)
    before = writes()
    response = client.post(reverse("staff:unit_move", args=[world.village.pk]), {"new_parent": world.grid_a1.pk})
    assert "不能把「吴城村」移到它自己或它的下级单位之下。" in page(response)
    assert writes() == before
    assert Unit.dangerously_unscoped.get(pk=world.grid_a1.pk).path == world.grid_a1.path


def test_move_out_of_scope_is_refused_like_missing(world, login):
    client = login(world.zhang_wei)
    before = writes()
    response = client.post(reverse("staff:unit_move", args=[world.grid_a2.pk]),
                           {"new_parent": world.sibling_village.pk})
    assert response.status_code == 200 and "没有找到该记录。" in page(response)
    assert writes() == before


def test_village_secretary_cannot_move_a_grid_out_of_their_village(world, login):
    client = login(world.li_qiang)
    form = page(client.get(reverse("staff:unit_move", args=[world.grid_a2.pk])))
    assert "东坊村" not in form
    before = writes()
    client.post(reverse("staff:unit_move", args=[world.grid_a2.pk]), {"new_parent": world.village_b.pk})
    assert writes() == before


# --- staff and grants ---------------------------------------------------------------

def test_appoint_an_existing_user(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:grant_add", args=[world.grid_b1.pk]), {
        "mode": "existing", "role": "grid_head", "username": "qianduo", "title": "网格长（兼）",
    })
    assert response.status_code == 302
    grant = Grant.dangerously_unscoped.get(user=world.qian_duo, unit=world.grid_b1, revoked_at__isnull=True)
    assert grant.title == "网格长（兼）" and grant.granted_by == world.zhang_wei
    assert "钱多" in page(client.get(reverse("staff:unit_detail", args=[world.grid_b1.pk])))


def test_appoint_a_new_staff_account(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:grant_add", args=[world.grid_b1.pk]), {
        "mode": "new", "role": "grid_worker_full", "username": "sunwei", "full_name": "孙伟",
        "work_phone": "0352-8123999", "password": "Dongfang-2026!",
    })
    assert response.status_code == 302
    user = User.objects.get(username="sunwei")
    assert user.must_change_password and user.check_password("Dongfang-2026!")
    assert Grant.dangerously_unscoped.filter(user=user, unit=world.grid_b1, role__code="grid_worker_full").exists()
    assert AuditEvent.objects.filter(action="account.create").exists()
    assert AuditEvent.objects.filter(action="grant.create", detail__user="sunwei").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "new", "role": "grid_worker_full", "username": "sunwei", "full_name": "孙伟", "password": "123"},
         "密码太短，至少需要 8 个字符。"),
        ({"mode": "new", "role": "grid_worker_full", "username": "wangfang", "full_name": "王芳",
          "password": "Dongfang-2026!"}, "用户名 wangfang 已存在。"),
        ({"mode": "new", "role": "grid_worker_full", "username": "sunwei", "full_name": "",
          "password": "Dongfang-2026!"}, "请填写姓名。"),
        ({"mode": "existing", "role": "grid_head", "username": "nobody"}, "没有找到该用户名的账号"),
        ({"mode": "existing", "role": "county_office", "username": "qianduo"}, "它超出了您自己的权限"),
        ({"mode": "existing", "role": "no_such_role", "username": "qianduo"}, "未知的角色：no_such_role"),
        ({"mode": "existing", "role": "department_handler", "username": "qianduo"}, "部门办理人必须指定所属部门。"),
        ({"mode": "existing", "role": "grid_head", "username": "zhaolei", "work_phone": "abc"}, "电话号码只能包含数字"),
    ],
)
def test_bad_appointments_are_refused_and_nothing_written(world, login, data, message):
    client = login(world.zhang_wei)
    before = writes()
    response = client.post(reverse("staff:grant_add", args=[world.grid_b1.pk]), data)
    assert response.status_code == 200, response
    assert message in page(response)
    assert writes() == before


def test_county_office_role_is_not_offered_to_a_township_office(world, login):
    html = page(login(world.zhang_wei).get(reverse("staff:grant_add", args=[world.grid_b1.pk])))
    assert "网格长" in html and "县网格办" not in html and "审计管理员" not in html and "系统管理员" not in html


def test_grid_worker_in_two_townships_is_refused_through_the_page(world, login):
    client = login(world.chen_jing)  # the county office can see both townships
    before = writes()
    response = client.post(reverse("staff:grant_add", args=[world.grid_c1.pk]),
                           {"mode": "existing", "role": "grid_worker_part", "username": "wangfang"})
    assert "已是「吴城乡」的网格员，不能同时在「驼峰乡」任网格员。" in page(response)
    assert writes() == before


def test_grant_outside_the_granters_scope(world, login):
    client = login(world.zhang_wei)
    before = writes()
    response = client.post(reverse("staff:grant_add", args=[world.grid_c1.pk]),
                           {"mode": "existing", "role": "grid_head", "username": "qianduo"})
    assert response.status_code == 404
    with pytest.raises(NotFound):
        grant_create(actor=world.zhang_wei, now=T0, user=world.qian_duo, role_code="grid_head", unit=world.grid_c1)
    assert writes() == before


def test_granter_cannot_hand_out_more_than_they_hold(world):
    before = writes()
    with pytest.raises(PermissionDenied):
        grant_create(actor=world.zhang_wei, now=T0, user=world.qian_duo, role_code="county_office",
                     unit=world.township)
    with pytest.raises(PermissionDenied):
        grant_create(actor=world.chen_jing, now=T0, user=world.qian_duo, role_code="audit_admin", unit=world.county)
    assert writes() == before


def test_village_secretary_may_appoint_but_not_create_accounts(world, login):
    client = login(world.li_qiang)
    html = page(client.get(reverse("staff:grant_add", args=[world.grid_a2.pk])))
    assert 'value="new"' not in html
    before = writes()
    client.post(reverse("staff:grant_add", args=[world.grid_a2.pk]), {
        "mode": "new", "role": "grid_worker_full", "username": "sunwei", "full_name": "孙伟",
        "password": "Dongfang-2026!"})
    assert writes() == before


def test_revoke_a_grant(world, login):
    grant = Grant.dangerously_unscoped.get(user=world.qian_duo, revoked_at__isnull=True)
    outsider = login(world.sun_li)
    assert outsider.post(reverse("staff:grant_revoke", args=[grant.pk])).status_code == 404
    worker = login(world.wang_fang)
    assert worker.post(reverse("staff:grant_revoke", args=[grant.pk])).status_code == 404
    client = login(world.zhang_wei)
    assert client.get(reverse("staff:grant_revoke", args=[grant.pk])).status_code == 405
    response = client.post(reverse("staff:grant_revoke", args=[grant.pk]), follow=True)
    assert "已撤销 钱多 的兼职网格员职务。" in page(response)
    assert Grant.dangerously_unscoped.get(pk=grant.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="grant.revoke", object_id=str(grant.pk)).exists()
    assert client.post(reverse("staff:grant_revoke", args=[grant.pk])).status_code == 404


# --- departments --------------------------------------------------------------------

def test_add_department_to_the_township(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:department_add", args=[world.township.pk]),
                           {"name": "吴城乡司法所", "kind": "司法所", "phone": "0352-8120000"}, follow=True)
    assert "已添加部门「吴城乡司法所」。" in page(response)
    assert Department.dangerously_unscoped.filter(unit=world.township, name="吴城乡司法所").exists()
    dup = client.post(reverse("staff:department_add", args=[world.township.pk]), {"name": "吴城乡派出所"}, follow=True)
    assert "「吴城乡」已有部门「吴城乡派出所」。" in page(dup)
    assert Department.dangerously_unscoped.filter(unit=world.township).count() == 2


def test_departments_only_at_townships_and_counties(world, login):
    client = login(world.zhang_wei)
    response = client.post(reverse("staff:department_add", args=[world.village.pk]), {"name": "村调解室"}, follow=True)
    assert "只有县、乡镇（街道）可以设置职能部门。" in page(response)
    assert not Department.dangerously_unscoped.filter(name="村调解室").exists()
    assert login(world.sun_li).post(reverse("staff:department_add", args=[world.township.pk]),
                                    {"name": "x"}).status_code == 404


def test_outsider_gets_404_on_every_staff_url_with_an_id(world, login):
    """Walks the staff URL patterns, so a page added later is covered without editing this test."""
    from django.urls import get_resolver

    from tests.architecture.test_outsider_404 import OBJECTS

    ids = {name: make(world) for name, make in OBJECTS.items()}
    ids.update(unit_id=world.village.pk, grant_id=Grant.dangerously_unscoped.get(user=world.qian_duo).pk)
    client = login(world.sun_li)
    checked = []
    resolver = get_resolver().namespace_dict["staff"][1]
    for pattern in resolver.url_patterns:
        params = list(pattern.pattern.converters)
        if not params:
            continue
        url = reverse(f"staff:{pattern.name}", kwargs={p: ids[p] for p in params})
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {"name": "x", "new_parent": world.grid_c1.pk}).status_code == 404, url
        checked.append(pattern.name)
    assert len(checked) >= 8
    assert Grant.dangerously_unscoped.get(user=world.qian_duo).revoked_at is None


def test_support_link_only_for_support_staff(world, login):
    assert "运维后台" not in page(login(world.zhang_wei).get("/"))
    world.zhou_min.is_staff = True
    world.zhou_min.save()
    assert "运维后台" in page(login(world.zhou_min).get("/"))
