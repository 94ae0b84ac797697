"""Two-factor sign-in (TOTP) for admin and office roles, and the step-up before unmasking or export."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.test import Client

from gridgov.access.models import TotpDevice
from gridgov.access.totp import _PURPOSE, totp_reset
from gridgov.audit.models import AuditEvent
from gridgov.core import fieldcrypto
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _require_totp(settings):  # type: ignore[no-untyped-def]
    settings.GRIDGOV_REQUIRE_TOTP = True


def sign_in(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def code_for(user, offset: int = 0) -> str:  # type: ignore[no-untyped-def]
    device = TotpDevice.objects.get(user=user)
    secret = fieldcrypto.decrypt(device.secret_cipher, purpose=_PURPOSE)
    return pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30 * offset))


def test_office_user_must_enrol_then_reaches_pages(world):
    client = sign_in("zhangwei")
    response = client.get("/units/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")
    assert client.get("/api/units/").status_code == 403
    page = client.get(response.url)
    assert "绑定动态口令" in page.content.decode() and "data:image/svg+xml" in page.content.decode()
    assert TotpDevice.objects.get(user=world.zhang_wei).confirmed_at is None
    # The secret is stored encrypted, never in clear.
    assert "otpauth" not in TotpDevice.objects.get(user=world.zhang_wei).secret_cipher
    secret_before = TotpDevice.objects.get(user=world.zhang_wei).secret_cipher
    wrong = client.post("/2fa/", {"code": "000000", "next": "/units/"})
    assert "不正确" in wrong.content.decode()
    client.get(response.url)  # a reload shows the same QR: the secret stays until confirmed
    assert TotpDevice.objects.get(user=world.zhang_wei).secret_cipher == secret_before
    assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=world.zhang_wei).count() == 1
    ok = client.post("/2fa/", {"code": code_for(world.zhang_wei), "next": "/units/"})
    assert ok.status_code == 302 and ok.url == "/units/"
    assert client.get("/units/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_enrolled", actor=world.zhang_wei).exists()


def test_a_code_is_good_once(world):
    client = sign_in("zhangwei")
    client.get("/2fa/")
    code = code_for(world.zhang_wei)
    assert client.post("/2fa/", {"code": code}).status_code == 302
    second = sign_in("zhangwei")
    replay = second.post("/2fa/", {"code": code})
    assert replay.status_code == 200 and "已使用" in replay.content.decode()
    assert second.post("/2fa/", {"code": code_for(world.zhang_wei, offset=1)}).status_code == 302


@pytest.mark.parametrize("persona", ["wang_fang", "li_qiang"])
def test_field_roles_sign_in_without_a_code(world, persona):
    user = getattr(world, persona)
    client = sign_in(user.username)
    assert client.get(f"/units/{world.grid_a1.pk}/").status_code == 200


@pytest.mark.parametrize("username", ["zhoumin", "wugang", "zhenghong", "chenjing", "zhangwei"])
def test_every_admin_and_office_role_is_asked(world, username):
    response = sign_in(username).get("/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_unmasking_asks_for_a_fresh_code(world, ledger_household):
    client = sign_in("zhangwei")
    client.get("/2fa/")
    client.post("/2fa/", {"code": code_for(world.zhang_wei)})
    session = client.session
    session["_gridgov_otp_at"] = session["_gridgov_otp_at"] - 11 * 60  # the code is 11 minutes old
    session.save()
    resident_id = ledger_household.members.get().pk
    response = client.post(f"/residents/{resident_id}/unmask/", {"reason": "核实低保申请"},
                           HTTP_REFERER=f"/households/{ledger_household.pk}/")
    assert response.status_code == 302 and "step_up=1" in response.url
    assert not AuditEvent.objects.filter(action="resident.unmask").exists()
    api = client.post(f"/api/households/residents/{resident_id}/unmask", {"reason": "核实低保申请"},
                      content_type="application/json")
    assert api.status_code == 403


def test_security_admin_resets_a_lost_device(world):
    client = sign_in("zhangwei")
    client.get("/2fa/")
    client.post("/2fa/", {"code": code_for(world.zhang_wei)})
    totp_reset(actor=world.zheng_hong, now=dt.datetime.now(dt.UTC), user=world.zhang_wei)
    assert not TotpDevice.objects.filter(user=world.zhang_wei).exists()
    assert AuditEvent.objects.filter(action="auth.2fa_reset").exists()


@pytest.fixture
def ledger_household(world):  # type: ignore[no-untyped-def]
    from gridgov.residents import idnumber
    from gridgov.residents.households import household_create
    from gridgov.residents.members import resident_add
    from tests.world import T0

    h = household_create(actor=None, now=T0, unit_id=world.grid_a1.pk, address="吴城村一组", house_number="7")
    resident_add(actor=None, now=T0, household_id=h.pk, name="周到", relation="户主",
                          id_number=idnumber.make("140225", dt.date(1970, 3, 3), 123))
    return h
