"""docs/workflows/cases.md, generated from the case transition table (states.py) by the engine's
renderer (core/workflow_doc.py). Never edit it by hand: run `manage.py workflow_docs`."""

from __future__ import annotations

from gridgov.core.workflow_doc import doc_path, render

from .transitions import FLOW

DOC_PATH = doc_path(FLOW)


def render_markdown() -> str:
    return render(FLOW)
