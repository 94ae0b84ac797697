"""Photos from residents and result photos shown to the public: checked by content with Pillow and
re-encoded, so nothing the camera wrote (EXIF, GPS position, maker notes, ICC profile) survives."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from gridgov.core.errors import ValidationFailed

MAX_PHOTOS = 3
# Without scripts a phone uploads the camera's original (often 4–8 MB); with them, about 200 KB.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# The text fields, the multipart boundaries and headers of a report: a 2,000-character description is
# 6 KB in UTF-8; 1 MB leaves room for anything a browser adds.
FORM_OVERHEAD_BYTES = 1024 * 1024
# The largest report body the app accepts (three photos at the limit and the form). deploy/nginx/gridgov.conf
# lets this much through on /p/ (a test compares them), so the resident gets the app's Chinese page
# rather than nginx's bare 413.
MAX_REPORT_BODY = MAX_PHOTOS * MAX_PHOTO_BYTES + FORM_OVERHEAD_BYTES
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})


def clean_photo(data: bytes, *, label: str = "照片") -> bytes:
    """A metadata-free JPEG of at most MAX_SIDE pixels, or ValidationFailed with a plain message."""
    if not data:
        raise ValidationFailed(f"{label}是空的，请重新拍照。", field="photos")
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(f"{label}太大了（超过 10 MB），请换一张或重新拍照。", field="photos")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()
        if fmt not in ACCEPTED_FORMATS:
            raise ValidationFailed(f"{label}不是常见的图片格式，请上传手机拍的照片。", field="photos")
        if width * height > MAX_PIXELS:
            raise ValidationFailed(f"{label}尺寸过大，请换一张。", field="photos")
        with Image.open(io.BytesIO(data)) as img:
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
        rgb.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        # No exif=, no icc_profile=: Pillow writes none of the original's metadata.
        rgb.save(out, format="JPEG", quality=80, optimize=True)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(f"{label}无法识别，请上传手机拍的照片（JPG 或 PNG）。", field="photos")
    return out.getvalue()
