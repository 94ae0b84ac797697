"""Password history (the outside test: "change and change back at once"): a new password may not be
any of the last N (security policy `password_history`, default 5, the current one included), on every
path that validates a password; only hashes are kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from gridgov.access.models import PasswordHistory
from gridgov.access.policy import policy_update
from gridgov.access.services import password_change
from gridgov.core.errors import ValidationFailed
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db

SEQUENCE = [f"Wucheng#{year}road" for year in range(2030, 2037)]


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _change(user, old: str, new: str, day: int) -> None:  # type: ignore[no-untyped-def]
    password_change(actor=user, now=T0 + dt.timedelta(days=day), old_password=old, new_password=new)


def test_changing_back_at_once_is_refused_and_the_fifth_older_is_allowed(world):
    user = world.zhao_lei
    _change(user, PASSWORD, SEQUENCE[0], 1)
    with pytest.raises(ValidationFailed) as err:
        _change(user, SEQUENCE[0], PASSWORD, 2)  # change and change back at once
    assert err.value.field == "new_password" and "最近 5 次" in err.value.message
    current, day = SEQUENCE[0], 3
    for new in SEQUENCE[1:4]:
        _change(user, current, new, day)
        current, day = new, day + 1
    # The last five: PASSWORD, SEQUENCE[0..3] (current). Each of them is refused…
    for old in (PASSWORD, *SEQUENCE[:3]):
        with pytest.raises(ValidationFailed):
            _change(user, current, old, day)
    _change(user, current, SEQUENCE[4], day)
    # …and now PASSWORD is the sixth: allowed again.
    _change(user, SEQUENCE[4], PASSWORD, day + 1)


def test_the_count_is_the_security_admins_policy(world):
    policy_update(actor=world.zheng_hong, now=T0, password_history=2)
    user = world.zhao_lei
    _change(user, PASSWORD, SEQUENCE[0], 1)
    _change(user, SEQUENCE[0], SEQUENCE[1], 2)
    with pytest.raises(ValidationFailed) as err:
        _change(user, SEQUENCE[1], SEQUENCE[0], 3)
    assert "最近 2 次" in err.value.message
    _change(user, SEQUENCE[1], PASSWORD, 3)  # third back: allowed with N = 2
    with pytest.raises(ValidationFailed) as bad:
        policy_update(actor=world.zheng_hong, now=T0, password_history=0)
    assert bad.value.field == "password_history"


def test_only_hashes_are_kept_and_the_page_says_why_in_chinese(world):
    client = Client()
    client.post("/login/", {"username": "zhaolei", "password": PASSWORD})
    changed = client.post(reverse("staff:password_change"), {
        "old_password": PASSWORD, "new_password": SEQUENCE[0], "new_password_again": SEQUENCE[0]})
    assert changed.status_code == 302
    back = client.post(reverse("staff:password_change"), {
        "old_password": SEQUENCE[0], "new_password": PASSWORD, "new_password_again": PASSWORD})
    assert "不能与最近 5 次用过的密码相同" in back.content.decode()
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM access_passwordhistory")
        dump = repr(cur.fetchall())
    assert PasswordHistory.objects.filter(user=world.zhao_lei).count() >= 2
    assert PASSWORD not in dump and SEQUENCE[0] not in dump
