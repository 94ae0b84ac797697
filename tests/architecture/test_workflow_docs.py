"""Every workflow on the engine has its generated diagram under docs/workflows/, and it is current.

Regenerate with `manage.py workflow_docs`. The second test shows the check failing on a deliberately
stale copy (one edge removed by hand, one file missing)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from gridgov.core.workflow import StatusType
from gridgov.core.workflow_doc import doc_path, render, stale
from gridgov.processes.workflows import WORKFLOWS


def test_every_workflow_diagram_is_generated_from_its_table():
    assert {f.name for f in WORKFLOWS} >= {"cases", "mediation", "deliberation", "duty"}
    assert stale(list(WORKFLOWS), Path(settings.BASE_DIR)) == [], "run: manage.py workflow_docs"


def test_the_check_fails_on_a_stale_or_missing_diagram(tmp_path):
    for flow in WORKFLOWS:
        (tmp_path / doc_path(flow)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(settings.BASE_DIR) / doc_path(flow), tmp_path / doc_path(flow))
    assert stale(list(WORKFLOWS), tmp_path) == []
    mediation = tmp_path / "docs" / "workflows" / "mediation.md"
    text = mediation.read_text(encoding="utf-8")
    edge = "    mediating --> agreed: agree 达成协议\n"
    assert edge in text
    mediation.write_text(text.replace(edge, ""), encoding="utf-8")  # someone edited the table, not the doc
    (tmp_path / "docs" / "workflows" / "duty.md").unlink()
    assert stale(list(WORKFLOWS), tmp_path) == ["docs/workflows/mediation.md", "docs/workflows/duty.md"]


def test_every_status_has_a_type_and_every_action_stays_within_the_statuses():
    for flow in WORKFLOWS:
        codes = {s.code for s in flow.statuses}
        assert all(isinstance(s.type, StatusType) for s in flow.statuses), flow.name
        assert set(flow.handlers) == set(flow.actions), flow.name
        for action in flow.actions.values():
            moves = set(action.sources) | set(action.targets) | {g.status for g in action.also_from}
            assert {str(getattr(s, "value", s)) for s in moves} <= codes, (flow.name, action.code)
        assert f"[*] --> {flow.initial[0]}" in render(flow)
