"""Who looked at which residents (等保 level 3: each view of a sensitive record is audited), and the
alert when one user views an unusual number of resident records within an hour (the security
policy's `view_alert_per_hour`): an audit row and an in-app message to the security admins."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from gridgov.access.models import Grant, User
from gridgov.access.policy import policy
from gridgov.access.scope import Scope
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.core.clock import local
from gridgov.notify.services import notify_users

from .models import Household

WINDOW = dt.timedelta(hours=1)
# Audit actions whose detail carries how many resident records the user saw.
VIEW_ACTIONS = ("household.view", "household.search", "resident.unmask")
ALERT_ACTION = "security.view_alert"


def record_household_view(*, actor: User, now: dt.datetime, scope: Scope, household: Household,
                          residents: int, sensitive: bool) -> None:
    """One look at a household's page (or its API detail) and the residents it showed."""
    path = household.unit.path
    with transaction.atomic():
        audit_record(action="household.view", actor=actor, now=now, obj=household, unit_path=path,
                     role=scope.role_at(path), detail={"residents": residents, "sensitive": sensitive})
        check_view_volume(actor=actor, now=now, scope=scope)


def record_search(*, actor: User, now: dt.datetime, scope: Scope, shown: int) -> None:
    """A page of search results: the households listed name their heads."""
    if shown <= 0:
        return
    with transaction.atomic():
        audit_record(action="household.search", actor=actor, now=now, detail={"residents": shown})
        check_view_volume(actor=actor, now=now, scope=scope)


def last_hour_views(*, actor: User, now: dt.datetime) -> QuerySet[AuditEvent]:
    """The actor's view rows of the last hour: read through the audit log's (actor, at) index, so the
    cost stays that of one hour's rows however long the log grows (tests/security/test_view_alert.py)."""
    return AuditEvent.objects.filter(actor_id=actor.pk, action__in=VIEW_ACTIONS, at__gt=now - WINDOW, at__lte=now)


def viewed_in_last_hour(*, actor: User, now: dt.datetime) -> int:
    rows = last_hour_views(actor=actor, now=now)
    # An unmasking shows one record (its detail holds no count); the others say how many they showed.
    per_row = Case(When(action="resident.unmask", then=Value(1)),
                   default=Cast(KT("detail__residents"), IntegerField()))
    return int(rows.aggregate(n=Sum(per_row))["n"] or 0)


def security_admins_for(scope: Scope) -> list[int]:
    """Security admins over any unit of the user (those at the county see everyone below)."""
    grants = Grant.dangerously_unscoped.filter(role__code="security_admin", revoked_at__isnull=True,
                                               user__is_active=True) \
        .select_related("unit")
    mine = [g.path for g in scope.grants]
    near = {g.user_id for g in grants if any(p.startswith(g.unit.path) for p in mine)}
    return sorted(near or {g.user_id for g in grants})


def check_view_volume(*, actor: User, now: dt.datetime, scope: Scope) -> bool:
    """Raise the alert once per hour and user when the records viewed reach the threshold."""
    if AuditEvent.objects.filter(actor_id=actor.pk, action=ALERT_ACTION, at__gt=now - WINDOW).exists():
        return False
    threshold = policy().view_alert_per_hour
    seen = viewed_in_last_hour(actor=actor, now=now)
    if seen < threshold:
        return False
    audit_record(action=ALERT_ACTION, actor=actor, now=now, obj=actor, outcome=AuditEvent.Outcome.SUCCESS,
                 detail={"viewed": seen, "threshold": threshold, "window_minutes": 60})
    notify_users(user_ids=security_admins_for(scope), topic="security.view_alert",
                 title=f"异常访问提醒：{actor.display_name}（{actor.get_username()}）一小时内查看了 {seen} 条人员信息",
                 body=f"阈值 {threshold} 条/小时，时间 {local(now):%Y-%m-%d %H:%M}。请核实是否为正常工作。",
                 dedupe_key=f"view-alert:{actor.pk}:{local(now):%Y%m%d%H%M}", now=now)
    return True
