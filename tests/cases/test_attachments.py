from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gridgov.cases.models import CaseAttachment, CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def upload(client, case, name, data, content_type="image/png"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/cases/{case.pk}/attachments",
                       {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def test_real_photo_is_stored_and_served_only_in_scope(kit, login):
    w = kit.world
    case = kit.to_state("dispatched")
    r = upload(login(w.liu_yang), case, "现场.png", png_bytes())
    assert r.status_code == 201, r.content
    att = CaseAttachment.dangerously_unscoped.get(pk=r.json()["id"])
    assert att.content_type == "image/png" and "现场" not in att.file.name
    url = reverse("staff:case_attachment", args=[att.pk])
    ok = login(w.zhang_wei).get(url)
    assert ok.status_code == 200 and b"".join(ok.streaming_content).startswith(b"\x89PNG")
    assert ok["Cache-Control"] == "private, no-store"
    assert login(w.sun_li).get(url).status_code == 404
    assert login(w.qian_duo).get(url).status_code == 404  # grid worker of A2


@pytest.mark.parametrize(("name", "data", "message"), [
    ("fake.png", b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10, "真实图片"),
    ("photo.jpg", b"MZ\x90\x00 an executable", "只能上传"),
    ("note.txt", "你好".encode(), "只能上传"),
    ("empty.png", b"", "空"),
])
def test_fake_or_wrong_files_are_refused(kit, login, name, data, message):
    case = kit.to_state("reported")
    r = upload(login(kit.world.wang_fang), case, name, data)
    assert r.status_code == 400 and message in r.json()["message"]
    assert CaseAttachment.dangerously_unscoped.count() == 0


def test_huge_file_is_refused(kit, login):
    case = kit.to_state("reported")
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10)
    r = upload(login(kit.world.wang_fang), case, "big.pdf", big, "application/pdf")
    assert r.status_code == 400 and "10 MB" in r.json()["message"]


def test_return_with_evidence_and_feedback_with_photos(kit, login):
    w = kit.world
    case = kit.to_state("dispatched")
    dept = login(w.liu_yang)
    att_id = upload(dept, case, "依据.pdf", b"%PDF-1.4\n%%EOF", "application/pdf").json()["id"]
    r = dept.post(f"/api/cases/{case.pk}/actions/return", data={
        "reason_code": "wrong_place", "note": "不在本所辖区", "attachment_ids": [att_id]},
        content_type="application/json")
    assert r.status_code == 200
    assert CaseEvent.dangerously_unscoped.get(case=case, action="return").detail["attachments"] == [att_id]
    # Someone else's attachment cannot be linked.
    other = kit.to_state("dispatched")
    r = dept.post(f"/api/cases/{other.pk}/actions/return", data={
        "reason_code": "other", "note": "x", "attachment_ids": [att_id]}, content_type="application/json")
    assert r.status_code == 400


def test_outsider_cannot_upload(kit, login):
    case = kit.to_state("reported")
    assert upload(login(kit.world.sun_li), case, "x.png", png_bytes()).status_code == 404
