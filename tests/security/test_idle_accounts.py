"""Accounts unused for 90 days are disabled, audited once; recent ones stay."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.lifecycle import accounts_disable_idle
from gridgov.access.models import User
from gridgov.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_accounts_unused_for_90_days_are_disabled(world, client):
    now = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    User.objects.update(date_joined=now - dt.timedelta(days=200))
    User.objects.filter(pk=world.wang_fang.pk).update(last_login=now - dt.timedelta(days=89))
    User.objects.filter(pk=world.li_qiang.pk).update(last_login=now - dt.timedelta(days=91))
    disabled = accounts_disable_idle(now=now)
    assert disabled == User.objects.count() - 1
    assert User.objects.get(pk=world.wang_fang.pk).is_active
    assert not User.objects.get(pk=world.li_qiang.pk).is_active
    assert accounts_disable_idle(now=now) == 0
    assert AuditEvent.objects.filter(action="account.disable_idle", object_id=str(world.li_qiang.pk)).count() == 1
    # A disabled account cannot sign in; the message is the plain one.
    response = client.post("/login/", {"username": "liqiang", "password": "Grid-Test-2026"})
    assert response.status_code == 200
