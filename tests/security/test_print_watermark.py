"""A printed case form carries the reporter's name and phone: the PDF shows who printed it and when
(a visible watermark across the page and a line at the top), and the print is audited."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from gridgov.audit.models import AuditEvent
from tests.cases.conftest import categories, kit  # noqa: F401  (the case fixtures, shared)

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "security"


def test_a_printed_form_is_watermarked_and_audited(kit, login):  # noqa: F811
    case = kit.to_state("reported", title="路灯不亮", reporter_name="杨大叔", reporter_phone="13400000007")
    response = login(kit.world.zhang_wei).get(reverse("staff:case_form", args=[case.pk, "report"]))
    assert response.status_code == 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "report-watermarked.pdf"
    pdf.write_bytes(response.content)
    doc = pdfium.PdfDocument(response.content)
    text = doc[0].get_textpage().get_text_range()
    assert "打印人：张伟（zhangwei）" in text and "打印时间：" in text
    assert text.count("打印人：张伟") >= 2
    doc[0].render(scale=1).to_pil().save(ARTIFACTS / "report-watermarked.png")
    doc.close()
    event = AuditEvent.objects.get(action="case.print")
    assert event.actor == kit.world.zhang_wei and event.object_id == str(case.pk) and event.detail["form"] == "report"
