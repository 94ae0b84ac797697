"""The durability harness on a reduced count (make durability runs 200 rounds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .durability import PG_BIN, ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="runs in the PostgreSQL pass of CI (it builds a PostgreSQL cluster of its own)"),
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL server binaries not installed"),
]


def test_acknowledged_cases_survive_kill_9_of_app_server_and_database(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "GRIDGOV_TESTING"}}
    r = subprocess.run([sys.executable, "-m", "tests.reliability.durability", "--rounds", "10", "--seed", "7",
                        "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.exists(), r.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["violations"] == [], summary
    assert r.returncode == 0, r.stderr[-3000:]
    assert summary["acknowledged"] > 0
    # Both kinds of crash happened, and responses were lost after the commit and retried.
    assert summary["kills"]["app"] + summary["kills"]["both"] > 0
    assert summary["kills"]["db"] + summary["kills"]["both"] > 0
    assert summary["lost_after_commit_then_retried_forced"] >= 5
    # Every submitted key ended as exactly one case or one visit, and every acknowledged one is among them.
    assert summary["acknowledged_visits"] > 0
    assert summary["cases_in_db"] == summary["keys_in_db"] == summary["acknowledged"] - summary["acknowledged_visits"]
    assert summary["visits_in_db"] == summary["visit_keys_in_db"] == summary["acknowledged_visits"]
