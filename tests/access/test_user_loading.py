"""The session's user is loaded by one plain SELECT (access/models.StaffUserManager.get(pk=…)): the same
row and values as the ORM's query, the same DoesNotExist, and a disabled account is nobody."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.access.models import User
from tests.world import T0

pytestmark = pytest.mark.django_db


def _fields(user: User) -> dict[str, object]:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_the_fast_path_reads_the_same_values_as_the_orm(world):  # type: ignore[no-untyped-def]
    User.objects.filter(pk=world.li_qiang.pk).update(last_login=T0, password_changed_at=T0, is_staff=True)
    with CaptureQueriesContext(connection) as ctx:
        fast = User.objects.get(pk=world.li_qiang.pk)
    assert len(ctx.captured_queries) == 1
    orm = User.objects.filter(pk=world.li_qiang.pk).get()
    assert _fields(fast) == _fields(orm)
    assert fast.last_login == T0 and fast.is_staff is True and fast.is_active is True
    assert fast._state.adding is False and fast._state.db == orm._state.db
    assert User.objects.get(pk=str(world.li_qiang.pk)).pk == world.li_qiang.pk


def test_a_missing_user_is_does_not_exist_and_other_lookups_use_the_orm(world):  # type: ignore[no-untyped-def]
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=10**9)
    with pytest.raises(ValueError):  # as the ORM answers it
        User.objects.get(pk="not a number")
    assert User.objects.get(username="liqiang").pk == world.li_qiang.pk


def test_the_session_backend_still_refuses_a_disabled_account(world):  # type: ignore[no-untyped-def]
    backend = ModelBackend()
    assert backend.get_user(world.li_qiang.pk) == world.li_qiang
    User.objects.filter(pk=world.li_qiang.pk).update(is_active=False)
    assert backend.get_user(world.li_qiang.pk) is None
