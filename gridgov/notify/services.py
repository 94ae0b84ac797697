"""Writing to the outbox (inside the caller's transaction) and delivering it after commit.

Delivery is idempotent: an outbox row is delivered at most once (row lock, delivered_at),
inbox rows are unique per (outbox row, user), and external channels get the row's key so
a gateway can drop a duplicate after a crash between sending and marking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from gridgov.core import fieldcrypto
from gridgov.core.clock import now as clock_now

from .channels import Channel, ChannelError, Message, configured_channels
from .models import InboxMessage, Outbox

MAX_ATTEMPTS = 8
RECIPIENT_PURPOSE = "notify.sms_to"


def outbox_put(*, kind: str, topic: str, dedupe_key: str, payload: dict[str, Any], now: dt.datetime) -> Outbox | None:
    """Record a side effect in the current transaction; delivered after commit. Same key twice: kept once."""
    if kind not in Outbox.Kind.values:
        raise ValueError(f"unknown outbox kind {kind}")
    payload = seal_recipients(payload)
    with transaction.atomic():
        try:
            row = Outbox.objects.create(kind=kind, topic=topic, dedupe_key=dedupe_key[:160], payload=payload,
                                        created_at=now, available_at=now)
        except IntegrityError:
            return None
    if kind == Outbox.Kind.INBOX:
        # In-app messages are local rows: write them right after commit. External channels (SMS, robots)
        # may take seconds, so they wait for the periodic job rather than hold up the request.
        transaction.on_commit(lambda: deliver_after_commit(row.pk))
    return row


def seal_recipients(payload: dict[str, Any]) -> dict[str, Any]:
    """Phone numbers are personal data: an outbox row keeps them only as ciphertext (`to_sealed`)."""
    if not payload.get("to"):
        return payload
    sealed = {k: v for k, v in payload.items() if k != "to"}
    sealed["to_sealed"] = [fieldcrypto.encrypt(str(p), purpose=RECIPIENT_PURPOSE) for p in payload["to"]]
    return sealed


def recipients(payload: dict[str, Any]) -> tuple[str, ...]:
    plain = [str(p) for p in payload.get("to") or []]  # rows written before sealing (none after migration)
    return tuple(plain + [fieldcrypto.decrypt(c, purpose=RECIPIENT_PURPOSE) for c in payload.get("to_sealed") or []])


def outbox_forget_recipients(*, before: dt.datetime) -> int:
    """Drop the sealed numbers of SMS rows finished (delivered or given up) before a moment: the
    retention promise made to reporters covers the outbox too. Idempotent."""
    rows = (Outbox.objects.filter(kind=Outbox.Kind.SMS, created_at__lt=before)
            .filter(Q(delivered_at__isnull=False) | Q(failed_at__isnull=False))
            .filter(payload__has_key="to_sealed"))
    count = 0
    for row in rows.iterator(chunk_size=500):
        row.payload = {k: v for k, v in row.payload.items() if k != "to_sealed"}
        row.save(update_fields=["payload"])
        count += 1
    return count


def notify_users(*, user_ids: Iterable[int], topic: str, title: str, body: str = "", link: str = "",
                 dedupe_key: str, now: dt.datetime) -> None:
    """An in-app message to these users, written to the outbox in the current transaction (one INSERT,
    no savepoint: a key already there is kept once) and delivered right after commit."""
    notify_many([{"user_ids": user_ids, "topic": topic, "title": title, "body": body, "link": link,
                  "dedupe_key": dedupe_key}], now=now)


def notify_many(messages: Iterable[dict[str, Any]], *, now: dt.datetime) -> int:
    """`notify_users` for many messages at once (each a dict of its arguments but `now`): one INSERT
    in the current transaction, a key already there kept once, delivered after commit in one batch.
    Returns how many messages had recipients."""
    rows: list[Outbox] = []
    for m in messages:
        ids = sorted(set(m["user_ids"]))
        if ids:
            rows.append(Outbox(kind=Outbox.Kind.INBOX, topic=m["topic"], dedupe_key=m["dedupe_key"][:160],
                               payload={"user_ids": ids, "title": m["title"][:120], "body": m.get("body", "")[:500],
                                        "link": m.get("link", "")[:200]}, created_at=now, available_at=now))
    if not rows:
        return 0
    keys = [r.dedupe_key for r in rows]
    Outbox.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(lambda: deliver_inbox_after_commit(keys))
    return len(rows)


def deliver_inbox_after_commit(dedupe_keys: list[str]) -> None:
    """Write the in-app messages of a batch of inbox rows right after commit; what fails stays for the
    periodic job. Never raises into the caller."""
    if not getattr(settings, "GRIDGOV_DELIVER_ON_COMMIT", True):
        return
    try:
        deliver_inbox_batch(now=clock_now(), dedupe_keys=dedupe_keys)
    except Exception:
        return


def deliver_inbox_batch(*, now: dt.datetime, dedupe_keys: Iterable[str]) -> int:
    """Deliver due inbox rows set-based (one transaction, three statements for the whole batch);
    rows another deliverer holds are left to it. Safe to run concurrently and twice."""
    with transaction.atomic():
        qs = Outbox.objects.filter(kind=Outbox.Kind.INBOX, dedupe_key__in=list(dedupe_keys),
                                   delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs)
        if not rows:
            return 0
        InboxMessage.objects.bulk_create([  # a message already there (outbox row, user) is kept once
            InboxMessage(user_id=uid, outbox=row, topic=row.topic, title=row.payload.get("title", ""),
                         body=row.payload.get("body", ""), link=row.payload.get("link", ""), created_at=now)
            for row in rows for uid in row.payload.get("user_ids", [])
        ], ignore_conflicts=True)
        Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(attempts=F("attempts") + 1, delivered_at=now)
    return len(rows)


def deliver_after_commit(outbox_id: int) -> None:
    """Try once right after commit; failures stay for the periodic job. Never raises into the request."""
    if not getattr(settings, "GRIDGOV_DELIVER_ON_COMMIT", True):
        return
    try:
        deliver_pending(now=clock_now(), ids=[outbox_id])
    except Exception:
        return


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** attempts, 240))


def _deliver_one(row: Outbox, channels: dict[str, Channel], now: dt.datetime) -> None:
    payload = row.payload
    if row.kind == Outbox.Kind.INBOX:
        existing = set(InboxMessage.objects.filter(outbox=row).values_list("user_id", flat=True))
        InboxMessage.objects.bulk_create([
            InboxMessage(user_id=uid, outbox=row, topic=row.topic, title=payload.get("title", ""),
                         body=payload.get("body", ""), link=payload.get("link", ""), created_at=now)
            for uid in payload.get("user_ids", []) if uid not in existing
        ])
        return
    channel = channels.get(payload.get("channel") or row.kind)
    if channel is None:
        raise ChannelError(f"channel {payload.get('channel') or row.kind} is not configured")
    channel.send(Message(text=payload.get("text", ""), to=recipients(payload), dedupe_key=row.dedupe_key))


def deliver_pending(*, now: dt.datetime, ids: Iterable[int] | None = None, limit: int = 200,
                    channels: dict[str, Channel] | None = None) -> int:
    """Deliver due outbox rows; returns how many were delivered. Safe to run concurrently and twice."""
    channels = channels if channels is not None else configured_channels(settings)
    delivered = 0
    qs = Outbox.objects.filter(delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    candidates = list(qs.order_by("id").values_list("pk", flat=True)[:limit])
    for pk in candidates:
        with transaction.atomic():
            locking = Outbox.objects.filter(pk=pk).filter(Q(delivered_at__isnull=True, failed_at__isnull=True))
            if connection.features.has_select_for_update_skip_locked:
                locking = locking.select_for_update(skip_locked=True)
            row = locking.first()
            if row is None:
                continue
            try:
                with transaction.atomic():
                    _deliver_one(row, channels, now)
            except ChannelError as exc:
                row.attempts += 1
                row.last_error = str(exc)[:400]
                if row.attempts >= MAX_ATTEMPTS:
                    row.failed_at = now
                else:
                    row.available_at = now + _backoff(row.attempts)
                row.save(update_fields=["attempts", "last_error", "failed_at", "available_at"])
                continue
            row.attempts += 1
            row.delivered_at = now
            row.save(update_fields=["attempts", "delivered_at"])
            delivered += 1
    return delivered


def inbox_for(*, user: Any, unread_only: bool = False, limit: int = 50) -> list[InboxMessage]:
    qs = InboxMessage.objects.filter(user_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:limit])


def inbox_unread_count(*, user: Any, cap: int = 99) -> int:
    """How many unread messages, counted up to `cap` (a page shows 99 at most)."""
    return InboxMessage.objects.filter(user_id=user.pk, read_at__isnull=True)[:cap].count()


def inbox_mark_read(*, user: Any, now: dt.datetime, message_ids: Iterable[int]) -> int:
    return InboxMessage.objects.filter(user_id=user.pk, pk__in=list(message_ids), read_at__isnull=True).update(
        read_at=now)
