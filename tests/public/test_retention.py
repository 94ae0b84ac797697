"""The promise on the form: a reporter's phone is deleted 30 days after the case ends."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case
from gridgov.cases.public.services import PHONE_RETENTION_DAYS, reporter_phones_purge
from gridgov.cases.reporter import reveal_phone

from .test_track import Desk

pytestmark = pytest.mark.django_db


def test_phones_are_erased_after_the_case_ends_and_not_before(pworld):
    ended = Desk(pworld, phone="13912345678")
    ended.resolve()
    ended.act("confirm", pworld.zhang_wei, rating=5)
    open_case = Desk(pworld, phone="13812345678")
    just_after = ended.now + dt.timedelta(days=PHONE_RETENTION_DAYS - 1)
    assert reporter_phones_purge(now=just_after) == 0
    later = ended.now + dt.timedelta(days=PHONE_RETENTION_DAYS + 1)
    assert reporter_phones_purge(now=later) == 1
    assert reveal_phone(Case.dangerously_unscoped.get(pk=ended.case.pk)) == ""
    assert reveal_phone(Case.dangerously_unscoped.get(pk=open_case.case.pk)) == "13812345678"  # still being handled
    assert reporter_phones_purge(now=later) == 0  # idempotent
    assert AuditEvent.objects.filter(action="case.reporter_phone_purge").count() == 1


def test_the_job_command_runs(pworld):
    out = StringIO()
    call_command("purge_reporter_phones", stdout=out)
    assert out.getvalue().strip() == "purged=0"


def test_the_purge_runs_on_a_schedule(pworld):
    """The form promises deletion: a periodic job must exist, not only a command someone may forget."""
    from django.conf import settings

    from config.celery import app
    from config.jobs import JOB_BY_NAME
    from gridgov.interfaces.jobs.tasks import reporter_phones_purge_task

    entry = settings.CELERY_BEAT_SCHEDULE["reporter-phones-purge"]
    job = JOB_BY_NAME["reporter-phones-purge"]
    assert entry["args"] == (job.name,) and job.period <= 86400
    assert job.func == "gridgov.interfaces.jobs.periodic:reporter_phones_purge"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    ended = Desk(pworld, phone="13912345678")
    ended.resolve()
    ended.act("confirm", pworld.zhang_wei, rating=5)
    Case.dangerously_unscoped.filter(pk=ended.case.pk).update(
        updated_at=ended.now - dt.timedelta(days=PHONE_RETENTION_DAYS + 1)
    )
    assert reporter_phones_purge_task() == 1
    assert Case.dangerously_unscoped.get(pk=ended.case.pk).reporter_phone_cipher == ""
