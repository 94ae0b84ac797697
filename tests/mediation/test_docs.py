"""docs/mediation.md describes the table as it is: every action, with its sources and target."""

from __future__ import annotations

from pathlib import Path

from gridgov.mediation import services
from gridgov.mediation.states import ACTIONS, Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "mediation.md"


def test_the_doc_lists_every_action_as_the_table_has_it():
    text = DOC.read_text(encoding="utf-8")
    for a in ACTIONS.values():
        src = ", ".join(s.value for s in Status if s in a.sources)
        row = (f"| `{a.code}` | {a.label} | {src} | {a.target.value if a.target else '(unchanged)'} | "
               f"{', '.join(sorted(services.action_params(a.code)))} |")
        assert row in text, f"docs/mediation.md is stale for {a.code}: {row}"
