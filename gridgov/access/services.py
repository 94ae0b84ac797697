"""Write paths for accounts, grants and departments."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from gridgov.audit.services import audit_record
from gridgov.core.errors import CommonError, NotFound, PermissionDenied, ValidationFailed
from gridgov.units.models import TOWNSHIP_BASE_KINDS, Unit

from .errors import AccessError
from .models import Department, Grant, Role, User
from .roles import P, can_grant_role
from .scope import forget_scope, scope_for


def _granter_role(actor: User | None, perm: str, unit: Unit) -> str:
    if actor is None:
        return "system"
    scope = scope_for(actor)
    scope.require(perm, unit.path)
    return scope.role_at(unit.path)


def township_of(unit: Unit) -> Unit | None:
    """The township or subdistrict above (or at) a unit, read along its path."""
    return (
        Unit.dangerously_unscoped.filter(pk__in=unit.path_ids(), kind__base__in=TOWNSHIP_BASE_KINDS)
        .order_by("-depth")
        .first()
    )


def _password_messages(exc: DjangoValidationError) -> list[str]:
    # Django's Chinese catalogue lacks the plural form of the too-short message.
    out = []
    for error in exc.error_list:
        if error.code == "password_too_short":
            out.append(f"密码太短，至少需要 {(error.params or {}).get('min_length', 8)} 个字符。")
        else:
            out.extend(error.messages)
    return out


# Names of shared or role accounts: refused for new accounts (the demo world's accounts are made in bulk).
SHARED_USERNAMES = frozenset({
    "admin", "administrator", "root", "system", "sysadmin", "secadmin", "auditor", "security", "audit", "test",
    "guest", "user", "staff", "office", "shared", "public", "operator", "manager", "duty", "zhiban", "wangge",
})


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    now: dt.datetime,
    username: str,
    full_name: str,
    password: str | None,
    work_phone: str = "",
    must_change_password: bool = False,
    validate: bool = True,
) -> User:
    username = (username or "").strip()
    if not username:
        raise ValidationFailed("请填写用户名。", field="username", reason=CommonError.REQUIRED)
    if len(username) > 150 or not all(ch.isalnum() or ch in "@.+-_" for ch in username):
        raise ValidationFailed("用户名只能包含字母、数字和 @ . + - _，最多 150 个字符。", field="username",
                               reason=CommonError.MALFORMED)
    if len((full_name or "").strip()) > 40:
        raise ValidationFailed("姓名不能超过 40 个字。", field="full_name", reason=CommonError.TOO_LONG)
    if len(work_phone or "") > 20:
        raise ValidationFailed("工作电话不能超过 20 个字符。", field="work_phone", reason=CommonError.TOO_LONG)
    if username.lower() in SHARED_USERNAMES:
        # Personal accounts only (等保 level 3): one account per person, named after that person.
        raise ValidationFailed(f"「{username}」像是共用账号名，请使用本人的账号名（如姓名拼音）。", field="username",
                               reason=AccessError.SHARED_USERNAME)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"用户名 {username} 已存在。", field="username", reason=AccessError.USERNAME_TAKEN)
    user = User(username=username, full_name=(full_name or "").strip(), work_phone=work_phone,
                must_change_password=must_change_password)
    if password:
        if validate:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationFailed("；".join(_password_messages(exc)), field="password",
                                       reason=AccessError.WEAK_PASSWORD) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(action="account.create", actor=actor, now=now, obj=user, detail={"username": username})
    return user


@transaction.atomic
def grant_create(
    *,
    actor: User | None,
    now: dt.datetime,
    user: User,
    role_code: str,
    unit: Unit,
    department: Department | None = None,
    title: str = "",
) -> Grant:
    role = Role.objects.filter(code=role_code).first()
    if role is None:
        raise ValidationFailed(f"未知的角色：{role_code}", field="role", reason=CommonError.NOT_A_CHOICE)
    title = (title or "").strip()
    if len(title) > 40:
        raise ValidationFailed("职务不能超过 40 个字。", field="title", reason=CommonError.TOO_LONG)
    # A grant outside the granter's own scope is refused as if the unit did not exist.
    granter_role = _granter_role(actor, P.GRANT_MANAGE, unit)
    if actor is not None and not can_grant_role(
        scope_for(actor).permissions_at(unit.path), role.permissions, admin_duty=role.admin_duty
    ):
        raise PermissionDenied(f"您不能授予「{role.name}」角色：它超出了您自己的权限。",
                               reason=AccessError.ROLE_BEYOND_OWN)
    # Lock the grantee's grants so that two concurrent grants cannot both pass the checks.
    active = list(
        Grant.dangerously_unscoped.select_for_update().filter(user=user, revoked_at__isnull=True).select_related("role",
                                                                                                                 "unit")
    )
    if any(g.role_id == role.pk and g.unit_id == unit.pk for g in active):
        raise ValidationFailed(f"{user.display_name} 已在「{unit.name}」担任{role.name}。",
                               reason=AccessError.GRANT_TAKEN)
    if role.admin_duty:
        other = next((g for g in active if g.role.admin_duty and g.role_id != role.pk), None)
        if other is not None:
            raise ValidationFailed(
                f"系统管理员、安全管理员、审计管理员须由不同人员担任，{user.display_name} 已是{other.role.name}。"
            , reason=AccessError.ADMIN_ROLES_SEPARATE)
    if role.field_worker:
        here = township_of(unit)
        for g in active:
            if g.role.field_worker:
                there = township_of(g.unit)
                if there is not None and here is not None and there.pk != here.pk:
                    raise ValidationFailed(
                        f"{user.display_name} 已是「{there.name}」的网格员，不能同时在「{here.name}」任网格员。"
                    , reason=AccessError.GRID_WORKER_ELSEWHERE)
    if P.CASE_DEPARTMENT in role.permissions:
        if department is None:
            raise ValidationFailed("部门办理人必须指定所属部门。", field="department",
                                   reason=AccessError.DEPARTMENT_MISSING)
        if department.unit_id != unit.pk:
            raise ValidationFailed("部门办理人应授权在部门所属单位。", field="department",
                                   reason=AccessError.DEPARTMENT_ELSEWHERE)
    elif department is not None:
        raise ValidationFailed("只有部门办理人需要指定部门。", field="department",
                               reason=AccessError.DEPARTMENT_NOT_NEEDED)
    try:
        grant = Grant.dangerously_unscoped.create(user=user, role=role, unit=unit, department=department, title=title,
                                      granted_by=actor, granted_at=now)
    except IntegrityError as exc:
        raise ValidationFailed("该授权已存在。", reason=AccessError.GRANT_TAKEN) from exc
    audit_record(action="grant.create", actor=actor, now=now, obj=grant, unit_path=unit.path, role=granter_role,
                 detail={"user": user.username, "role": role.code})
    forget_scope(user)
    return grant


@transaction.atomic
def grant_revoke(*, actor: User | None, now: dt.datetime, grant_id: int) -> Grant:
    grant = Grant.dangerously_unscoped.select_for_update().select_related("unit", "user",
                                                                          "role").filter(pk=grant_id).first()
    if grant is None or grant.revoked_at is not None:
        raise NotFound()
    granter_role = _granter_role(actor, P.GRANT_MANAGE, grant.unit)
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    audit_record(action="grant.revoke", actor=actor, now=now, obj=grant, unit_path=grant.unit.path,
                 role=granter_role, detail={"user": grant.user.username, "role": grant.role.code})
    forget_scope(grant.user)
    return grant


@transaction.atomic
def department_create(
    *, actor: User | None, now: dt.datetime, unit: Unit, name: str, kind: str = "", phone: str = ""
) -> Department:
    role = _granter_role(actor, P.DEPARTMENT_MANAGE, unit)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写部门名称。", field="name", reason=CommonError.REQUIRED)
    if Department.dangerously_unscoped.filter(unit=unit, name=name).exists():
        raise ValidationFailed(f"「{unit.name}」已有部门「{name}」。", field="name",
                               reason=AccessError.DEPARTMENT_TAKEN)
    dept = Department.dangerously_unscoped.create(unit=unit, name=name, kind=kind, phone=phone)
    audit_record(action="department.create", actor=actor, now=now, obj=dept, unit_path=unit.path, role=role)
    return dept


@transaction.atomic
def staff_account_create(
    *,
    actor: User | None,
    now: dt.datetime,
    unit: Unit,
    role_code: str,
    username: str,
    full_name: str,
    password: str,
    work_phone: str = "",
    title: str = "",
    department: Department | None = None,
) -> Grant:
    """A new staff member at a unit: their personal account and their grant, both or neither."""
    _granter_role(actor, P.USER_MANAGE, unit)
    if not (full_name or "").strip():
        raise ValidationFailed("请填写姓名。", field="full_name", reason=CommonError.REQUIRED)
    if not password:
        raise ValidationFailed("请设置初始密码。", field="password", reason=CommonError.REQUIRED)
    user = user_create(actor=actor, now=now, username=username, full_name=full_name, password=password,
                       work_phone=work_phone, must_change_password=True)
    return grant_create(actor=actor, now=now, user=user, role_code=role_code, unit=unit,
                        department=department, title=title)


@transaction.atomic
def account_unlock(*, actor: User | None, now: dt.datetime, user: User) -> None:
    """Lift a failed-login lock early: support staff, for someone whose grant lies in their scope."""
    from . import lockout

    scope = scope_for(actor)
    paths = Grant.dangerously_unscoped.filter(user=user, revoked_at__isnull=True).values_list("unit__path", flat=True)
    path = next((p for p in paths if scope.can(P.USER_MANAGE, p)), None)
    if path is None:
        raise NotFound()
    audit_record(action="account.unlock", actor=actor, now=now, obj=user, unit_path=path,
                 role=scope.role_at(path), detail={"username": user.get_username()})
    lockout.unlock(username=user.get_username())


@transaction.atomic
def password_change(*, actor: User, now: dt.datetime, old_password: str, new_password: str) -> None:
    """The signed-in user replaces their own password (and the initial one they were given)."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if not user.check_password(old_password or ""):
        raise ValidationFailed("当前密码不正确。", field="old_password", reason=AccessError.WRONG_PASSWORD)
    if old_password == new_password:
        raise ValidationFailed("新密码不能与当前密码相同。", field="new_password",
                               reason=AccessError.PASSWORD_UNCHANGED)
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed("；".join(_password_messages(exc)), field="new_password",
                               reason=AccessError.WEAK_PASSWORD) from exc
    from .passwords import password_expired

    why = "initial" if user.must_change_password else "expired" if password_expired(user, now) else "voluntary"
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit_record(action="account.password_change", actor=user, now=now, obj=user, detail={"reason": why})
    from .tokens import tokens_revoke_all

    tokens_revoke_all(user=user, now=now, reason="password_changed", actor=user)


ADMIN_DUTY_ROLES = ("system_admin", "security_admin", "audit_admin")


@transaction.atomic
def first_admin_create(*, actor: User | None, now: dt.datetime, username: str, full_name: str, role_code: str,
                       unit_id: int, password: str | None = None) -> tuple[User, str]:
    """A deployment's first admins (system, security, audit: three different people), made from the
    command line. The password (given, or generated) is shown once and must be replaced at first
    sign-in; it is checked against the admin rule (12 characters) once the admin grant exists."""
    import secrets

    from .passwords import character_classes

    if role_code not in ADMIN_DUTY_ROLES:
        raise ValidationFailed("只能用此命令设立系统管理员、安全管理员或审计管理员。", field="role",
                               reason=CommonError.NOT_A_CHOICE)
    if not (full_name or "").strip():
        raise ValidationFailed("请填写姓名。", field="full_name", reason=CommonError.REQUIRED)
    unit = Unit.dangerously_unscoped.filter(pk=unit_id).first()
    if unit is None:
        raise ValidationFailed(f"找不到编号为 {unit_id} 的单位。", field="unit", reason=AccessError.UNIT_NOT_FOUND)
    if not password:
        alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_#"
        while True:
            password = "".join(secrets.choice(alphabet) for _ in range(16))
            if character_classes(password) == 4:
                break
    user = user_create(actor=actor, now=now, username=username, full_name=full_name, password=password,
                       must_change_password=True, validate=False)
    grant_create(actor=actor, now=now, user=user, role_code=role_code, unit=unit)
    try:
        validate_password(password, user)  # now under the admin rule: 12 characters
    except DjangoValidationError as exc:
        raise ValidationFailed("；".join(_password_messages(exc)), field="password",
                               reason=AccessError.WEAK_PASSWORD) from exc
    return user, password
