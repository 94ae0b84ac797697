"""Logins, logouts and failed logins are audited from day one; changes that alter a scope give the
affected users a new access stamp (access/scope.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.core.clock import now
from gridgov.core.middleware import client_ip

from . import lockout
from .scope import access_changed


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, now=now(), obj=user)
    lockout.record_success(username=user.get_username())


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=user, now=now(), obj=user)
    if request is not None and hasattr(request, "session"):
        from .sessions import session_ended

        session_ended(session=request.session, now=now())


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The username is recorded as typed; never the password.
    at = now()
    username = str(credentials.get("username", ""))[:150]
    audit_record(action="auth.login_failed", actor=None, now=at, outcome=AuditEvent.Outcome.FAILURE,
                 username=username)
    lockout.record_failure(username=username, ip=client_ip(request) if request is not None else None, now=at)


@receiver(pre_save, sender="access.User")
def _superuser_changes_password_first(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Django's createsuperuser makes an account outside the first-admin command: its password too
    must be replaced at first sign-in."""
    if instance._state.adding and instance.is_superuser:
        instance.must_change_password = True


# --- access stamps: every save of a grant, a role or a unit goes through here, whatever wrote it
# (services, the support admin, tests); the services' queryset updates call access_changed themselves
# (units.services.unit_move).

@receiver(post_save, sender="access.Grant")
@receiver(post_delete, sender="access.Grant")
def _grant_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed(user_ids=[instance.user_id])


@receiver(post_save, sender="access.Role")
def _role_changed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created:
        access_changed(role_id=instance.pk)


_UNIT_SCOPE_FIELDS = frozenset({"path", "parent", "is_active"})


@receiver(post_save, sender="units.Unit")
def _unit_changed(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if created or (update_fields is not None and not _UNIT_SCOPE_FIELDS & set(update_fields)):
        return  # a new unit has no grants yet; a save of other fields changes no scope
    if instance.path:
        access_changed(unit_path=instance.path)
