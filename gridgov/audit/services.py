"""Writing the audit log. Callers are inside the transaction of the change they record,
so an audit failure fails the change. Each row is sealed into the keyed chain as it is written
(audit.chain.seal_events: one extra statement, which holds the chain head until commit)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

from gridgov.core.insert import insert_one
from gridgov.core.middleware import current_request_context

from .chain import seal_events
from .models import AuditEvent

if TYPE_CHECKING:
    from gridgov.access.models import User


def audit_build(
    *,
    action: str,
    actor: User | Any | None,
    now: dt.datetime,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    unit_path: str = "",
    role: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """The audit row, not yet saved: for writers that save a batch at once (`audit_record_many`)."""
    ctx = current_request_context()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_pk = actor.pk if actor is not None and actor.is_authenticated else None
    return AuditEvent(
        at=now,
        action=action,
        actor_id=actor_pk,
        actor_username=username or (actor.get_username() if actor is not None and actor_pk else ""),
        role=role,
        unit_path=unit_path,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        ip=ctx.ip if ctx else None,
        request_id=ctx.request_id if ctx else "",
        detail=detail or {},
    )


def audit_record(
    *,
    action: str,
    actor: User | Any | None,
    now: dt.datetime,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    unit_path: str = "",
    role: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    event = audit_build(action=action, actor=actor, now=now, obj=obj, object_type=object_type,
                        object_id=object_id, unit_path=unit_path, role=role, outcome=outcome, detail=detail,
                        username=username)
    if connection.in_atomic_block:
        seal_events([event])
        insert_one(event)  # save(), with the INSERT made once per connection (core/insert.py)
    else:
        with transaction.atomic():  # the seal and the row together, never one without the other
            seal_events([event])
            insert_one(event)
    return event


def audit_record_many(events: list[AuditEvent]) -> None:
    """Save audit rows built with `audit_build` in one INSERT (in the transaction of the changes)."""
    with transaction.atomic(savepoint=False):
        seal_events(events)
        AuditEvent.objects.bulk_create(events)


def audit_log_read(*, actor: User | None, now: dt.datetime, query: dict[str, Any], role: str = "",
                   unit_path: str = "", obj_id: str = "") -> AuditEvent:
    """Reading the audit log is itself audited (who looked, for what)."""
    from django.db import transaction

    with transaction.atomic():
        return audit_record(action="audit.query", actor=actor, now=now, role=role, unit_path=unit_path,
                            object_type="audit.auditevent" if obj_id else "", object_id=obj_id,
                            detail={"query": {k: str(v)[:100] for k, v in query.items()}})
