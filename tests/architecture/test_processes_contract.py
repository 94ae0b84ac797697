"""The processes' import contract (pyproject.toml, checked by `make contracts`): a process calls workflow
apps' services and selectors, never their models. import-linter refuses to name a module that does not
exist, so the contract lists the models modules that exist; this test fails when a workflow app gains a
models module the contract does not forbid (meetings and notices have none yet).

Shown failing on a deliberate violation: adding `from gridgov.mediation.models import MediationCase` to
gridgov/processes/mediation_referral.py makes `lint-imports` report the contract broken
("gridgov.processes is not allowed to import gridgov.mediation.models")."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NAME = "Processes call workflow apps' services and selectors, never their models"


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_workflow_apps_models_are_forbidden_to_processes():
    found = contracts()
    contract = found[NAME]
    assert contract["type"] == "forbidden" and contract["source_modules"] == ["gridgov.processes"]
    assert contract["allow_indirect_imports"] is True  # services a process calls import their own models
    workflows = found["Workflow apps never import each other"]["modules"]
    existing = {f"{app}.models" for app in workflows if importlib.util.find_spec(f"{app}.models") is not None}
    assert set(contract["forbidden_modules"]) == existing


def test_processes_sit_between_insights_and_the_workflow_apps():
    layers = next(c for c in contracts().values() if c["type"] == "layers")["layers"]
    assert layers.index("gridgov.insights") + 1 == layers.index("gridgov.processes")
    assert "gridgov.cases" in layers[layers.index("gridgov.processes") + 1]
