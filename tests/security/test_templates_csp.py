"""No template carries inline script or inline event handlers: the Content-Security-Policy
(script-src 'self') would block them, so a feature silently stops working. JSON data islands
(`json_script`, type="application/json") are allowed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "gridgov"
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def templates() -> list[Path]:
    return sorted(p for p in ROOT.rglob("templates/**/*.html"))


def test_no_template_has_inline_script_or_handlers():
    assert len(templates()) > 20
    problems = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        for attrs in SCRIPT.findall(text):
            if "src=" not in attrs and "application/json" not in attrs:
                problems.append(f"{path.relative_to(ROOT)}: inline <script{attrs}>")
        if HANDLER.search(text) or "javascript:" in text:
            problems.append(f"{path.relative_to(ROOT)}: inline event handler or javascript: URL")
    assert not problems, "\n".join(problems)


def test_the_scan_can_fail():
    assert SCRIPT.findall("<script>alert(1)</script>") == [""]
    assert HANDLER.search('<form class="inline" onsubmit="return confirm(1)">')
