"""Staff accounts, roles, grants of a role at a unit, and departments."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connections, models, router
from django.db.models import Q

from gridgov.core.scoping import ScopedManager
from gridgov.units.models import Unit


class StaffUserManager(UserManager["User"]):
    """Django's UserManager, with `get(pk=…)` (how the session's user is loaded on every request, by
    ModelBackend.get_user) as one plain SELECT of the row: the ORM's compilation of that query cost
    about 0.3 ms of the 2 ms a bare request costs. Same row, same model, same DoesNotExist."""

    def get(self, *args: Any, **kwargs: Any) -> User:
        if args or set(kwargs) != {"pk"}:
            return super().get(*args, **kwargs)
        try:
            pk = int(kwargs["pk"])
        except (TypeError, ValueError):
            return super().get(*args, **kwargs)
        db = router.db_for_read(self.model)
        connection = connections[db]
        # The statement and its converters, made once per connection (converters are the connection's).
        plan = getattr(connection, "_gridgov_user_by_pk", None)
        if plan is None:
            plan = _user_by_pk_plan(self.model, db)
            connection._gridgov_user_by_pk = plan  # type: ignore[attr-defined]
        sql, columns = plan
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        values = []
        for (_, expression, converters), value in zip(columns, row, strict=True):
            for converter in converters:  # the backend's and the field's, as the ORM applies them
                value = converter(value, expression, connection)
            values.append(value)
        return self.model.from_db(db, [attname for attname, _, _ in columns], values)


def _user_by_pk_plan(model: Any, db: str) -> tuple[str, list[tuple[str, Any, list[Any]]]]:
    connection = connections[db]
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    columns = []
    for f in fields:
        expression = f.get_col(table)
        columns.append((f.attname, expression,
                        connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)))
    sql = (f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(table)} "  # noqa: S608 (model names)
           f"WHERE {quote(model._meta.pk.column)} = %s")
    return sql, columns


def new_access_stamp() -> int:
    return secrets.randbits(62)


class User(AbstractUser):
    """A personal account. Shared accounts are not allowed."""

    full_name = models.CharField("姓名", max_length=40, blank=True)
    # Work phone shown on public grid boards; not a resident's personal data.
    work_phone = models.CharField("工作电话", max_length=20, blank=True)
    must_change_password = models.BooleanField(default=False)
    # When the password was last set by its owner (null: since the account was made, date_joined).
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # The access stamp: a new random value whenever anything the user's scope is built from changes
    # (a grant of theirs made, changed or revoked; a unit under one of their grants moved, edited or
    # retired; a role they hold edited). The per-process scope cache is keyed by (user id, stamp), and the
    # stamp is read with the user on every request, in the same row: see access/scope.py.
    access_stamp = models.BigIntegerField(default=new_access_stamp, editable=False)

    objects = StaffUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class Role(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    permissions = models.JSONField(default=list)
    admin_duty = models.BooleanField(default=False)
    field_worker = models.BooleanField(default=False)
    builtin = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "角色"
        verbose_name_plural = "角色"

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A functional department or station (职能部门/站所) attached to a township or county."""

    scope_path_field: ClassVar[str] = "unit__path"

    name = models.CharField("名称", max_length=80)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="departments", verbose_name="所属单位")
    kind = models.CharField("类别", max_length=40, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    is_active = models.BooleanField(default=True)

    dangerously_unscoped = models.Manager["Department"]()
    objects = ScopedManager["Department"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_id", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="department_name_unique_in_unit")]
        verbose_name = "职能部门"
        verbose_name_plural = "职能部门"

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role held at a unit; it covers the unit's whole subtree."""

    scope_path_field: ClassVar[str] = "unit__path"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="grants")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    title = models.CharField("职务", max_length=40, blank=True)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    dangerously_unscoped = models.Manager["Grant"]()
    objects = ScopedManager["Grant"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_id", "role_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=Q(revoked_at__isnull=True),
                name="grant_active_unique",
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="grant_user_active_idx")]
        verbose_name = "任职授权"
        verbose_name_plural = "任职授权"

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.unit}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TotpDevice(models.Model):
    """A staff member's authenticator (TOTP, RFC 6238). The secret is encrypted at rest."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_cipher = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code is good once (no replay within its 30 seconds).
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "动态口令设备"
        verbose_name_plural = "动态口令设备"

    def __str__(self) -> str:
        return f"{self.user} TOTP"


class SecurityPolicy(models.Model):
    """The security settings a security admin edits (one row; defaults when none was saved yet).
    Changes go through `access.policy.policy_update`, audited with the old and new values."""

    password_max_age_days = models.PositiveIntegerField("密码有效期（天）", default=90)
    export_approval_threshold = models.PositiveIntegerField("批量导出需审批的条数", default=500)
    view_alert_per_hour = models.PositiveIntegerField("每小时查看人员记录告警数", default=300)
    resident_retention_days = models.PositiveIntegerField("迁出、死亡人员信息保留（天）", default=1095)
    api_token_hours = models.PositiveIntegerField("接口令牌有效期（小时）", default=8)
    password_history = models.PositiveIntegerField("不得重复使用最近几次的密码", default=5)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "安全策略"
        verbose_name_plural = "安全策略"

    def __str__(self) -> str:
        return "安全策略"


class PasswordHistory(models.Model):
    """Password history (历史密码): the hash (never the password) of each password an account was
    given, so a new one cannot repeat the last `password_history` of the security policy. The newest
    MAX_KEPT are kept per account (`access.passwords.PasswordHistoryValidator`)."""

    MAX_KEPT = 24

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    password_hash = models.CharField(max_length=128)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]  # newest first, in the order they were set
        indexes = [models.Index(fields=["user", "-id"], name="password_history_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.set_at:%Y-%m-%d}"


class StaffSession(models.Model):
    """One signed-in session of a staff member, so they can see where they are signed in and end a
    session on another device. `sid` is a random id kept inside the session; the session key is
    followed when it changes (at the second factor)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_sessions")
    sid = models.CharField(max_length=32, unique=True)
    session_key = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "ended_at"], name="staff_session_user_idx")]
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A personal API token (接口令牌) for an API client: a grid worker's phone app, a county
    integration. Shown once when made; only its SHA-256 is stored. Short-lived (the security policy's
    `api_token_hours`), revocable by its owner and the security admin, and void once the owner's
    password changes (`auth_hash` is the owner's session hash when it was made) or the account is
    disabled. It acts with exactly the owner's grants."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=60)
    prefix = models.CharField(max_length=12)  # the first characters, to tell tokens apart in lists
    token_hash = models.CharField(max_length=64, unique=True)
    auth_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.CharField(max_length=40, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # When a fresh authenticator code was last given through this token (the API's step-up).
    stepped_up_at = models.DateTimeField(null=True, blank=True)
    # The second-factor state the token was minted under: made from a session that had passed the
    # authenticator code. A token made without one is refused once the policy requires the code of
    # its owner (GRIDGOV_REQUIRE_TOTP on, or an admin or office role granted since).
    second_factor = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user_idx")]
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.user_id} {self.prefix}…"

    def live_at(self, now: object) -> bool:
        return self.revoked_at is None and self.expires_at > now  # type: ignore[operator]
