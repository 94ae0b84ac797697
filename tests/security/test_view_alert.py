"""Each look at a household (page or API) is audited with the residents it showed; a user who views
more resident records within an hour than the security policy allows raises an alert: an audit row
and an in-app message to the security admin, once per hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from gridgov.access.policy import policy_update
from gridgov.access.scope import scope_for
from gridgov.audit.models import AuditEvent
from gridgov.notify.models import Outbox
from gridgov.residents import watch
from gridgov.residents.models import Household
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_viewing_many_resident_records_in_an_hour_alerts_the_security_admin(world, ledger, login):
    policy_update(actor=world.zheng_hong, now=T0, view_alert_per_hour=10)
    head = login(world.zhao_lei)
    url = reverse("staff:household_detail", args=[ledger.a1.pk])
    for _ in range(4):  # 2 residents each: 8 < 10
        assert head.get(url).status_code == 200
    views = AuditEvent.objects.filter(action="household.view", actor=world.zhao_lei)
    assert views.count() == 4 and views.first().detail == {"residents": 2, "sensitive": True}
    assert views.first().object_id == str(ledger.a1.pk) and views.first().role == "grid_head"
    assert not AuditEvent.objects.filter(action="security.view_alert").exists()
    assert head.get(f"/api/households/{ledger.a1.pk}").status_code == 200  # the API counts too: 10
    alert = AuditEvent.objects.get(action="security.view_alert")
    assert alert.actor == world.zhao_lei and alert.detail["viewed"] == 10 and alert.detail["threshold"] == 10
    message = Outbox.objects.get(topic="security.view_alert")
    assert message.payload["user_ids"] == [world.zheng_hong.pk]
    assert "赵磊" in message.payload["title"] and "10 条" in message.payload["title"]
    # More views within the hour do not repeat the alert.
    head.get(url)
    head.get(url)
    assert AuditEvent.objects.filter(action="security.view_alert").count() == 1


def test_the_window_is_one_hour_and_searches_count(world, ledger):
    policy_update(actor=world.zheng_hong, now=T0, view_alert_per_hour=10)
    scope = scope_for(world.zhang_wei)
    household = Household.dangerously_unscoped.select_related("unit").get(pk=ledger.a1.pk)
    for minute in range(0, 80, 20):  # 4 views of 2 residents, spread over 80 minutes
        watch.record_household_view(actor=world.zhang_wei, now=T0 + dt.timedelta(minutes=minute), scope=scope,
                                    household=household, residents=2, sensitive=False)
    assert watch.viewed_in_last_hour(actor=world.zhang_wei, now=T0 + dt.timedelta(minutes=60)) == 6
    assert not AuditEvent.objects.filter(action="security.view_alert").exists()
    watch.record_search(actor=world.zhang_wei, now=T0 + dt.timedelta(minutes=61), scope=scope, shown=6)
    assert AuditEvent.objects.filter(action="security.view_alert", actor=world.zhang_wei).count() == 1
    # An hour after the alert, a new burst alerts again.
    watch.record_search(actor=world.zhang_wei, now=T0 + dt.timedelta(minutes=125), scope=scope, shown=12)
    assert AuditEvent.objects.filter(action="security.view_alert", actor=world.zhang_wei).count() == 2


def test_normal_work_raises_no_alert(world, ledger, login):
    head = login(world.zhao_lei)
    for _ in range(5):
        head.get(reverse("staff:household_detail", args=[ledger.a1.pk]))
    assert not AuditEvent.objects.filter(action="security.view_alert").exists()  # default 300 an hour


def test_the_hourly_sum_reads_the_actor_and_time_index(world):
    """The alert sums the actor's last hour on every ledger read: the plan must use the audit log's
    (actor_id, at) index, not walk the actor's whole history or the whole log. On PostgreSQL the log
    gets 40,000 rows over 33 hours (20 a minute, one in 20 this actor's) and is analysed, so the
    planner chooses by real selectivity (no enable_seqscan tricks)."""
    from django.db import connection

    now = T0 + dt.timedelta(days=40)
    qs = watch.last_hour_views(actor=world.zhao_lei, now=now).order_by()  # the SUM has no ORDER BY
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditevent (at, action, actor_id, actor_username, role, unit_path, object_type,"
                " object_id, outcome, request_id, detail, prev_hash, row_hash, key_id)"
                " SELECT %s - (g * 3 || ' seconds')::interval, 'household.view', CASE WHEN g %% 20 = 0 THEN %s END, '',"
                " '', '', '', '', 'success', '', '{\"residents\": 2}', '', '', ''"
                " FROM generate_series(1, 40000) AS g",
                [now, world.zhao_lei.pk])
            cursor.execute("ANALYZE audit_auditevent")
        plan = qs.explain()
        # Either index bounds the read to the last hour: (actor, at), or (at) with the actor as a filter
        # (PostgreSQL takes it when the hour holds few rows and the log lies in time order, as it does).
        # Never a sequential scan, and never a walk of the actor's whole history (no index on the actor
        # alone exists any more) or of every row of an action.
        assert "Seq Scan" not in plan, plan
        assert "audit_actor_at_idx" in plan or "Index Cond: ((at >" in plan, plan
    else:
        plan = qs.explain()  # SQLite: EXPLAIN QUERY PLAN
        assert "audit_actor_at_idx" in plan, plan
    # And the sum still counts only the last hour: g = 20, 40 … 1180 (3 s apart) → 59 rows × 2 residents.
    if connection.vendor == "postgresql":
        assert watch.viewed_in_last_hour(actor=world.zhao_lei, now=now) == 118
