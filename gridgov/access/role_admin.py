"""The security admin adjusts the permission sets of the roles (roles are data). Guards: the three
admin duties are not edited here, and no field or office role can be given an admin duty's
permission (audit.view, policy.manage), so 三权分立 holds whatever is ticked. Audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gridgov.audit.services import audit_record
from gridgov.core.errors import NotFound, ValidationFailed

from .errors import AccessError
from .models import Role, User
from .roles import ALL_PERMISSIONS, P
from .scope import scope_for

ADMIN_ONLY = frozenset({P.AUDIT_VIEW, P.POLICY_MANAGE})


def editable_roles() -> list[Role]:
    return list(Role.objects.filter(admin_duty=False).order_by("id"))


@transaction.atomic
def role_update(*, actor: User | None, now: dt.datetime, role_code: str, permissions: list[str]) -> Role:
    scope = scope_for(actor)
    if not scope.can(P.POLICY_MANAGE):
        raise NotFound()
    role = Role.objects.select_for_update().filter(code=role_code).first()
    if role is None:
        raise NotFound()
    if role.admin_duty:
        raise ValidationFailed("系统管理员、安全管理员、审计管理员的权限不能在此修改。",
                               reason=AccessError.ADMIN_ROLE_LOCKED)
    wanted = set(permissions)
    unknown = wanted - ALL_PERMISSIONS
    if unknown:
        raise ValidationFailed(f"未知的权限：{'、'.join(sorted(unknown))}", reason=AccessError.UNKNOWN_PERMISSION)
    if wanted & ADMIN_ONLY:
        raise ValidationFailed("审计日志、安全策略权限只属于审计管理员、安全管理员。",
                               reason=AccessError.ADMIN_PERMISSION_ELSEWHERE)
    before = sorted(role.permissions)
    role.permissions = sorted(wanted)
    role.builtin = False
    role.save(update_fields=["permissions", "builtin"])
    path = scope.paths_for(P.POLICY_MANAGE)[0]
    audit_record(action="role.update", actor=actor, now=now, obj=role, unit_path=path, role=scope.role_at(path),
                 detail={"role": role.code, "before": before, "after": role.permissions})
    return role
