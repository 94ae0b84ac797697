"""Contact cards and supervision cards (联系卡、监督卡) of a grid: real PDFs with embedded Chinese fonts,
N copies in one print run, each QR code decoding to the grid's report link."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from gridgov.audit.models import AuditEvent
from gridgov.interfaces.public.links import grid_url
from tests.boards.test_boards import embedded_fonts, page_text, save

pytestmark = pytest.mark.django_db


def all_qr_codes(pdf: bytes) -> list[str]:
    found = []
    for page in pypdfium2.PdfDocument(pdf):
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]
    return found


@pytest.mark.parametrize("kind, title", [("contact", "网格员联系卡"), ("supervision", "网格服务监督卡")])
def test_cards_for_a_wucheng_grid(pworld, login, kind, title, settings):
    settings.GRIDGOV_SUPERVISION_PHONE = "0352-8320000"
    response = login(pworld.li_qiang).get(f"/units/{pworld.grid_a1.pk}/cards.pdf?kind={kind}&copies=12")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert any("Noto-Sans-CJK-SC" in f for f in embedded_fonts(pdf))
    text = page_text(pdf)
    for expected in (title, "吴城村第一网格", "A1", "王芳", "赵磊", "扫码反映问题"):
        assert expected in text, expected
    if kind == "supervision":
        assert "0352-8320000" in text and "监督电话" in text
    else:
        assert "0352-8123456" in text
    assert len(pypdfium2.PdfDocument(pdf)) == 2  # ten to a sheet
    codes = all_qr_codes(pdf)
    assert codes == [grid_url(pworld.grid_a1.pk)] * 12
    save(pdf, f"{kind}-cards")
    assert AuditEvent.objects.filter(action="board.print", detail__kind=f"{kind}_card").count() == 1


def test_cards_are_scoped_and_copies_bounded(pworld, login):
    assert login(pworld.sun_li).get(f"/units/{pworld.grid_a1.pk}/cards.pdf").status_code == 404
    assert login(pworld.wang_fang).get(f"/units/{pworld.grid_a2.pk}/cards.pdf").status_code == 404
    bad = login(pworld.li_qiang)
    assert bad.get(f"/units/{pworld.grid_a1.pk}/cards.pdf?copies=0").status_code == 400
    assert bad.get(f"/units/{pworld.grid_a1.pk}/cards.pdf?copies=abc").status_code == 400
    assert bad.get(f"/units/{pworld.grid_a1.pk}/cards.pdf?copies=100000").status_code == 400
