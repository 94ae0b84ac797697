"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238).

Required for the admin and office roles (system, security, audit admins; county and township
grid offices) at sign-in, and asked again before a full export or an unmasking when the last
code is older than STEP_UP_WINDOW.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from django.conf import settings
from django.db import transaction

from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.core import fieldcrypto
from gridgov.core.errors import CommonError, ValidationFailed

from .errors import AccessError
from .models import Grant, TotpDevice, User

TOTP_ROLES = frozenset({"system_admin", "security_admin", "audit_admin", "city_office", "county_office",
                        "township_office"})
STEP_UP_WINDOW = dt.timedelta(minutes=10)
ISSUER = "网格治理平台"
_PURPOSE = "totp_secret"


def totp_required(user: Any) -> bool:
    if not getattr(settings, "GRIDGOV_REQUIRE_TOTP", True) or not getattr(user, "is_authenticated", False):
        return False
    return Grant.dangerously_unscoped.filter(user_id=user.pk, revoked_at__isnull=True,
                                             role__code__in=TOTP_ROLES).exists()


def confirmed_device(user: Any) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()


@transaction.atomic
def totp_begin(*, actor: User, now: dt.datetime) -> str:
    """Enrolment: the otpauth:// URI for the QR code. The secret is made once and kept until the
    first code confirms it, so reloading the page or mistyping a code never changes the QR."""
    device = TotpDevice.objects.select_for_update().filter(user_id=actor.pk).first()
    if device is not None and device.confirmed_at is not None:
        raise ValidationFailed("您已绑定动态口令设备；如需更换，请联系安全管理员重置。",
                               reason=AccessError.TOTP_ALREADY_BOUND)
    if device is None:
        secret = pyotp.random_base32()
        device = TotpDevice.objects.create(user=actor, secret_cipher=fieldcrypto.encrypt(secret, purpose=_PURPOSE),
                                           created_at=now)
        audit_record(action="auth.2fa_enrol_start", actor=actor, now=now, obj=actor)
    else:
        secret = fieldcrypto.decrypt(device.secret_cipher, purpose=_PURPOSE)
    return pyotp.TOTP(secret).provisioning_uri(name=actor.get_username(), issuer_name=ISSUER)


def _check(device: TotpDevice, code: str, now: dt.datetime) -> int | None:
    """The time step the code belongs to (±1 step for clock drift), or None."""
    code = "".join(ch for ch in (code or "") if ch.isdecimal())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(fieldcrypto.decrypt(device.secret_cipher, purpose=_PURPOSE))
    at = now.timestamp()
    for drift in (0, -1, 1):
        step = int(at // totp.interval) + drift
        if totp.at(step * totp.interval) == code and step > device.last_step:
            return step
    return None


def totp_verify(*, actor: User, now: dt.datetime, code: str, enrolling: bool = False) -> None:
    """Accept a code (and finish enrolment), or raise with a Chinese message. Audited either way:
    the failure's audit row is committed before the error is raised."""
    if not _verify(actor=actor, now=now, code=code, enrolling=enrolling):
        raise ValidationFailed("动态口令不正确或已使用，请看手机上最新的 6 位数字。", field="code",
                               reason=AccessError.WRONG_CODE)


@transaction.atomic
def _verify(*, actor: User, now: dt.datetime, code: str, enrolling: bool) -> bool:
    device = TotpDevice.objects.select_for_update().filter(user_id=actor.pk).first()
    if device is None or (device.confirmed_at is None and not enrolling):
        raise ValidationFailed("请先绑定动态口令设备。", reason=AccessError.NO_TOTP_DEVICE)
    step = _check(device, code, now)
    if step is None:
        audit_record(action="auth.2fa_failed", actor=actor, now=now, obj=actor, outcome=AuditEvent.Outcome.FAILURE)
        return False
    device.last_step = step
    if device.confirmed_at is None:
        device.confirmed_at = now
        audit_record(action="auth.2fa_enrolled", actor=actor, now=now, obj=actor)
    device.save(update_fields=["last_step", "confirmed_at"])
    audit_record(action="auth.2fa_ok", actor=actor, now=now, obj=actor)
    return True


@transaction.atomic
def totp_reset(*, actor: User | None, now: dt.datetime, user: Any) -> None:
    """A security admin removes a lost device; the user enrols again at next sign-in."""
    from .roles import P
    from .scope import scope_for

    if actor is not None and not scope_for(actor).can(P.POLICY_MANAGE):
        raise ValidationFailed("只有安全管理员可以重置动态口令。", reason=CommonError.FORBIDDEN)
    TotpDevice.objects.filter(user_id=user.pk).delete()
    audit_record(action="auth.2fa_reset", actor=actor, now=now, obj=user)


def totp_rotate_secrets(*, now: dt.datetime, batch: int = 500) -> int:
    """Re-encrypt authenticator secrets sealed with an older field key (part of the key rotation:
    after it the old key can be dropped without locking anyone out). Returns how many moved."""
    moved = 0
    last = 0
    while True:
        with transaction.atomic():
            devices = list(TotpDevice.objects.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
            if not devices:
                audit_record(action="auth.2fa_rotate", actor=None, now=now, role="system",
                             detail={"devices": moved, "key_id": fieldcrypto.keys().current_id})
                return moved
            last = devices[-1].pk
            stale = [d for d in devices if fieldcrypto.needs_rotation(d.secret_cipher)]
            for d in stale:
                d.secret_cipher = fieldcrypto.encrypt(fieldcrypto.decrypt(d.secret_cipher, purpose=_PURPOSE),
                                                      purpose=_PURPOSE)
            TotpDevice.objects.bulk_update(stale, ["secret_cipher"])
            moved += len(stale)
