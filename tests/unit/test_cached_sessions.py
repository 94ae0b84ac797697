"""The Redis-backed session store (used when REDIS_URL is set) keeps the database store's rule: a lost
connection while saving stays a database error (5xx, retried), and a session is read back from the
cache without the database."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from gridgov.core.cached_sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_lost_connection_while_saving_stays_a_database_error(monkeypatch):  # type: ignore[no-untyped-def]
    store = SessionStore()
    store["a"] = 1
    store.save(must_create=True)
    store["a"] = 2

    def gone(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Model, "save", gone)
    with pytest.raises(OperationalError):
        store.save()


def test_a_saved_session_is_read_from_the_cache():  # type: ignore[no-untyped-def]
    store = SessionStore()
    store["who"] = "陈静"
    store.save(must_create=True)
    with CaptureQueriesContext(connection) as ctx:
        again = SessionStore(session_key=store.session_key)
        assert again["who"] == "陈静"
    assert len(ctx.captured_queries) == 0
