"""Password rules of 等保 level 3: at least 8 characters from 3 of the 4 classes (upper, lower,
digits, symbols); 12 for the admin and office roles."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

STRICT_ROLES = frozenset({"system_admin", "security_admin", "audit_admin", "county_office", "township_office"})


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

    return Grant.unscoped.filter(user_id=user.pk, revoked_at__isnull=True, role__code__in=STRICT_ROLES).exists()


class ComplexityValidator:
    def __init__(self, min_length: int = 8, admin_min_length: int = 12, min_classes: int = 3) -> None:
        self.min_length = min_length
        self.admin_min_length = admin_min_length
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        length = self.admin_min_length if _needs_strict(user) else self.min_length
        if len(password) < length:
            raise ValidationError(f"密码至少需要 {length} 个字符。", code="password_too_short")
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                "密码需包含大写字母、小写字母、数字、符号中的至少三类。", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return (
            f"至少 {self.min_length} 个字符（管理员和网格办人员 {self.admin_min_length} 个），"
            "包含大写字母、小写字母、数字、符号中的至少三类。"
        )
