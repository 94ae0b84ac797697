"""Domain errors. Each carries a message in plain Chinese for the user who caused it, a coarse `code`
(invalid, not_found, forbidden, conflict: what the HTTP status says) and, where the raising code names
one, a stable `reason` an API client can act on: a value of CommonError or of the raising app's own
enum (residents/errors.py ResidentError, units/errors.py UnitError...), e.g. "residents.id_number_taken"
beside "该身份证号已在台账中登记。". A reason never changes meaning once released: add a new one instead.
"""

from __future__ import annotations

from enum import StrEnum


class CommonError(StrEnum):
    """Reasons every app shares (the first four are the four error classes' codes)."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    REQUIRED = "required"  # a field left empty (the error's `field` names it)
    TOO_LONG = "too_long"
    MALFORMED = "malformed"  # not a number, not a date, characters that are not allowed...
    OUT_OF_RANGE = "out_of_range"  # a number or a date outside what is allowed
    NOT_A_CHOICE = "not_a_choice"  # not one of the offered choices
    UNKNOWN_FIELDS = "unknown_fields"  # a change names fields that cannot be changed
    STALE_VERSION = "stale_version"  # someone else changed the record since it was read


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was written."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None,
                 reason: StrEnum | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        # None: no reason was named (the API body then carries `code` and `message` only, as before).
        self.reason: str | None = str(reason) if reason is not None else None


class ValidationFailed(DomainError):
    code = "invalid"
    http_status = 400


class NotFound(DomainError):
    """Missing, or out of the actor's scope: the two must look exactly alike."""

    code = "not_found"
    http_status = 404

    def __init__(self, message: str = "没有找到该记录。", **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kwargs)


class PermissionDenied(DomainError):
    """In scope, but this actor may not take this action."""

    code = "forbidden"
    http_status = 403

    def __init__(self, message: str = "您没有执行此操作的权限。", **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    """Someone else changed the object first, or the request repeats another one."""

    code = "conflict"
    http_status = 409
