"""The outbox (side effects written in the business transaction, delivered after commit) and the
in-app inbox of staff users."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Outbox(models.Model):
    class Kind(models.TextChoices):
        INBOX = "inbox", "站内消息"
        SMS = "sms", "短信"
        WEBHOOK = "webhook", "群机器人"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    topic = models.CharField(max_length=40)
    # Writers pick a key that names the fact (e.g. "case:12:urge:3:inbox"): writing it twice is a no-op.
    dedupe_key = models.CharField(max_length=160, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "待发通知"
        verbose_name_plural = "待发通知"
        indexes = [
            models.Index(fields=["available_at"], name="outbox_pending_idx",
                         condition=Q(delivered_at__isnull=True, failed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.dedupe_key}"


class InboxMessage(models.Model):
    """A message in a staff user's in-app inbox. Scoped to its owner: nobody reads another's inbox."""


    user = models.ForeignKey("access.User", on_delete=models.CASCADE, related_name="inbox")
    outbox = models.ForeignKey(Outbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.CharField(max_length=40)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=500, blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["outbox", "user"], name="inbox_once_per_outbox")]
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_user_unread_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"
