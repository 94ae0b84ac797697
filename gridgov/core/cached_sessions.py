"""Sessions read from the shared cache (Redis) and written through to the database
(Django's cached_db), keeping gridgov.core.sessions' rule: a lost database connection while saving
stays a server error (5xx), not a 400 "session deleted". Used only when REDIS_URL is set: with a
per-process cache a signed-out session would live on in the other workers."""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(CachedDbSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as exc:
            cause = exc.__context__
            if isinstance(cause, OperationalError | InterfaceError):
                raise cause from None
            raise
