"""Upload limits of a report, app and proxy together: a report without scripts sends the camera's
originals, so three photos at the per-photo limit and the form must get through nginx and the app;
anything larger gets a plain Chinese page and writes nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.cases import attachments
from gridgov.cases.models import Case, CaseAttachment
from gridgov.cases.public.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, MAX_REPORT_BODY
from gridgov.residents import excel

from .test_report import form_key, grid_path

pytestmark = pytest.mark.django_db
NGINX = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "gridgov.conf"
MB = 1024 * 1024


def camera_photo(size: int, color: str = "blue") -> SimpleUploadedFile:
    """A JPEG of exactly `size` bytes, like a phone camera's original (the tail is padding after EOI)."""
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), color).save(out, "JPEG")
    data = out.getvalue()
    return SimpleUploadedFile(f"IMG_{color}.jpg", data + b"\0" * (size - len(data)), content_type="image/jpeg")


def nginx_limits() -> dict[str, int]:
    """client_max_body_size per location ("" for the server level), in bytes."""
    text = re.sub(r"#.*", "", NGINX.read_text())
    limits: dict[str, int] = {}
    location = ""
    depth = 0
    for token in re.finditer(r"location\s+(=\s*)?(\S+)\s*\{|\{|\}|client_max_body_size\s+(\d+)([kKmM]?);", text):
        if token.group(2):
            location, depth = token.group(2), 1
        elif token.group() == "{" and location:
            depth += 1
        elif token.group() == "}" and location:
            depth -= 1
            if depth == 0:
                location = ""
        elif token.group(3):
            unit = {"": 1, "k": 1024, "m": MB}[token.group(4).lower()]
            limits[location] = int(token.group(3)) * unit
    return limits


def test_nginx_lets_every_valid_upload_through_and_not_much_more():
    limits = nginx_limits()
    assert MAX_REPORT_BODY == MAX_PHOTOS * MAX_PHOTO_BYTES + MB
    assert MAX_REPORT_BODY < limits["/p/"] <= MAX_REPORT_BODY + 2 * MB, limits
    assert attachments.MAX_BYTES < limits[""] <= attachments.MAX_BYTES + 4 * MB, limits
    assert excel.MAX_BYTES < limits["/households/import/"] <= excel.MAX_BYTES + 4 * MB, limits
    assert "error_page 413 @too_large" in NGINX.read_text()


def test_three_camera_originals_at_the_limit_make_one_case(pworld, client):
    path = grid_path(pworld)
    key = form_key(client.get(path).content.decode())
    photos = [camera_photo(MAX_PHOTO_BYTES - 4096, c) for c in ("red", "green", "blue")]
    response = client.post(path, {"key": key, "category": "sanitation", "description": "村口垃圾没人清运",
                                  "photos": photos})
    assert response.status_code == 303, response.content.decode()[:2000]
    case = Case.dangerously_unscoped.get()
    assert case.attachments.count() == 3
    assert all(a.size < 200_000 for a in case.attachments.all())  # re-encoded, padding and all dropped


def test_a_body_larger_than_any_valid_report_gets_a_chinese_page_and_writes_nothing(pworld, client):
    path = grid_path(pworld)
    key = form_key(client.get(path).content.decode())
    photos = [camera_photo(MAX_PHOTO_BYTES - 4096, c) for c in ("red", "green", "blue", "white")]
    response = client.post(path, {"key": key, "category": "sanitation", "description": "村口垃圾没人清运",
                                  "photos": photos})
    assert response.status_code == 413
    html = response.content.decode()
    assert "没有提交成功" in html and "每张照片不能超过 10 MB，最多 3 张" in html
    assert Case.dangerously_unscoped.count() == 0 and CaseAttachment.dangerously_unscoped.count() == 0


def test_one_photo_over_the_limit_is_named_in_chinese(pworld, client):
    path = grid_path(pworld)
    key = form_key(client.get(path).content.decode())
    response = client.post(path, {"key": key, "category": "sanitation", "description": "村口垃圾没人清运",
                                  "photos": [camera_photo(1000, "red"), camera_photo(MAX_PHOTO_BYTES + 1, "blue")]})
    assert response.status_code == 400
    assert "第 2 张照片太大了（超过 10 MB）" in response.content.decode()
    assert Case.dangerously_unscoped.count() == 0
