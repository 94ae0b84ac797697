"""Seeing a unit is not reading its ledger: the three admins (三权分立) and a mediator see units or
audit rows, but households only where a role holds household.view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gridgov.access.services import grant_create, user_create
from tests.world import PASSWORD, T0

pytestmark = pytest.mark.django_db


def _mediator(world):  # type: ignore[no-untyped-def]
    user = user_create(actor=None, now=T0, username="tiaojie", full_name="调解员甲", password=PASSWORD,
                       validate=False)
    grant_create(actor=None, now=T0, user=user, role_code="mediator", unit=world.township)
    return user


@pytest.mark.parametrize("who", ["zhou_min", "wu_gang", "zheng_hong", "mediator"])
def test_no_ledger_without_household_view(world, ledger, login, who):
    user = _mediator(world) if who == "mediator" else getattr(world, who)
    client = login(user)
    for url in (reverse("staff:household_detail", args=[ledger.a1.pk]),
                reverse("staff:resident_edit", args=[ledger.wang_wei.pk]),
                reverse("staff:resident_unmask", args=[ledger.wang_wei.pk]),
                reverse("staff:household_unmask", args=[ledger.a1.pk]),
                reverse("staff:household_list"),
                f"/api/households/{ledger.a1.pk}"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/households/").json()["items"] == []
    # The same 404 as a household that does not exist.
    assert (client.get(reverse("staff:household_detail", args=[ledger.a1.pk])).content
            == client.get(reverse("staff:household_detail", args=[987654])).content)
