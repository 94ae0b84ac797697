"""Bulk exports of personal data (等保 level 3, 个人信息保护法 Art. 51):

- up to the policy's threshold (default 500 resident records) the file is made at once;
- above it the export waits for a second person's approval: someone other than the requester who
  holds the export right over every unit the file covers (at or above them);
- every file is watermarked with who exported it and when (a visible first row, the printed page
  header and footer, the document properties);
- an approved file can be downloaded by its requester for 24 hours; after that the download is
  refused, and a job deletes the file;
- every step (request, approval or refusal, build, download, refused download, expiry) is audited.

A full export (ID numbers and phones in clear, `kind = households_full`) always waits for a second
person, whatever its size: a file of people's identities in clear is the worst leak the ledger can
have, so no single account — nor a stolen session or API token — can take one alone. It needs a
written reason and a fresh authenticator code (at the request and at the download), the approver
must hold both the export and the unmask right over every unit it covers, and it follows the same
watermark, 24-hour download and expiry as any bulk export.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from gridgov.access.models import Grant, Role, User
from gridgov.access.policy import policy
from gridgov.access.roles import P
from gridgov.access.scope import Scope, scope_for
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.core.clock import local
from gridgov.core.errors import CommonError, NotFound, PermissionDenied, ValidationFailed
from gridgov.notify.services import notify_users
from gridgov.units.models import Unit

from . import excel
from .errors import ResidentError
from .models import BulkExport

FULL_KIND = "households_full"
FILE_LIFETIME = dt.timedelta(hours=24)
# A request nobody decided on within a week lapses.
PENDING_LIFETIME = dt.timedelta(days=7)


@dataclass
class ExportStart:
    content: bytes | None = None
    request: BulkExport | None = None
    rows: int = 0


def watermark_text(*, user: Any, at: dt.datetime, export_id: int | None = None, approver: Any = None,
                   full: bool = False) -> str:
    who = f"{user.display_name}（{user.get_username()}）"
    parts = [f"导出人：{who}", f"导出时间：{local(at):%Y-%m-%d %H:%M}"]
    if approver is not None:
        parts.append(f"审批人：{approver.display_name}（{approver.get_username()}）")
    if export_id is not None:
        parts.append(f"编号 E{export_id}")
    if full:
        parts.append("含完整身份证号和电话")
    parts.append("内含个人信息，仅限工作使用，不得外传")
    return " · ".join(parts)


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("导出条数较多，需要审批：请写明用途。", field="reason", reason=CommonError.REQUIRED)
    if len(text) > 200:
        raise ValidationFailed("用途不能超过 200 个字。", field="reason", reason=CommonError.TOO_LONG)
    return text


def export_start(*, actor: User, now: dt.datetime, unit_id: int | None, reason: str = "") -> ExportStart:
    """A small export is made at once; a large one becomes a request waiting for approval."""
    scope = scope_for(actor)
    unit = excel.export_unit(scope, unit_id)
    rows = excel.export_count(scope, unit)
    threshold = policy().export_approval_threshold
    root = unit.path if unit else min(scope.paths_for(P.HOUSEHOLD_EXPORT), key=len)
    if rows <= threshold:
        with transaction.atomic():
            mark = watermark_text(user=actor, at=now)
            content, written = excel.export_workbook(scope=scope, unit=unit, now=now, watermark=mark,
                                                     properties={"creator": actor.get_username()})
            audit_record(action="household.export", actor=actor, now=now, unit_path=unit.path if unit else "",
                         role=scope.role_at(root),
                         detail={"rows": written, "masked": True, "unit": unit.pk if unit else None,
                                 "threshold": threshold, "watermark": mark})
        return ExportStart(content=content, rows=written)
    reason = _reason(reason)
    paths = [unit.path] if unit else list(scope.paths_for(P.HOUSEHOLD_EXPORT))
    with transaction.atomic():
        export = BulkExport.dangerously_unscoped.create(unit_path=root, paths=paths,
                                                        params={"unit": unit.pk if unit else None},
                                            row_count=rows, requested_by=actor, requested_at=now, reason=reason)
        audit_record(action="export.request", actor=actor, now=now, obj=export, unit_path=root,
                     role=scope.role_at(root), detail={"rows": rows, "threshold": threshold, "reason": reason})
        notify_users(user_ids=export_approvers(export), topic="export.approval",
                     title=f"{actor.display_name} 申请导出 {rows} 条人员信息，请审批",
                     body=f"用途：{reason}", link=f"/exports/{export.pk}/",
                     dedupe_key=f"export:{export.pk}:request", now=now)
    return ExportStart(request=export, rows=rows)


def _unmask_everywhere(scope: Scope, paths: list[str]) -> bool:
    return bool(paths) and all(scope.can(P.RESIDENT_UNMASK, p) for p in paths)


def export_full_request(*, actor: User, now: dt.datetime, unit_id: int | None, reason: str) -> BulkExport:
    """Ask for a full export (ID numbers and phones in clear): always a request for a second
    person's approval, whatever the number of rows. For holders of household.export and
    resident.unmask over every unit the file covers; the reason is the unmasking's."""
    from .unmasking import unmask_reason

    scope = scope_for(actor)
    unit = excel.export_unit(scope, unit_id)
    paths = [unit.path] if unit else list(scope.paths_for(P.HOUSEHOLD_EXPORT))
    if not _unmask_everywhere(scope, paths):
        raise PermissionDenied("您没有导出完整身份证号和电话的权限。", reason=CommonError.FORBIDDEN)
    reason = unmask_reason(reason)
    rows = excel.export_count(scope, unit)
    if rows == 0:
        raise ValidationFailed("所选范围内没有可导出的人员记录。", reason=ResidentError.EXPORT_EMPTY)
    root = unit.path if unit else min(paths, key=len)
    with transaction.atomic():
        export = BulkExport.dangerously_unscoped.create(kind=FULL_KIND, unit_path=root, paths=paths,
                                            params={"unit": unit.pk if unit else None, "full": True},
                                            row_count=rows, requested_by=actor, requested_at=now, reason=reason)
        audit_record(action="export.request", actor=actor, now=now, obj=export, unit_path=root,
                     role=scope.role_at(root), detail={"rows": rows, "full": True, "reason": reason})
        notify_users(user_ids=export_approvers(export), topic="export.approval",
                     title=f"{actor.display_name} 申请导出 {rows} 条含完整身份证号和电话的人员信息，请审批",
                     body=f"用途：{reason}", link=f"/exports/{export.pk}/",
                     dedupe_key=f"export:{export.pk}:request", now=now)
    return export


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def may_approve(scope: Scope, export: BulkExport) -> bool:
    if scope.user_id == export.requested_by_id or not all(scope.can(P.HOUSEHOLD_EXPORT, p) for p in export.paths):
        return False
    # A full export: only someone who could see the same identities in full may let them out.
    return export.kind != FULL_KIND or _unmask_everywhere(scope, export.paths)


def export_approvers(export: BulkExport) -> list[int]:
    """Everyone but the requester holding the export right at or above every unit the file covers."""
    roles = [r.pk for r in Role.objects.all() if P.HOUSEHOLD_EXPORT in r.permissions]
    ancestors = {a for p in export.paths for a in _ancestors(p)}
    candidates = set(
        Grant.dangerously_unscoped.filter(role_id__in=roles, revoked_at__isnull=True, unit__path__in=ancestors,
                              user__is_active=True).exclude(user_id=export.requested_by_id)
        .values_list("user_id", flat=True)
    )
    from gridgov.access.models import User

    return sorted(u.pk for u in User.objects.filter(pk__in=candidates) if may_approve(scope_for(u), export))


def export_get(*, scope: Scope, export_id: int) -> BulkExport:
    """A request its requester or a possible approver may open; anyone else gets NotFound."""
    export = BulkExport.dangerously_unscoped.select_related("requested_by", "decided_by").filter(pk=export_id).first()
    if export is None or not (export.requested_by_id == scope.user_id or may_approve(scope, export)):
        raise NotFound()
    return export


def exports_for(*, scope: Scope, limit: int = 100) -> tuple[list[BulkExport], list[BulkExport]]:
    """(my requests, requests waiting for my approval)."""
    mine = list(BulkExport.dangerously_unscoped.filter(requested_by_id=scope.user_id)
                .select_related("decided_by")[:limit])
    if not scope.can(P.HOUSEHOLD_EXPORT):
        return mine, []
    waiting = [
        e
        for e in BulkExport.objects.within(scope)
        .filter(status=BulkExport.Status.PENDING)
        .select_related("requested_by")[:limit]
        if may_approve(scope, e)
    ]
    return mine, waiting


def _refuse(*, action: str, actor: User | None, now: dt.datetime, export: BulkExport, why: str, exc: Exception) -> None:
    """Audit a refused step in its own transaction (it stays when the refusal is raised), then raise."""
    with transaction.atomic():
        audit_record(
            action=action,
            actor=actor,
            now=now,
            obj=export,
            unit_path=export.unit_path,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"why": why},
        )
    raise exc


def export_decide(*, actor: User, now: dt.datetime, export_id: int, approve: bool) -> BulkExport:
    """The second person approves (the file is then built) or refuses a pending request."""
    scope = scope_for(actor)
    export = export_get(scope=scope, export_id=export_id)
    if export.requested_by_id == actor.pk:
        _refuse(
            action="export.approve",
            actor=actor,
            now=now,
            export=export,
            why="self",
            exc=PermissionDenied("不能审批自己的导出申请，须由另一位有导出权限的人员审批。"),
        )
    with transaction.atomic():
        export = BulkExport.dangerously_unscoped.select_for_update().get(pk=export.pk)
        if export.status != BulkExport.Status.PENDING:
            raise ValidationFailed("该申请已处理。", reason=ResidentError.EXPORT_ALREADY_DECIDED)
        export.status = BulkExport.Status.APPROVED if approve else BulkExport.Status.REJECTED
        export.decided_by = actor
        export.decided_at = now
        export.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            action="export.approve" if approve else "export.reject",
            actor=actor,
            now=now,
            obj=export,
            unit_path=export.unit_path,
            role=scope.role_at(export.unit_path),
            detail={"rows": export.row_count, "requested_by": export.requested_by.get_username()},
        )
        if not approve:
            notify_users(
                user_ids=[export.requested_by_id],
                topic="export.rejected",
                title=f"您的导出申请 E{export.pk} 未获批准",
                link=f"/exports/{export.pk}/",
                dedupe_key=f"export:{export.pk}:rejected",
                now=now,
            )
    if approve:
        from .tasks import export_build  # late: the task module imports this one

        export_build.delay(export.pk)
    return export


def export_build(*, export_id: int, now: dt.datetime) -> BulkExport:
    """Build an approved file from the requester's scope as it is now (idempotent)."""
    with transaction.atomic():
        # Lock only the export row (PostgreSQL refuses FOR UPDATE on the nullable side of a join).
        export = (
            BulkExport.dangerously_unscoped.select_for_update(of=("self",))
            .select_related("requested_by", "decided_by")
            .get(pk=export_id)
        )
        if export.status != BulkExport.Status.APPROVED:
            return export
        requester = export.requested_by
        scope = scope_for(requester)
        full = export.kind == FULL_KIND
        try:
            unit = excel.export_unit(scope, export.params.get("unit"))
            if full and not _unmask_everywhere(scope, export.paths):
                raise PermissionDenied(reason=CommonError.FORBIDDEN)
        except (NotFound, PermissionDenied):
            export.status = BulkExport.Status.REJECTED
            export.save(update_fields=["status"])
            audit_record(
                action="export.build",
                actor=None,
                now=now,
                obj=export,
                unit_path=export.unit_path,
                outcome=AuditEvent.Outcome.FAILURE,
                detail={"why": "requester lost the export right"},
            )
            return export
        mark = watermark_text(user=requester, at=now, export_id=export.pk, approver=export.decided_by, full=full)
        content, rows = excel.export_workbook(
            scope=scope,
            unit=unit,
            now=now,
            watermark=mark,
            full=full,
            properties={"creator": requester.get_username(), "keywords": f"E{export.pk}"},
        )
        name = default_storage.save(f"exports/E{export.pk}-{secrets.token_hex(16)}.xlsx", ContentFile(content))
        export.file.name = name
        export.watermark = mark[:300]
        export.row_count = rows
        export.status = BulkExport.Status.READY
        export.ready_at = now
        export.expires_at = now + FILE_LIFETIME
        export.save(update_fields=["file", "watermark", "row_count", "status", "ready_at", "expires_at"])
        audit_record(
            action="export.build",
            actor=None,
            now=now,
            obj=export,
            unit_path=export.unit_path,
            detail={"rows": rows, "masked": not full, "expires_at": export.expires_at.isoformat(), "watermark": mark},
        )
        notify_users(
            user_ids=[requester.pk],
            topic="export.ready",
            title=f"导出 E{export.pk} 已批准，请在 24 小时内下载",
            link=f"/exports/{export.pk}/",
            dedupe_key=f"export:{export.pk}:ready",
            now=now,
        )
    return export


def export_download(*, actor: User, now: dt.datetime, export_id: int) -> tuple[bytes, str]:
    """The file, for its requester only, within 24 hours of being built."""
    export = BulkExport.dangerously_unscoped.filter(pk=export_id).first()
    if export is None or export.requested_by_id != actor.pk:
        raise NotFound()
    if export.status != BulkExport.Status.READY or export.expires_at is None or now >= export.expires_at:
        why = "expired" if export.status in (BulkExport.Status.READY, BulkExport.Status.EXPIRED) else export.status
        _refuse(
            action="export.download",
            actor=actor,
            now=now,
            export=export,
            why=why,
            exc=ValidationFailed(
                "该导出文件已失效（批准后 24 小时内可下载），请重新申请。"
                if why == "expired"
                else "该导出申请尚未批准，暂不能下载。"
            ),
        )
    with transaction.atomic():
        BulkExport.dangerously_unscoped.filter(pk=export.pk).update(downloads=export.downloads + 1)
        audit_record(
            action="export.download",
            actor=actor,
            now=now,
            obj=export,
            unit_path=export.unit_path,
            detail={"rows": export.row_count, "masked": export.kind != FULL_KIND},
        )
    with default_storage.open(export.file.name, "rb") as fh:
        content: bytes = fh.read()
    kind = "households-full" if export.kind == FULL_KIND else "households"
    return content, f"{kind}-E{export.pk}-{local(export.ready_at or now):%Y%m%d}.xlsx"


def exports_expire(*, now: dt.datetime) -> int:
    """The hourly job: delete files 24 hours after they were built, lapse requests nobody decided on.
    Idempotent; each expiry audited once."""
    due = list(
        BulkExport.dangerously_unscoped.filter(status=BulkExport.Status.READY, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    due += list(
        BulkExport.dangerously_unscoped.filter(
            status=BulkExport.Status.PENDING, requested_at__lte=now - PENDING_LIFETIME
        ).values_list("pk", flat=True)
    )
    done = 0
    for pk in due:
        name = ""
        with transaction.atomic():
            export = BulkExport.dangerously_unscoped.select_for_update().filter(pk=pk).first()
            if export is None or export.status not in (BulkExport.Status.READY, BulkExport.Status.PENDING):
                continue
            name = export.file.name
            was = export.status
            export.status = BulkExport.Status.EXPIRED
            export.file.name = ""
            export.save(update_fields=["status", "file"])
            audit_record(
                action="export.expire",
                actor=None,
                now=now,
                obj=export,
                unit_path=export.unit_path,
                detail={"was": was, "file_deleted": bool(name)},
            )
            done += 1
        if name:
            default_storage.delete(name)  # after the commit: a failed commit leaves the file for the next run
    return done


def unit_of(export: BulkExport) -> Unit | None:
    unit_id = export.params.get("unit")
    return Unit.dangerously_unscoped.filter(pk=unit_id).first() if unit_id else None
