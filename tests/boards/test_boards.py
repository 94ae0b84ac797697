"""Grid boards and structure boards: real PDFs with embedded Chinese fonts, a QR code that decodes
to the grid's signed link, and that link opening the grid's public page."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from gridgov.audit.models import AuditEvent
from gridgov.interfaces.public.links import grid_token, grid_url, unit_id_from_token

pytestmark = pytest.mark.django_db


def embedded_fonts(pdf: bytes) -> set[str]:
    fonts: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            if descriptor and any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                fonts.add(str(target["/BaseFont"]))
    return fonts


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def save(pdf: bytes, name: str) -> None:
    """Keep the PDF and a PNG of its first page for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil().save(ARTIFACTS / f"{name}.png")


def page_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes(pdf: bytes) -> list[str]:
    doc = pypdfium2.PdfDocument(pdf)
    image = doc[0].render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_grid_board_pdf_embeds_chinese_fonts_and_a_working_qr(world, login, size):
    client = login(world.li_qiang)
    response = client.get(f"/units/{world.grid_a1.pk}/board.pdf?size={size}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert any("Noto-Sans-CJK-SC" in f for f in embedded_fonts(pdf)), embedded_fonts(pdf)
    text = page_text(pdf)
    for expected in ("吴城村第一网格", "A1", "王芳", "赵磊", "网格长", "0352-8123456", "扫一扫"):
        assert expected in text, expected
    assert qr_codes(pdf) == [grid_url(world.grid_a1.pk)]
    save(pdf, f"grid-board-{size}")
    assert AuditEvent.objects.filter(action="board.print", object_id=str(world.grid_a1.pk)).count() == 1


def test_structure_board_lists_grids_with_heads_and_workers(world, login):
    response = login(world.zhang_wei).get(f"/units/{world.village.pk}/structure.pdf")
    assert response.status_code == 200
    text = page_text(response.content)
    save(response.content, "structure-board")
    for expected in ("吴城村网格架构设置图", "吴城村第一网格", "吴城村第二网格", "赵磊", "王芳", "钱多", "李强"):
        assert expected in text, expected


def test_boards_are_scoped(world, login):
    outsider = login(world.sun_li)
    assert outsider.get(f"/units/{world.grid_a1.pk}/board.pdf").status_code == 404
    assert outsider.get(f"/units/{world.village.pk}/structure.pdf").status_code == 404
    assert login(world.wang_fang).get(f"/units/{world.grid_a2.pk}/board.pdf").status_code == 404


def test_the_qr_link_opens_the_grids_public_page_without_personal_data(world, client):
    url = grid_url(world.grid_a1.pk)
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "吴城村第一网格" in html and "王芳" in html and "tel:0352-8123456" in html


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: "1", lambda t: "a" * 300],
)
def test_forged_or_altered_links_are_refused(world, client, mangle):
    token = mangle(grid_token(world.grid_a1.pk))
    assert unit_id_from_token(token) is None
    response = client.get(f"/p/g/{token}/")
    assert response.status_code == 404
    assert "王芳" not in response.content.decode()


def test_a_grid_without_its_own_head_shows_the_head_of_the_grid_above(world, login, client):
    """吴城乡's scheme: the village-level 网格长 leads its third-level grids. A2 has no head of its own."""
    from gridgov.access.services import grant_create, user_create
    from gridgov.units.selectors import board_staff, public_board_staff
    from tests.world import T0

    head = user_create(actor=None, now=T0, username="sunhua", full_name="孙华", password="x", validate=False,
                       work_phone="0352-8120000")
    grant_create(actor=None, now=T0, user=head, role_code="grid_head", unit=world.village)
    a2 = [g.user.full_name for g in public_board_staff(world.grid_a2)]
    assert a2[0] == "孙华" and "钱多" in a2
    assert "孙华" not in [g.user.full_name for g in public_board_staff(world.grid_a1)]  # A1 has 赵磊
    text = page_text(login(world.li_qiang).get(f"/units/{world.grid_a2.pk}/board.pdf").content)
    assert "孙华" in text and "0352-8120000" in text
    # The same board whoever prints it: the grid worker of A2 cannot see the village's grants, yet
    # the head is on the board.
    from gridgov.access.scope import scope_for

    assert "孙华" in [g.user.full_name for g in board_staff(scope=scope_for(world.qian_duo),
                                                              units=[world.grid_a2])[world.grid_a2.pk]]
    assert "孙华" in client.get(f"/p/g/{grid_token(world.grid_a2.pk)}/").content.decode()
