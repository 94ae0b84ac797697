"""An evidence photo (a visit's, a duty item's): type checked by content (never by name or header), size
and pixel count capped (the same rules as case attachments, which also take PDFs)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from gridgov.core.errors import ValidationFailed

# Cheap phones shoot 2–5 MB; a weak signal makes anything bigger a lost cause anyway.
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    content_type: str
    ext: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def check_photo(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> CheckedPhoto:
    if len(data) > max_bytes:
        raise ValidationFailed(f"照片不能超过 {max_bytes // (1024 * 1024)} MB。", field="photo")
    if not data:
        raise ValidationFailed("照片文件是空的。", field="photo")
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed("只能上传 JPG、PNG 或 WebP 照片。", field="photo")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_pixels:
                raise ValidationFailed("照片尺寸过大。", field="photo")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationFailed("照片文件已损坏或不是真实图片。", field="photo") from exc
    return CheckedPhoto(data=data, content_type=kind[0], ext=kind[1])
