"""The security admin manages the policies (as data, audited) and resets lost authenticators; no
other role reaches these pages (404 as for a page that does not exist)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from gridgov.access.models import SecurityPolicy, TotpDevice
from gridgov.access.policy import policy, policy_update
from gridgov.audit.models import AuditEvent
from gridgov.core.errors import NotFound
from tests.world import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def test_only_the_security_admin_edits_the_policy_and_every_change_is_audited(world, login):
    url = reverse("staff:security_policy")
    for user in (world.zhou_min, world.wu_gang, world.chen_jing, world.zhang_wei, world.wang_fang):
        assert login(user).get(url).status_code == 404
        assert login(user).post(url, {"password_max_age_days": "30"}).status_code == 404
        with pytest.raises(NotFound):
            policy_update(actor=user, now=T0, password_max_age_days=30)
    assert not SecurityPolicy.objects.exists()
    admin = login(world.zheng_hong)
    page = admin.get(url).content.decode()
    assert "密码有效期（天）" in page and 'value="90"' in page and 'value="500"' in page
    saved = admin.post(url, {"password_max_age_days": "60", "export_approval_threshold": "200",
                             "view_alert_per_hour": "150", "resident_retention_days": "730",
                             "api_token_hours": "4", "password_history": "8"})
    assert saved.status_code == 302
    current = policy()
    assert (current.password_max_age_days, current.export_approval_threshold, current.view_alert_per_hour,
            current.resident_retention_days, current.api_token_hours, current.password_history) == (
        60, 200, 150, 730, 4, 8)
    event = AuditEvent.objects.get(action="policy.update")
    assert event.actor == world.zheng_hong and event.role == "security_admin"
    assert event.detail["before"]["password_max_age_days"] == 90
    assert event.detail["after"]["password_max_age_days"] == 60
    # A policy cannot be switched off by a typo: out-of-range or non-numbers are refused, nothing written.
    for bad in ({"password_max_age_days": "0"}, {"export_approval_threshold": "abc"}, {"view_alert_per_hour": "1"},
                {"api_token_hours": "25"}):
        values = {"password_max_age_days": "60", "export_approval_threshold": "200", "view_alert_per_hour": "150",
                  "resident_retention_days": "730", "api_token_hours": "4", "password_history": "5", **bad}
        response = admin.post(url, values)
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert AuditEvent.objects.filter(action="policy.update").count() == 1
    assert SecurityPolicy.objects.get().password_max_age_days == 60


def test_the_security_admin_resets_a_lost_authenticator(world, login):
    from gridgov.core import fieldcrypto

    TotpDevice.objects.create(user=world.zhang_wei, secret_cipher=fieldcrypto.encrypt("A" * 32, purpose="totp_secret"),
                              confirmed_at=T0, created_at=T0)
    url = reverse("staff:security_totp_reset")
    assert login(world.zhou_min).post(url, {"username": "zhangwei"}).status_code == 404
    assert login(world.zhang_wei).get(url).status_code == 404
    admin = login(world.zheng_hong)
    unknown = admin.post(url, {"username": "nobody"})
    assert "没有找到用户 nobody" in unknown.content.decode()
    assert admin.post(url, {"username": "zhangwei"}).status_code == 302
    assert not TotpDevice.objects.filter(user=world.zhang_wei).exists()
    event = AuditEvent.objects.get(action="auth.2fa_reset")
    assert event.actor == world.zheng_hong and event.object_id == str(world.zhang_wei.pk)


def test_navigation_offers_the_security_pages_only_to_the_security_admin(world, login):
    assert "安全管理" in login(world.zheng_hong).get("/").content.decode()
    for user in (world.zhou_min, world.wu_gang, world.zhang_wei):
        assert "安全管理" not in login(user).get("/").content.decode()


def test_the_security_admin_manages_the_roles_permission_sets(world, login):
    from gridgov.access.models import Role
    from gridgov.access.scope import scope_for

    url = reverse("staff:security_roles")
    for user in (world.zhou_min, world.wu_gang, world.zhang_wei):
        assert login(user).get(url).status_code == 404
        assert login(user).post(url, {"role": "grid_head", "permissions": ["unit.view"]}).status_code == 404
    admin = login(world.zheng_hong)
    page = admin.get(url).content.decode()
    assert "<h2>网格长</h2>" in page and "<h2>系统管理员</h2>" not in page
    before = set(Role.objects.get(code="grid_head").permissions)
    wanted = sorted(before - {"resident.sensitive_tags"})
    assert admin.post(url, {"role": "grid_head", "permissions": wanted}).status_code == 302
    assert sorted(Role.objects.get(code="grid_head").permissions) == wanted
    assert not scope_for(type(world.zhao_lei).objects.get(pk=world.zhao_lei.pk)).can("resident.sensitive_tags")
    event = AuditEvent.objects.get(action="role.update")
    assert event.actor == world.zheng_hong and "resident.sensitive_tags" in event.detail["before"]
    # 三权分立 holds whatever is ticked: no audit or policy right for other roles, admin duties not edited here.
    refused = admin.post(url, {"role": "grid_head", "permissions": [*wanted, "audit.view"]})
    assert refused.status_code == 200 and "只属于审计管理员" in refused.content.decode()
    refused = admin.post(url, {"role": "system_admin", "permissions": ["unit.view"]})
    assert "不能在此修改" in refused.content.decode()
    assert AuditEvent.objects.filter(action="role.update").count() == 1
