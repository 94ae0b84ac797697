"""docs/glossary.md is the shared glossary copied verbatim, plus this branch's added terms."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_glossary() -> Path | None:
    # The shared folder sits next to the checkout (../shared) or next to the worktrees (../../shared).
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "GLOSSARY.md"
        if candidate.is_file():
            return candidate
    return None


def test_glossary_copy_is_current():
    source = shared_glossary()
    if source is None:
        pytest.skip("../shared/GLOSSARY.md is not next to this checkout")
    ours = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert source.read_text(encoding="utf-8").strip() in ours, "copy ../shared/GLOSSARY.md into docs/glossary.md again"


def test_added_terms_come_last():
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[-1] == "## Added terms"
