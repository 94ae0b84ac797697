"""Personal API tokens (等保 level 3: "API tokens short-lived and revocable"): made on 「我的登录」 or
by the security admin for an integration account, shown once, stored as a hash, short-lived (policy),
revocable by the owner and the security admin, void after a password change or when the account is
disabled; bearer requests get the owner's scope and the same step-up, need no CSRF token; every
refused token is a 401 {code, message} in Chinese."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gridgov.access import lifecycle, tokens
from gridgov.access.models import ApiToken, User
from gridgov.access.policy import policy_update
from gridgov.access.services import password_change
from gridgov.audit.models import AuditEvent
from gridgov.core.errors import ValidationFailed
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Wucheng#2027road"


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make(user: User, name: str = "手机 App") -> str:
    return tokens.token_create(actor=user, now=now(), name=name)[1]


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def shown_token(html: str) -> str:
    found = re.findall(r'<code class="token" id="new-token">(ggt_[A-Za-z0-9_\-]+)</code>', html)
    assert len(found) == 1, found
    return found[0]


def test_a_token_is_made_on_my_sessions_shown_once_and_stored_only_as_a_hash(world):
    client = Client()
    assert client.post("/login/", {"username": "wangfang", "password": PASSWORD}).status_code == 302
    response = client.post(reverse("staff:token_create"), {"name": "手机 App"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = shown_token(response.content.decode())
    row = ApiToken.objects.get(user=world.wang_fang)
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = " ".join(str(getattr(row, f.attname)) for f in ApiToken._meta.concrete_fields)
    assert raw not in stored and raw[10:] not in stored
    # Shown once: the page shows the token's name and prefix afterwards, never the token.
    again = client.get(reverse("staff:my_sessions")).content.decode()
    assert "手机 App" in again and row.prefix in again and raw not in again
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor_id == world.wang_fang.pk and raw not in str(event.detail)
    # An empty purpose is refused with a Chinese message, nothing made.
    bad = client.post(reverse("staff:token_create"), {"name": "  "})
    assert "请填写令牌用途" in bad.content.decode() and ApiToken.objects.count() == 1
    assert client.get("/api/units/", **bearer(raw)).status_code == 200


def test_a_bearer_token_acts_with_exactly_the_owners_grants(world):
    worker = make(world.wang_fang)
    outsider = make(world.sun_li)
    client = Client()
    assert client.get(f"/api/units/{world.grid_a1.pk}", **bearer(worker)).status_code == 200
    own = client.get(f"/api/units/{world.sibling_village.pk}", **bearer(outsider))
    assert own.status_code == 200
    foreign = client.get(f"/api/units/{world.grid_a1.pk}", **bearer(outsider))
    missing = client.get("/api/units/987654321", **bearer(outsider))
    assert foreign.status_code == 404 and foreign.content == missing.content
    assert client.get(f"/api/units/{world.sibling_village.pk}", **bearer(worker)).status_code == 404
    # Bearer requests are audited under the owner like session ones (a household view here).
    from gridgov.residents.households import household_create
    from tests.world import T0

    h = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村一组", house_number="7")
    assert client.get(f"/api/households/{h.pk}", **bearer(worker)).status_code == 200
    assert client.get(f"/api/households/{h.pk}", **bearer(outsider)).status_code == 404
    assert AuditEvent.objects.filter(actor=world.wang_fang, action="household.view").count() == 1


def test_bearer_needs_no_csrf_token_but_the_session_still_does(world):
    raw = make(world.wang_fang)
    strict = Client(enforce_csrf_checks=True)
    ok = strict.post("/api/households/search", {"q": ""}, content_type="application/json", **bearer(raw))
    assert ok.status_code == 200
    strict.force_login(world.wang_fang)
    refused = strict.post("/api/households/search", {"q": ""}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"


def _expired(user: User) -> str:
    raw = make(user)
    ApiToken.objects.filter(token_hash=tokens.digest(raw)).update(expires_at=now() - dt.timedelta(seconds=1))
    return raw


def _revoked(user: User) -> str:
    raw = make(user)
    tokens.token_revoke(actor=user, now=now(), token_id=ApiToken.objects.get(token_hash=tokens.digest(raw)).pk)
    return raw


@pytest.mark.parametrize(("kind", "code", "words"), [
    ("unknown", "token_invalid", "无效"),
    ("malformed", "token_invalid", "无效"),
    ("basic", "token_invalid", "格式不正确"),
    ("expired", "token_expired", "已过期"),
    ("revoked", "token_revoked", "已被撤销"),
])
def test_every_unknown_expired_or_revoked_token_is_a_401_in_chinese(world, kind, code, words):
    header = {
        "unknown": lambda: "Bearer ggt_" + "A" * 43,
        "malformed": lambda: "Bearer 123",
        "basic": lambda: "Basic d2FuZ2Zhbmc6eA==",
        "expired": lambda: "Bearer " + _expired(world.wang_fang),
        "revoked": lambda: "Bearer " + _revoked(world.wang_fang),
    }[kind]()
    client = Client()
    for method, url in (("get", "/api/units/"), ("post", "/api/households/search")):
        response = getattr(client, method)(url, data={} if method == "get" else "{}",
                                           content_type="application/json", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, (method, response.content)
        assert response.json()["code"] == code and words in response.json()["message"]
    # A bad token never falls back to a session the client also carries.
    client.force_login(world.wang_fang)
    assert client.get("/api/units/", HTTP_AUTHORIZATION=header).status_code == 401
    assert client.get("/api/units/").status_code == 200
    if kind in ("expired", "revoked"):
        # A known token used after its end may have leaked: audited (once a minute, not per call).
        assert AuditEvent.objects.filter(action="api_token.refused", outcome="denied").count() == 1


def test_the_lifetime_is_the_security_policy_default_8_hours_at_most_24(world):
    row, _ = tokens.token_create(actor=world.wang_fang, now=now(), name="App")
    assert row.expires_at - row.created_at == dt.timedelta(hours=8)
    with pytest.raises(ValidationFailed):
        policy_update(actor=world.zheng_hong, now=now(), api_token_hours=25)
    with pytest.raises(ValidationFailed):
        policy_update(actor=world.zheng_hong, now=now(), api_token_hours=0)
    policy_update(actor=world.zheng_hong, now=now(), api_token_hours=2)
    row, raw = tokens.token_create(actor=world.wang_fang, now=now(), name="App")
    assert row.expires_at - row.created_at == dt.timedelta(hours=2)
    with pytest.raises(ValidationFailed):
        tokens.token_create(actor=world.wang_fang, now=now(), name="App", hours=3)
    # The clock: valid just before its end, refused at it.
    with pytest.raises(tokens.TokenRefused):
        tokens.token_authenticate(raw=raw, now=row.expires_at)
    assert tokens.token_authenticate(raw=raw, now=row.expires_at - dt.timedelta(seconds=1)).pk == row.pk


def test_the_owner_and_the_security_admin_revoke_a_token_nobody_else(world):
    raw = make(world.wang_fang)
    row = ApiToken.objects.get(user=world.wang_fang)
    colleague = Client()
    colleague.force_login(world.qian_duo)
    assert colleague.post(reverse("staff:token_revoke", args=[row.pk])).status_code == 404
    assert colleague.post(reverse("staff:security_api_token_revoke", args=[row.pk])).status_code == 404
    assert Client().get("/api/units/", **bearer(raw)).status_code == 200
    admin = Client()
    admin.force_login(world.zheng_hong)
    listing = admin.get(reverse("staff:security_api_tokens")).content.decode()
    assert row.prefix in listing and "王芳" in listing
    assert admin.post(reverse("staff:security_api_token_revoke", args=[row.pk])).status_code == 302
    assert Client().get("/api/units/", **bearer(raw)).status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor_id == world.zheng_hong.pk and event.detail["reason"] == "security_admin"
    # The owner revokes from 「我的登录」 and the app signs itself out through the API.
    owner = Client()
    owner.force_login(world.wang_fang)
    second = make(world.wang_fang)
    second_row = ApiToken.objects.get(token_hash=tokens.digest(second))
    assert owner.post(reverse("staff:token_revoke", args=[second_row.pk])).status_code == 302
    assert Client().get("/api/units/", **bearer(second)).status_code == 401
    third = make(world.wang_fang)
    assert Client().get("/api/auth/token", **bearer(third)).json()["name"] == "手机 App"
    assert Client().post("/api/auth/token/revoke", **bearer(third)).status_code == 204
    assert Client().get("/api/units/", **bearer(third)).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=world.wang_fang).count() == 2


def test_the_security_admin_makes_a_token_for_an_integration_account_and_nobody_else_can(world):
    admin = Client()
    admin.force_login(world.zheng_hong)
    response = admin.post(reverse("staff:security_api_tokens"), {"username": "chenjing", "name": "县级平台对接"})
    raw = shown_token(response.content.decode())
    assert response["Cache-Control"] == "no-store"
    assert Client().get(f"/api/units/{world.county.pk}", **bearer(raw)).status_code == 200
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor_id == world.zheng_hong.pk and event.detail["owner"] == "chenjing"
    unknown = admin.post(reverse("staff:security_api_tokens"), {"username": "nobody", "name": "x"})
    assert "没有找到用户" in unknown.content.decode()
    for other in (world.zhang_wei, world.zhou_min, world.wu_gang):
        client = Client()
        client.force_login(other)
        assert client.get(reverse("staff:security_api_tokens")).status_code == 404
        assert client.post(reverse("staff:security_api_tokens"), {"username": "wangfang", "name": "x"}).status_code \
            == 404
    # Through the service, too: only for oneself unless security admin.
    from gridgov.core.errors import NotFound

    with pytest.raises(NotFound):
        tokens.token_create(actor=world.zhang_wei, now=now(), name="x", user=world.wang_fang)
    assert ApiToken.objects.count() == 1


def test_a_password_change_voids_every_token_of_the_account(world):
    raw = make(world.wang_fang)
    other = make(world.wang_fang, "平板")
    password_change(actor=world.wang_fang, now=now(), old_password=PASSWORD, new_password=NEW_PASSWORD)
    for token in (raw, other):
        response = Client().get("/api/units/", **bearer(token))
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert set(ApiToken.objects.values_list("revoke_reason", flat=True)) == {"password_changed"}
    assert AuditEvent.objects.get(action="api_token.revoke_all").detail == {"count": 2, "reason": "password_changed"}


def test_a_password_set_by_any_other_path_voids_the_token_too(world):
    raw = make(world.wang_fang)
    user = User.objects.get(pk=world.wang_fang.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    response = Client().get("/api/units/", **bearer(raw))
    assert response.status_code == 401 and "密码已修改" in response.json()["message"]


def test_a_disabled_account_loses_its_tokens(world):
    raw = make(world.wang_fang)
    old = now() - dt.timedelta(days=91)
    User.objects.filter(pk=world.wang_fang.pk).update(last_login=old)
    assert lifecycle.accounts_disable_idle(now=now()) >= 1
    response = Client().get("/api/units/", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert ApiToken.objects.get().revoke_reason == "account_disabled"
    # Disabled by any other path (no revocation written): still refused at use.
    raw2 = make(world.qian_duo)
    User.objects.filter(pk=world.qian_duo.pk).update(is_active=False)
    response = Client().get("/api/units/", **bearer(raw2))
    assert response.status_code == 401 and "账号已停用" in response.json()["message"]
    with pytest.raises(ValidationFailed):
        make(User.objects.get(pk=world.qian_duo.pk))


def test_an_expired_password_stops_the_token_until_it_is_changed(world):
    raw = make(world.wang_fang)
    User.objects.filter(pk=world.wang_fang.pk).update(must_change_password=True)
    response = Client().get("/api/units/", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "password_expired"


def test_last_used_is_written_at_most_once_a_minute(world):
    raw = make(world.wang_fang)
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/units/", **bearer(raw))
        client.get("/api/units/", **bearer(raw))
        client.get("/api/units/", **bearer(raw))
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].startswith("UPDATE") and "access_apitoken" in q["sql"]]
    assert len(writes) == 1
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    later = tokens.token_authenticate(raw=raw, now=first + dt.timedelta(seconds=61))
    assert ApiToken.objects.get().last_used_at == later.last_used_at == first + dt.timedelta(seconds=61)


def test_the_openapi_schema_documents_the_bearer_scheme(world):
    client = Client()
    client.force_login(world.zhang_wei)
    schema = client.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        s for s in schemes.values() if s.get("scheme") == "bearer").items()
    assert any(s.get("in") == "cookie" for s in schemes.values())
    operation = schema["paths"]["/api/units/"]["get"]
    assert len(operation["security"]) == 2
    assert "Bearer" in schema["info"]["description"]


class TestStepUp:
    @pytest.fixture(autouse=True)
    def _require_totp(self, settings):  # type: ignore[no-untyped-def]
        settings.GRIDGOV_REQUIRE_TOTP = True

    def test_unmasking_through_a_token_needs_a_fresh_code_given_through_the_token(self, world):
        from gridgov.residents import idnumber
        from gridgov.residents.households import household_create
        from gridgov.residents.members import resident_add
        from tests.security.test_two_factor import code_for
        from tests.world import T0

        h = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村一组",
                                      house_number="7")
        resident_add(actor=None, now=T0, household_id=h.pk, name="周到", relation="户主",
                              id_number=idnumber.make("140225", dt.date(1970, 3, 3), 123))
        resident_id = h.members.get().pk
        web = Client()
        web.post("/login/", {"username": "zhangwei", "password": PASSWORD})
        web.get("/2fa/")
        web.post("/2fa/", {"code": code_for(world.zhang_wei)})
        raw = shown_token(web.post(reverse("staff:token_create"), {"name": "手机 App"}).content.decode())
        api = Client()
        url = f"/api/households/residents/{resident_id}/unmask"
        # The web code does not carry over to the token: the same rule, its own step-up.
        refused = api.post(url, {"reason": "核实低保申请"}, content_type="application/json", **bearer(raw))
        assert refused.status_code == 403 and "/api/auth/step-up" in refused.json()["message"]
        wrong = api.post("/api/auth/step-up", {"code": "000000"}, content_type="application/json", **bearer(raw))
        assert wrong.status_code == 400
        assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=world.zhang_wei).exists()
        ok = api.post("/api/auth/step-up", {"code": code_for(world.zhang_wei, offset=1)},
                      content_type="application/json", **bearer(raw))
        assert ok.status_code == 200 and ok.json()["step_up_until"]
        shown = api.post(url, {"reason": "核实低保申请"}, content_type="application/json", **bearer(raw))
        assert shown.status_code == 200 and shown.json()["id_number"].startswith("140225")
        # Eleven minutes later the code is stale again.
        ApiToken.objects.update(stepped_up_at=now() - dt.timedelta(minutes=11))
        again = api.post(url, {"reason": "核实低保申请"}, content_type="application/json", **bearer(raw))
        assert again.status_code == 403
        # The step-up endpoint is for tokens only.
        assert web.post("/api/auth/step-up", {"code": "123456"}, content_type="application/json").status_code \
            in (400, 403)


class TestSecondFactorState:
    """A token carries the second-factor state it was minted under (ApiToken.second_factor) and is
    refused once the policy requires more (the outside test: a token made while two-factor sign-in was
    off kept reading households after it was turned on)."""

    def test_a_token_minted_without_the_code_is_refused_once_the_code_is_required(self, world, settings):
        settings.GRIDGOV_REQUIRE_TOTP = False
        web = Client()
        web.post("/login/", {"username": "zhangwei", "password": PASSWORD})
        raw = shown_token(web.post(reverse("staff:token_create"), {"name": "手机 App"}).content.decode())
        assert ApiToken.objects.get().second_factor is False
        assert Client().get("/api/households/", **bearer(raw)).status_code == 200
        settings.GRIDGOV_REQUIRE_TOTP = True
        refused = Client().get("/api/households/", **bearer(raw))
        assert refused.status_code == 401 and refused.json()["code"] == "token_second_factor"
        assert "动态口令" in refused.json()["message"]
        assert AuditEvent.objects.filter(action="api_token.refused", detail__why="token_second_factor").count() == 1
        # A field role is not asked for a code: its token made without one still works.
        worker = make(world.wang_fang)
        assert Client().get("/api/units/", **bearer(worker)).status_code == 200

    def test_a_role_that_needs_the_code_granted_later_voids_a_token_made_without_it(self, world, settings):
        from gridgov.access.services import grant_create
        from tests.world import T0

        settings.GRIDGOV_REQUIRE_TOTP = True
        raw = make(world.wang_fang)
        assert Client().get("/api/units/", **bearer(raw)).status_code == 200
        grant_create(actor=None, now=T0, user=world.wang_fang, role_code="township_office", unit=world.township)
        assert Client().get("/api/units/", **bearer(raw)).json()["code"] == "token_second_factor"

    def test_a_token_minted_after_the_code_keeps_working(self, world, settings):
        from tests.security.test_two_factor import code_for

        settings.GRIDGOV_REQUIRE_TOTP = True
        web = Client()
        web.post("/login/", {"username": "zhangwei", "password": PASSWORD})
        web.get("/2fa/")
        web.post("/2fa/", {"code": code_for(world.zhang_wei)})
        raw = shown_token(web.post(reverse("staff:token_create"), {"name": "手机 App"}).content.decode())
        row = ApiToken.objects.get()
        assert row.second_factor is True
        assert AuditEvent.objects.get(action="api_token.create").detail["second_factor"] is True
        assert Client().get("/api/households/", **bearer(raw)).status_code == 200
