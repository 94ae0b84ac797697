"""The four forms render as PDF with embedded CJK fonts; PNGs go to artifacts/forms/ for a look."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "forms"


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Every font of the document → whether its program is embedded (pypdf; no poppler needed)."""
    from pypdf import PdfReader

    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            for f in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                desc = f.get("/FontDescriptor")
                if desc is None:
                    continue
                desc = desc.get_object()
                found[str(f.get("/BaseFont"))] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def _png(pdf: bytes, out: Path) -> None:
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    doc[0].render(scale=1.2).to_pil().save(out)


def test_four_forms_render_with_embedded_fonts_numbers_and_qr(kit, login):
    from pypdf import PdfReader

    w = kit.world
    case = kit.to_state("acknowledged", category="dispute_neighbour", title="邻里宅基地纠纷",
                        description="两户因院墙位置发生争执，多次协商未果。", reporter_name="杨大叔",
                        reporter_phone="13400000007", address="吴城村三组")
    kit.act(case, "urge", w.zhang_wei, note="请于本周内办结")
    kit.act(case, "feedback", w.liu_yang, result="经现场调解，双方同意按原界址重建院墙，已签调解协议。")
    client = login(w.zhang_wei)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for kind, number_letter in (("report", "S"), ("dispatch", "J"), ("urge", "C"), ("feedback", "F")):
        r = client.get(reverse("staff:case_form", args=[case.pk, kind]))
        assert r.status_code == 200, kind
        assert r["Content-Type"] == "application/pdf"
        number = f"140225-2026-{number_letter}00001"
        assert number in r["Content-Disposition"]
        assert r.content.startswith(b"%PDF")
        (ARTIFACTS / f"{kind}.pdf").write_bytes(r.content)
        fonts = _fonts(r.content)
        assert any("NotoSerifCJK" in name or "Noto-Serif-CJK" in name for name in fonts), fonts
        assert all(fonts.values()), f"fonts not embedded: {fonts}"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        assert number in text and "邻里宅基地纠纷" in text
        # The reporter is masked on paper too.
        assert "13400000007" not in text and "杨大叔" not in text
        _png(r.content, ARTIFACTS / f"{kind}.png")


def test_forms_are_scoped(kit, login):
    case = kit.to_state("reported")
    r = login(kit.world.sun_li).get(reverse("staff:case_form", args=[case.pk, "report"]))
    assert r.status_code == 404
    r = login(kit.world.zhang_wei).get(reverse("staff:case_form", args=[case.pk, "dispatch"]))
    assert r.status_code == 404  # not dispatched yet: no such form
