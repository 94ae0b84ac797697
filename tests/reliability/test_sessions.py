"""A session touched while the database is away answers 5xx (retry), not 400 "session deleted"."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.db.models import Model

from gridgov.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_lost_connection_while_saving_a_session_stays_a_database_error(monkeypatch):
    store = SessionStore()
    store["a"] = 1
    store.save(must_create=True)
    store["a"] = 2

    def gone(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Model, "save", gone)
    with pytest.raises(OperationalError):
        store.save()


def test_a_session_deleted_meanwhile_is_still_an_update_error():
    store = SessionStore()
    store["a"] = 1
    store.save(must_create=True)
    Session.objects.filter(session_key=store.session_key).delete()
    store["a"] = 2
    with pytest.raises(UpdateError):
        store.save()


def test_the_site_uses_this_store(settings):
    assert settings.SESSION_ENGINE == "gridgov.core.sessions"
