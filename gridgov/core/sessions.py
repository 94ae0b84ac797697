"""Database sessions that tell "the database is away" from "the session was deleted".

Django's database session store turns any database error while saving an existing session into
UpdateError, which the session middleware answers as 400 "session deleted". When the database
is merely unreachable (restarting, failing over) that 400 tells a client not to retry a request
whose work may well have been committed. Here a lost connection stays a server error (5xx), so
clients retry with their idempotency key. Found by the durability harness (tests/reliability).
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(DbSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as exc:
            cause = exc.__context__
            if isinstance(cause, OperationalError | InterfaceError):
                raise cause from None
            raise
