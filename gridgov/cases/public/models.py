"""What the residents' side adds to a case without changing the case tables: the disclosure flag
(公开) set by staff, and follow-up visits (回访) recorded by staff for residents without phones."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Disclosure(models.Model):
    """A case an office chose to publish on the village's or grid's disclosure page."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="disclosure")
    is_public = models.BooleanField(default=True)
    set_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    # Read only by the public selectors (which de-identify) and by services: never listed raw.
    dangerously_unscoped = models.Manager["Disclosure"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        verbose_name = "事件公开"
        verbose_name_plural = "事件公开"
        indexes = [models.Index(fields=["is_public", "case"], name="disclosure_public_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {'公开' if self.is_public else '不公开'}"


class FollowUp(models.Model):
    """A follow-up visit or call (回访) by staff on behalf of a resident: it accepts or reopens the case
    exactly as the resident would from the tracking page."""

    class Method(models.TextChoices):
        PHONE = "phone", "电话回访"
        VISIT = "visit", "上门回访"

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASICALLY = "basically", "基本满意"
        UNSATISFIED = "unsatisfied", "不满意"
        NOT_SOLVED = "not_solved", "问题没有解决"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="follow_ups")
    event = models.OneToOneField("cases.CaseEvent", on_delete=models.PROTECT, related_name="follow_up")
    method = models.CharField("回访方式", max_length=10, choices=Method.choices)
    outcome = models.CharField("回访结果", max_length=12, choices=Outcome.choices)
    comment = models.CharField("群众意见", max_length=500, blank=True)
    by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    dangerously_unscoped = models.Manager["FollowUp"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["case_id", "at", "id"]
        verbose_name = "回访"
        verbose_name_plural = "回访"
        constraints = [
            models.CheckConstraint(condition=Q(method__in=["phone", "visit"]), name="follow_up_method_known"),
            models.CheckConstraint(
                condition=Q(outcome__in=["satisfied", "basically", "unsatisfied", "not_solved"]),
                name="follow_up_outcome_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_outcome_display()}"
