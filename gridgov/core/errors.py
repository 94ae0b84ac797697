"""Domain errors. Each carries a message in plain Chinese for the user who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was written."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


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
