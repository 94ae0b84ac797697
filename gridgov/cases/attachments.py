"""Photos and documents on cases: type checked by content (never by name or header), size capped,
stored through Django's storage API (local disk by default, S3-compatible in deployments)."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from typing import IO

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed

from .models import Case, CaseAttachment

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PER_CASE = 30
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def _check_image(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValidationFailed("图片尺寸过大。", field="file")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationFailed("图片文件已损坏或不是真实图片。", field="file") from exc


@transaction.atomic
def attachment_add(*, actor: User | None, now: dt.datetime, case_id: int, stream: IO[bytes],
                   name: str = "") -> CaseAttachment:
    case = Case.dangerously_unscoped.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    role = "system"
    if actor is not None:
        scope = scope_for(actor)
        if not Case.objects.within(scope).filter(pk=case.pk).exists():
            raise NotFound()
        may = (scope.can(P.CASE_REPORT, case.unit_path) or scope.can(P.CASE_HANDLE, case.owner_path)
               or case.holder_department_id in scope.department_ids)
        if not may:
            raise PermissionDenied("您不能为该事件上传附件。")
        role = scope.role_at(case.owner_path) or "department_handler"
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"文件不能超过 {MAX_BYTES // (1024 * 1024)} MB。", field="file")
    if not data:
        raise ValidationFailed("文件是空的。", field="file")
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed("只能上传 JPG、PNG、WebP 图片或 PDF 文件。", field="file")
    content_type, ext = kind
    if content_type.startswith("image/"):
        _check_image(data)
    if CaseAttachment.dangerously_unscoped.filter(case=case).count() >= MAX_PER_CASE:
        raise ValidationFailed(f"每个事件最多 {MAX_PER_CASE} 个附件。", field="file")
    att = CaseAttachment(case=case, content_type=content_type, size=len(data), original_name=(name or "")[:120],
                         uploaded_by=actor, uploaded_at=now)
    # A random name: the original file name never reaches the storage path.
    att.file.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(data), save=False)
    att.save()
    audit_record(action="case.attachment_add", actor=actor, now=now, obj=att, unit_path=case.owner_path, role=role,
                 detail={"case": case.number, "type": content_type, "size": len(data)})
    return att
