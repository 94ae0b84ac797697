"""Staff members see their own signed-in sessions and end any of them (等保 level 3 session
management). Ending one deletes it from the session store: that device is signed out at once."""

from __future__ import annotations

import datetime as dt
import secrets
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction

from gridgov.audit.services import audit_record
from gridgov.core.errors import NotFound

from .models import StaffSession, User

SID = "_gridgov_sid"
KEY = "_gridgov_sk"


def _store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_started(*, user: Any, now: dt.datetime, session: Any, ip: str | None, user_agent: str) -> None:
    sid = secrets.token_hex(16)
    StaffSession.objects.create(user=user, sid=sid, session_key=session.session_key or "", started_at=now, ip=ip,
                                user_agent=(user_agent or "")[:200])
    session[SID] = sid
    session[KEY] = session.session_key or ""


def follow_key(session: Any) -> None:
    """After a key change (the second factor cycles it), remember the new key for this session."""
    sid = session.get(SID)
    if sid and session.session_key and session.get(KEY) != session.session_key:
        StaffSession.objects.filter(sid=sid).update(session_key=session.session_key)
        session[KEY] = session.session_key


def session_ended(*, session: Any, now: dt.datetime) -> None:
    sid = session.get(SID) if session is not None else None
    if sid:
        StaffSession.objects.filter(sid=sid, ended_at__isnull=True).update(ended_at=now)


def sessions_of(*, user: Any) -> list[StaffSession]:
    """The user's sessions that still exist in the store (not logged out, not timed out)."""
    store = _store()
    rows = list(StaffSession.objects.filter(user_id=user.pk, ended_at__isnull=True)[:50])
    return [r for r in rows if r.session_key and store().exists(r.session_key)]


@transaction.atomic
def session_end(*, actor: User, now: dt.datetime, session_id: int) -> StaffSession:
    """End one of one's own sessions (someone else's is not found)."""
    row = StaffSession.objects.select_for_update().filter(pk=session_id, user_id=actor.pk,
                                                          ended_at__isnull=True).first()
    if row is None:
        raise NotFound()
    if row.session_key:
        _store()().delete(row.session_key)
    row.ended_at = now
    row.save(update_fields=["ended_at"])
    audit_record(action="auth.session_end", actor=actor, now=now, obj=row,
                 detail={"started": row.started_at.isoformat()})
    return row
