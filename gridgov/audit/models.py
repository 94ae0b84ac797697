"""The append-only audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("the audit log is append-only")


class AuditEvent(models.Model):
    """One audited action. Written in the transaction of the change it records."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64, db_index=True)  # dotted code, e.g. "unit.move"
    # No index of its own: audit_actor_at_idx (actor, at) serves every look-up by actor, the foreign key's
    # checks included. A second index on actor alone cost every audit row a write and let the planner walk
    # an actor's whole history for the hourly view alert instead of its last hour.
    actor = models.ForeignKey(
        "access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=64, blank=True)
    unit_path = models.CharField(max_length=255, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The keyed chain, sealed when the row is written (audit.services.audit_record, in the transaction
    # of the change: the chain head row is locked until commit). row_hash = HMAC-SHA256 under the key
    # `key_id` (GRIDGOV_AUDIT_KEY, kept outside the database); an empty key_id marks a row sealed by the
    # old unkeyed job (plain SHA-256), allowed only before the first keyed row. See audit/offline.py.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=16, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # One actor's recent rows: the hourly view alert sums them on every ledger read
            # (residents.watch), and the audit admin filters by person and time.
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
        ]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_username}"

    # save() below only refuses a row that exists; for a new row it adds nothing, so core.insert.insert_one
    # may write new rows without it (audit_record does, on every audited change).
    insert_without_save: ClassVar[bool] = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("the audit log is append-only")



class AuditArchive(models.Model):
    """A run of sealed audit rows older than the retention (at least 184 days), moved to a file with
    their hash chain (audit.archive.archive_old). The rows left in the table continue the chain from
    `anchor_hash`, the last archived row's hash; `sha256` is the file's checksum. Append-only like the
    log itself (a trigger on PostgreSQL), and the only way audit rows ever leave the table."""

    created_at = models.DateTimeField()
    cutoff = models.DateTimeField()  # every archived row is older than this
    first_seq = models.BigIntegerField(unique=True)
    last_seq = models.BigIntegerField(unique=True)
    first_prev_hash = models.CharField(max_length=64)  # the chain before the first row (the previous anchor)
    anchor_hash = models.CharField(max_length=64)  # row_hash of the last archived row
    row_count = models.PositiveIntegerField()
    oldest_at = models.DateTimeField()
    newest_at = models.DateTimeField()
    file = models.CharField(max_length=255)  # path relative to GRIDGOV_AUDIT_ARCHIVE_DIR
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["last_seq"]
        verbose_name = "审计归档"
        verbose_name_plural = "审计归档"

    def __str__(self) -> str:
        return f"{self.first_seq}–{self.last_seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit archives are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit archives are append-only")


class AuditChainHead(models.Model):
    """The one row (id 1) holding the end of the keyed chain: the last seq handed out and its row's hash.
    audit_record takes the next seq by `UPDATE … SET seq = seq + 1 … RETURNING`, which locks this row until
    the transaction ends, so writers of audit rows are serialised; a trigger copies each sealed row's hash
    in. A cache of the chain, not evidence: audit_verify trusts the rows and the checkpoints, never it."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"{self.seq}"
