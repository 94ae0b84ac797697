"""The stable reasons of the refusals of accounts, grants, roles, passwords, API tokens and two-factor
codes (see gridgov.core.errors)."""

from __future__ import annotations

from enum import StrEnum


class AccessError(StrEnum):
    ACCOUNT_INACTIVE = "access.account_inactive"
    ADMIN_PERMISSION_ELSEWHERE = "access.admin_permission_elsewhere"
    ADMIN_ROLE_LOCKED = "access.admin_role_locked"
    ADMIN_ROLES_SEPARATE = "access.admin_roles_separate"
    DEPARTMENT_ELSEWHERE = "access.department_elsewhere"
    DEPARTMENT_MISSING = "access.department_missing"
    DEPARTMENT_NOT_NEEDED = "access.department_not_needed"
    DEPARTMENT_TAKEN = "access.department_taken"
    GRANT_TAKEN = "access.grant_taken"
    GRID_WORKER_ELSEWHERE = "access.grid_worker_elsewhere"
    NO_TOTP_DEVICE = "access.no_totp_device"
    PASSWORD_UNCHANGED = "access.password_unchanged"  # noqa: S105 - a reason, not a password
    ROLE_BEYOND_OWN = "access.role_beyond_own"
    SHARED_USERNAME = "access.shared_username"
    TOO_MANY_TOKENS = "access.too_many_tokens"
    TOTP_ALREADY_BOUND = "access.totp_already_bound"
    UNIT_NOT_FOUND = "access.unit_not_found"
    UNKNOWN_PERMISSION = "access.unknown_permission"
    USERNAME_TAKEN = "access.username_taken"
    WEAK_PASSWORD = "access.weak_password"  # noqa: S105 - a reason, not a password
    WRONG_CODE = "access.wrong_code"
    WRONG_PASSWORD = "access.wrong_password"  # noqa: S105 - a reason, not a password
