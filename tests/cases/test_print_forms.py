"""The four forms render as PDF with embedded CJK fonts; PNGs go to artifacts/forms/ for a look."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "forms"


def _fonts(pdf: Path) -> str:
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_four_forms_render_with_embedded_fonts_numbers_and_qr(kit, login):
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
        assert f"140225-2026-{number_letter}00001" in r["Content-Disposition"]
        pdf = ARTIFACTS / f"{kind}.pdf"
        pdf.write_bytes(r.content)
        assert r.content.startswith(b"%PDF")
        fonts = _fonts(pdf)
        assert "Noto-Serif-CJK-SC" in fonts, fonts
        for line in fonts.splitlines()[2:]:
            assert " yes " in line, f"font not embedded: {line}"
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(ARTIFACTS / kind)],
                           check=True)


def test_forms_are_scoped(kit, login):
    case = kit.to_state("reported")
    r = login(kit.world.sun_li).get(reverse("staff:case_form", args=[case.pk, "report"]))
    assert r.status_code == 404
    r = login(kit.world.zhang_wei).get(reverse("staff:case_form", args=[case.pk, "dispatch"]))
    assert r.status_code == 404  # not dispatched yet: no such form
