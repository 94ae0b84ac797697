"""Bulk export of personal data: above the policy's threshold a second person (not the requester,
holding the export right at or above the unit) approves; the file is watermarked with who and when;
it can be downloaded for 24 hours, then the download is refused and a job deletes the file. Every
step is audited."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from openpyxl import load_workbook

from gridgov.access.policy import policy_update
from gridgov.audit.models import AuditEvent
from gridgov.notify.models import Outbox
from gridgov.residents import exports
from gridgov.residents.models import BulkExport
from tests.world import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def rows_of(content: bytes) -> list[list[object]]:
    return [[c.value for c in r] for r in load_workbook(io.BytesIO(content)).active.iter_rows()]


def test_a_small_export_comes_at_once_watermarked_and_audited(world, ledger, login):
    response = login(world.zhang_wei).get(reverse("staff:household_export"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    mark = ws.cell(1, 1).value
    assert "导出人：张伟（zhangwei）" in mark and "导出时间：" in mark
    assert ws.cell(2, 1).value == "户号"  # the headers follow the watermark row
    assert ws.oddHeader.center.text == mark and ws.oddFooter.center.text == mark
    assert wb.properties.creator == "zhangwei" and wb.properties.description == mark
    event = AuditEvent.objects.get(action="household.export", actor=world.zhang_wei)
    assert event.detail["rows"] == len(rows_of(response.content)) - 2 and event.detail["watermark"] == mark
    assert not BulkExport.dangerously_unscoped.exists()


def test_a_large_export_needs_a_second_persons_approval(world, ledger, login):
    policy_update(actor=world.zheng_hong, now=T0, export_approval_threshold=2)
    zhang = login(world.zhang_wei)
    page = zhang.get(reverse("staff:household_export"))
    assert page.status_code == 200 and "需要另一位有导出权限的人员审批" in page.content.decode()
    assert not AuditEvent.objects.filter(action="household.export").exists()  # no file without approval
    no_reason = zhang.post(reverse("staff:household_export"), {"reason": ""})
    assert "请写明用途" in no_reason.content.decode() and not BulkExport.dangerously_unscoped.exists()
    filed = zhang.post(reverse("staff:household_export"), {"reason": "年度低保复核"})
    export = BulkExport.dangerously_unscoped.get()
    assert filed.status_code == 302 and filed.url == reverse("staff:export_detail", args=[export.pk])
    assert export.status == "pending" and export.row_count > 2 and export.paths == [world.township.path]
    assert AuditEvent.objects.filter(action="export.request", object_id=str(export.pk), actor=world.zhang_wei).exists()
    # The approvers: everyone else holding the export right at or above 吴城乡 (the county office),
    # never the requester, never the outsider township.
    assert exports.export_approvers(export) == [world.chen_jing.pk]
    assert Outbox.objects.get(topic="export.approval").payload["user_ids"] == [world.chen_jing.pk]
    # Not yet downloadable.
    assert zhang.get(reverse("staff:export_download", args=[export.pk])).status_code == 410
    # The requester cannot approve their own request: refused, audited, nothing changed.
    zhang.post(reverse("staff:export_decide", args=[export.pk]), {"decision": "approve"})
    assert BulkExport.dangerously_unscoped.get(pk=export.pk).status == "pending"
    assert AuditEvent.objects.filter(action="export.approve", outcome="denied", actor=world.zhang_wei).exists()
    # People without the right over the unit do not even see the request.
    for outsider in (world.li_qiang, world.wang_fang, world.sun_li, world.zheng_hong):
        client = login(outsider)
        assert client.get(reverse("staff:export_detail", args=[export.pk])).status_code == 404
        assert client.post(reverse("staff:export_decide", args=[export.pk]), {"decision": "approve"}).status_code == 404
    assert BulkExport.dangerously_unscoped.get(pk=export.pk).status == "pending"
    # The county office approves: the file is built from the requester's scope, watermarked.
    chen = login(world.chen_jing)
    assert "批准" in chen.get(reverse("staff:export_detail", args=[export.pk])).content.decode()
    assert chen.post(reverse("staff:export_decide", args=[export.pk]), {"decision": "approve"}).status_code == 302
    export.refresh_from_db()
    assert export.status == "ready" and export.decided_by == world.chen_jing
    assert export.expires_at - export.ready_at == dt.timedelta(hours=24)
    assert AuditEvent.objects.filter(action="export.approve", outcome="success", actor=world.chen_jing).exists()
    assert AuditEvent.objects.filter(action="export.build", object_id=str(export.pk)).exists()
    assert Outbox.objects.get(topic="export.ready").payload["user_ids"] == [world.zhang_wei.pk]
    # Only the requester downloads it.
    assert chen.get(reverse("staff:export_download", args=[export.pk])).status_code == 404
    file = zhang.get(reverse("staff:export_download", args=[export.pk]))
    assert file.status_code == 200
    wb = load_workbook(io.BytesIO(file.content))
    mark = wb.active.cell(1, 1).value
    assert "导出人：张伟（zhangwei）" in mark and "审批人：陈静（chenjing）" in mark and f"E{export.pk}" in mark
    assert wb.active.oddHeader.center.text == mark and wb.properties.keywords == f"E{export.pk}"
    flat = " ".join(str(v) for r in rows_of(file.content) for v in r)
    assert "王伟" in flat and "孙强" not in flat and ledger.wang_wei_id not in flat
    assert AuditEvent.objects.filter(action="export.download", outcome="success", actor=world.zhang_wei).count() == 1
    # 24 hours later the download is refused (and audited), and the job deletes the file.
    later = export.expires_at + dt.timedelta(minutes=1)
    with mock.patch("gridgov.interfaces.staff.exports.now", lambda: later):
        gone = zhang.get(reverse("staff:export_download", args=[export.pk]))
    assert gone.status_code == 410 and "已失效" in gone.content.decode()
    assert AuditEvent.objects.filter(action="export.download", outcome="denied", actor=world.zhang_wei).exists()
    name = export.file.name
    assert default_storage.exists(name)
    assert exports.exports_expire(now=export.expires_at - dt.timedelta(minutes=1)) == 0
    assert exports.exports_expire(now=later) == 1
    assert not default_storage.exists(name)
    assert BulkExport.dangerously_unscoped.get(pk=export.pk).status == "expired"
    assert exports.exports_expire(now=later) == 0  # idempotent
    assert AuditEvent.objects.filter(action="export.expire", object_id=str(export.pk)).count() == 1


def test_a_refused_request_makes_no_file(world, ledger, login):
    policy_update(actor=world.zheng_hong, now=T0, export_approval_threshold=2)
    started = exports.export_start(actor=world.zhang_wei, now=T0, unit_id=None, reason="核对")
    assert started.request is not None and started.content is None
    exports.export_decide(actor=world.chen_jing, now=T0, export_id=started.request.pk, approve=False)
    export = BulkExport.dangerously_unscoped.get(pk=started.request.pk)
    assert export.status == "rejected" and not export.file
    assert AuditEvent.objects.filter(action="export.reject", actor=world.chen_jing).exists()
    assert login(world.zhang_wei).get(reverse("staff:export_download", args=[export.pk])).status_code == 410


def test_unanswered_requests_lapse_after_a_week(world, ledger):
    policy_update(actor=world.zheng_hong, now=T0, export_approval_threshold=2)
    started = exports.export_start(actor=world.zhang_wei, now=T0, unit_id=None, reason="核对")
    assert exports.exports_expire(now=T0 + dt.timedelta(days=8)) == 1
    assert BulkExport.dangerously_unscoped.get(pk=started.request.pk).status == "expired"


def test_the_expiry_job_is_on_the_beat_schedule(settings):
    from config.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["residents-exports-expire"]
    assert entry["task"] in app.tasks


def _exporter_without_unmask(world):  # type: ignore[no-untyped-def]
    """A county account holding the export right but not resident.unmask (a custom role)."""
    from gridgov.access.models import Grant, Role
    from gridgov.access.roles import P
    from gridgov.access.services import user_create
    from tests.world import PASSWORD

    role = Role.objects.create(code="exporter", name="台账导出员", builtin=False,
                               permissions=[P.UNIT_VIEW, P.HOUSEHOLD_VIEW, P.HOUSEHOLD_EXPORT])
    user = user_create(actor=None, now=T0, username="daochu", full_name="导出员", password=PASSWORD)
    Grant.dangerously_unscoped.create(user=user, role=role, unit=world.county, granted_at=T0)
    return user


def test_a_full_export_always_needs_a_second_persons_approval_whatever_its_size(world, ledger, login):
    """Decision: a file of identities in clear always needs a second person, even one row under the
    threshold (default 500): the approver holds export and unmask over every unit it covers."""
    exporter = _exporter_without_unmask(world)
    zhang = login(world.zhang_wei)
    filed = zhang.post(reverse("staff:household_export_full"), {"reason": "向民政办报送低保复核名单",
                                                                  "unit": world.grid_a1.pk})
    export = BulkExport.dangerously_unscoped.get()
    assert filed.status_code == 302 and filed.url == reverse("staff:export_detail", args=[export.pk])
    assert export.kind == exports.FULL_KIND and export.status == "pending"
    assert 0 < export.row_count < 500  # far below the threshold, still a request
    assert not AuditEvent.objects.filter(action__in=["household.export", "export.build"]).exists()
    request_event = AuditEvent.objects.get(action="export.request")
    assert request_event.detail["full"] is True and request_event.detail["reason"] == "向民政办报送低保复核名单"
    # The exporter without the unmask right may approve a masked export but not this one; nor the requester.
    assert exports.export_approvers(export) == [world.chen_jing.pk]
    assert login(exporter).get(reverse("staff:export_detail", args=[export.pk])).status_code == 404
    assert login(exporter).post(reverse("staff:export_decide", args=[export.pk]),
                                {"decision": "approve"}).status_code == 404
    zhang.post(reverse("staff:export_decide", args=[export.pk]), {"decision": "approve"})
    assert BulkExport.dangerously_unscoped.get(pk=export.pk).status == "pending"
    assert zhang.get(reverse("staff:export_download", args=[export.pk])).status_code == 410
    detail = login(world.chen_jing).get(reverse("staff:export_detail", args=[export.pk])).content.decode()
    assert "含完整身份证号和电话" in detail
    login(world.chen_jing).post(reverse("staff:export_decide", args=[export.pk]), {"decision": "approve"})
    export.refresh_from_db()
    assert export.status == "ready" and export.expires_at - export.ready_at == dt.timedelta(hours=24)
    # Watermarked with who asked, who approved, when, and that it holds full values.
    file = zhang.get(reverse("staff:export_download", args=[export.pk]))
    wb = load_workbook(io.BytesIO(file.content))
    mark = wb.active.cell(1, 1).value
    for words in ("导出人：张伟（zhangwei）", "审批人：陈静（chenjing）", f"E{export.pk}", "含完整身份证号和电话"):
        assert words in mark
    assert wb.active.oddFooter.center.text == mark
    flat = " ".join(str(v) for r in rows_of(file.content) for v in r)
    assert ledger.wang_wei_id in flat
    assert AuditEvent.objects.get(action="export.build").detail["masked"] is False
    # 24 hours: refused, then deleted by the job.
    later = export.expires_at + dt.timedelta(minutes=1)
    with mock.patch("gridgov.interfaces.staff.exports.now", lambda: later):
        assert zhang.get(reverse("staff:export_download", args=[export.pk])).status_code == 410
    name = export.file.name
    assert exports.exports_expire(now=later) == 1 and not default_storage.exists(name)


def test_a_full_export_is_refused_without_the_unmask_right_or_a_reason(world, ledger):
    from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed

    exporter = _exporter_without_unmask(world)
    with pytest.raises(PermissionDenied):
        exports.export_full_request(actor=exporter, now=T0, unit_id=None, reason="向民政办报送低保复核名单")
    with pytest.raises(ValidationFailed):
        exports.export_full_request(actor=world.zhang_wei, now=T0, unit_id=None, reason="看看")
    with pytest.raises(NotFound):
        exports.export_full_request(actor=world.sun_li, now=T0, unit_id=world.grid_a1.pk, reason="向民政办报送名单")
    assert not BulkExport.dangerously_unscoped.exists()


def test_a_full_export_is_not_built_when_the_requester_lost_the_unmask_right(world, ledger):
    from gridgov.access.models import Grant, Role
    from gridgov.access.roles import P

    export = exports.export_full_request(actor=world.zhang_wei, now=T0, unit_id=None, reason="向民政办报送低保复核名单")
    # 张伟 keeps export but loses unmask before the approval comes.
    grant = Grant.dangerously_unscoped.get(user=world.zhang_wei, revoked_at__isnull=True)
    trimmed = Role.objects.create(code="office_no_unmask", name="乡镇（无完整信息）", builtin=False,
                                  permissions=[p for p in grant.role.permissions if p != P.RESIDENT_UNMASK])
    Grant.dangerously_unscoped.filter(pk=grant.pk).update(role=trimmed)
    exports.export_decide(actor=world.chen_jing, now=T0, export_id=export.pk, approve=True)
    export.refresh_from_db()
    assert export.status == "rejected" and not export.file
    assert AuditEvent.objects.get(action="export.build").outcome == "failure"
