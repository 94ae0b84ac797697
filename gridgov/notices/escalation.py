"""Escalation of unreached households (到户率催办) on a fixed clock.

A periodic job (Celery beat "notices-escalate", queue "sweep") runs `notice_escalate(now=…)`. For every
notice being passed on (sent) whose reach deadline (`sent_at + reach_hours`) has passed, each grid still
below full reach gets:
- level 1, from the deadline: an in-app reminder to the grid's workers (grants with notice.reach held
  at the grid itself, field-worker roles);
- level 2, from the deadline plus half the reach window again (at least one hour): a reminder to the grid
  head (grants at the grid holding notice.send) and to the village (grants at the grid's parent holding
  notice.send).
Idempotent: each message's outbox dedupe key names the notice, the grid and the level, so a rerun or a
second beat sends nothing twice. Messages, not workflow steps: no history or audit row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q

from gridgov.access.models import Grant
from gridgov.access.roles import ROLE_BY_CODE, P
from gridgov.notify.services import notify_many
from gridgov.units.models import Unit

from .models import Delivery, Notice

TOPIC = "notice.unreached"


def second_level_after(notice: Notice) -> dt.timedelta:
    return max(dt.timedelta(hours=1), dt.timedelta(hours=notice.reach_hours) / 2)


@dataclass
class EscalationReport:
    workers: int = 0
    heads: int = 0


def _holders(unit_ids: set[int], perm: str, *, field_worker: bool | None, now: dt.datetime) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    grants = (
        Grant.dangerously_unscoped.filter(unit_id__in=unit_ids)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
        .select_related("role")
        .only("user_id", "unit_id", "role__code", "role__permissions")
    )
    for g in grants:
        if perm not in (g.role.permissions or []):
            continue
        role = ROLE_BY_CODE.get(g.role.code)
        is_field = bool(role and role.field_worker)
        if field_worker is not None and is_field != field_worker:
            continue
        out.setdefault(g.unit_id, set()).add(g.user_id)
    return out


@transaction.atomic
def notice_escalate(*, now: dt.datetime) -> EscalationReport:
    report = EscalationReport()
    messages: list[dict[str, object]] = []
    notices = Notice.dangerously_unscoped.filter(status=Notice.Status.SENT, sent_at__isnull=False)
    for notice in notices:
        assert notice.sent_at is not None
        deadline: dt.datetime = notice.sent_at + dt.timedelta(hours=notice.reach_hours)
        if now < deadline:
            continue
        level2 = now >= deadline + second_level_after(notice)
        behind = {
            row["unit_id"]: row["pending"]
            for row in Delivery.dangerously_unscoped.filter(notice=notice)
            .values("unit_id")
            .annotate(pending=Count("id", filter=Q(state=Delivery.State.PENDING)))
            .filter(pending__gt=0)
        }
        if not behind:
            continue
        grids = Unit.dangerously_unscoped.in_bulk(list(behind))
        workers = _holders(set(behind), P.NOTICE_REACH, field_worker=True, now=now)
        heads = _holders(set(behind), P.NOTICE_SEND, field_worker=None, now=now) if level2 else {}
        villages = (
            _holders({g.parent_id for g in grids.values() if g.parent_id}, P.NOTICE_SEND, field_worker=None, now=now)
            if level2
            else {}
        )
        link = f"/notices/{notice.pk}/"
        for grid_id, pending in behind.items():
            grid = grids[grid_id]
            text = f"「{notice.title}」已过传达时限，{grid.name}还有 {pending} 户未告知。"
            if workers.get(grid_id):
                messages.append(
                    {
                        "user_ids": workers[grid_id],
                        "topic": TOPIC,
                        "title": "通知未传达到户，请尽快告知",
                        "body": text,
                        "link": "/notices/my/",
                        "dedupe_key": f"notice-escalate:{notice.pk}:{grid_id}:1",
                    }
                )
                report.workers += 1
            if level2:
                users = heads.get(grid_id, set()) | villages.get(grid.parent_id or 0, set())
                if users:
                    messages.append(
                        {
                            "user_ids": users,
                            "topic": TOPIC,
                            "title": "网格到户率不足，请督促",
                            "body": text,
                            "link": link,
                            "dedupe_key": f"notice-escalate:{notice.pk}:{grid_id}:2",
                        }
                    )
                    report.heads += 1
    notify_many(messages, now=now)  # type: ignore[arg-type]
    return report
