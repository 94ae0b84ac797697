"""Every workflow that runs on the engine (core/workflow.py): its generated diagram is
docs/workflows/<name>.md (`manage.py workflow_docs`), and tests/architecture/test_workflow_docs.py
fails when one is stale. A new workflow adds its `Workflow` here."""

from __future__ import annotations

from typing import Any

from gridgov.cases.transitions import FLOW as CASES
from gridgov.core.workflow import Workflow
from gridgov.deliberation.services import FLOW as DELIBERATION
from gridgov.mediation.services import FLOW as MEDIATION
from gridgov.notices.services import FLOW as NOTICE
from gridgov.workforce.services import FLOW as DUTY

WORKFLOWS: tuple[Workflow[Any], ...] = (CASES, MEDIATION, DELIBERATION, DUTY, NOTICE)
