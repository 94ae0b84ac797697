from __future__ import annotations

from django.conf import settings

from gridgov.cases.states import ACTIONS
from gridgov.cases.workflow_doc import DOC_PATH, render_markdown


def test_the_state_diagram_in_docs_is_generated_from_the_table():
    on_disk = (settings.BASE_DIR / DOC_PATH).read_text(encoding="utf-8")
    assert on_disk == render_markdown(), "docs/workflows/cases.md is stale: run manage.py case_workflow_doc"


def test_every_action_appears_in_the_diagram():
    text = render_markdown()
    for code in ACTIONS:
        assert f": {code} " in text
