"""Password rules of 等保 level 3: at least 8 characters from 3 of the 4 classes (upper, lower,
digits, symbols); 12 for the admin and office roles."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

STRICT_ROLES = frozenset({"system_admin", "security_admin", "audit_admin", "city_office", "county_office",
                          "township_office"})


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def _needs_strict(user: Any) -> bool:
    if user is None or getattr(user, "pk", None) is None:
        return False
    from .models import Grant

    return Grant.dangerously_unscoped.filter(user_id=user.pk, revoked_at__isnull=True,
                                             role__code__in=STRICT_ROLES).exists()


class ComplexityValidator:
    def __init__(self, min_length: int = 8, admin_min_length: int = 12, min_classes: int = 3) -> None:
        self.min_length = min_length
        self.admin_min_length = admin_min_length
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        length = self.admin_min_length if _needs_strict(user) else self.min_length
        if len(password) < length:
            raise ValidationError(f"密码至少需要 {length} 个字符。", code="password_too_short",
                                  params={"min_length": length})
        username = str(getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and (username in password.lower() or username[::-1] in password.lower()):
            # Django's similarity check passes "Admin1-admin1" for admin1: refuse any password holding the name.
            raise ValidationError("密码不能包含用户名。", code="password_contains_username")
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                "密码需包含大写字母、小写字母、数字、符号中的至少三类。", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return (
            f"至少 {self.min_length} 个字符（管理员和网格办人员 {self.admin_min_length} 个），"
            "包含大写字母、小写字母、数字、符号中的至少三类。"
        )


def password_expired(user: Any, now: Any) -> bool:
    """A staff password older than the policy's lifetime (default 90 days) must be replaced at the
    next request. Age counts from the last change, or from the account's creation."""
    import datetime as dt

    from .policy import policy

    if user is None or not getattr(user, "is_authenticated", False) or not user.has_usable_password():
        return False
    since = user.password_changed_at or user.date_joined
    if since is None:
        return False
    return bool(now - since > dt.timedelta(days=policy().password_max_age_days))


class PasswordHistoryValidator:
    """A new password may not be any of the account's last N (the security policy's
    `password_history`, default 5, the current one included). Only hashes are kept
    (`PasswordHistory`), written whenever a password is set, by any path that saves the user."""

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        from django.contrib.auth.hashers import check_password

        from .models import PasswordHistory
        from .policy import policy

        keep = int(policy().password_history)
        # The newest rows are the current password and the ones before it. The current one itself is
        # not compared here (the change form refuses it on its own, and a path that validates the
        # password it has just set, as the first-admin command does, must pass).
        rows = PasswordHistory.objects.filter(user_id=user.pk).order_by("-id") \
            .values_list("password_hash", flat=True)[:keep]
        earlier = [h for h in rows if h != user.password]
        if any(check_password(password, h) for h in earlier):
            raise ValidationError(f"新密码不能与最近 {keep} 次用过的密码相同。", code="password_reused",
                                  params={"count": keep})

    def password_changed(self, password: str, user: Any = None) -> None:
        """Called by Django after a user with a new password is saved: keep its hash."""
        if user is None or getattr(user, "pk", None) is None or not user.has_usable_password():
            return
        from gridgov.core.clock import now

        from .models import PasswordHistory

        PasswordHistory.objects.create(user_id=user.pk, password_hash=user.password,
                                       set_at=user.password_changed_at or now())
        old = list(PasswordHistory.objects.filter(user_id=user.pk).order_by("-id")
                   .values_list("pk", flat=True)[PasswordHistory.MAX_KEPT:])
        if old:
            PasswordHistory.objects.filter(pk__in=old).delete()

    def get_help_text(self) -> str:
        return "不能与最近几次用过的密码相同。"
