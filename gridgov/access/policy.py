"""The security policy a security admin manages (等保 level 3: policies are data, changed by the
security admin only, every change audited): password lifetime, the bulk-export approval threshold,
the hourly alert on resident records viewed, how long moved-out or deceased residents are kept, and
the lifetime of personal API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, NotFound, ValidationFailed

from .models import SecurityPolicy, User
from .roles import P
from .scope import scope_for

_CACHE_KEY = "gridgov:security-policy"
_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Bound:
    label: str
    low: int
    high: int


# Each field's allowed range: a policy cannot be switched off by a typo (0 days, 0 records).
BOUNDS: dict[str, Bound] = {
    "password_max_age_days": Bound("密码有效期（天）", 7, 365),
    "export_approval_threshold": Bound("批量导出需审批的条数", 1, 100_000),
    "view_alert_per_hour": Bound("每小时查看人员记录告警数", 10, 100_000),
    "resident_retention_days": Bound("迁出、死亡人员信息保留（天）", 180, 3650),
    # Short-lived by rule: a lost phone's token is void within a working day at most.
    "api_token_hours": Bound("接口令牌有效期（小时）", 1, 24),
    # A new password may not repeat the last N (the current one included); hashes only are kept.
    "password_history": Bound("不得重复使用最近几次的密码", 1, 24),
}


def policy() -> SecurityPolicy:
    """The policy in force (cached briefly; every process sees a change within a minute)."""
    cached = cache.get(_CACHE_KEY)
    if isinstance(cached, SecurityPolicy):
        return cached
    row = SecurityPolicy.objects.order_by("pk").first() or SecurityPolicy()
    cache.set(_CACHE_KEY, row, _CACHE_SECONDS)
    return row


def forget_policy() -> None:
    cache.delete(_CACHE_KEY)


def _clean(field: str, value: Any) -> int:
    bound = BOUNDS[field]
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"「{bound.label}」应填写整数。", field=field, reason=CommonError.MALFORMED) from None
    if not bound.low <= number <= bound.high:
        raise ValidationFailed(f"「{bound.label}」应在 {bound.low} 到 {bound.high} 之间。", field=field,
                               reason=CommonError.OUT_OF_RANGE)
    return number


@transaction.atomic
def policy_update(*, actor: User | None, now: dt.datetime, **values: Any) -> SecurityPolicy:
    """Change the policy: security admins only (policy.manage). Audited with old and new values."""
    scope = scope_for(actor)
    if not scope.can(P.POLICY_MANAGE):
        raise NotFound()
    unknown = set(values) - set(BOUNDS)
    if unknown:
        raise ValidationFailed(f"未知的策略项：{'、'.join(sorted(unknown))}", reason=CommonError.UNKNOWN_FIELDS)
    cleaned = {field: _clean(field, value) for field, value in values.items()}
    row = SecurityPolicy.objects.select_for_update().order_by("pk").first() or SecurityPolicy()
    before = {field: getattr(row, field) for field in cleaned}
    for field, value in cleaned.items():
        setattr(row, field, value)
    row.updated_at = now
    row.updated_by = actor
    row.save()
    path = scope.paths_for(P.POLICY_MANAGE)[0]
    audit_record(action="policy.update", actor=actor, now=now, obj=row, unit_path=path, role=scope.role_at(path),
                 detail={"before": before, "after": cleaned})
    transaction.on_commit(forget_policy)
    forget_policy()
    return row
