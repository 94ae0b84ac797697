"""A migration of a populated size-S database passes (issue 7); see migrate_populated.py.
PostgreSQL only (what deployments run), in a database of its own next to the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="runs in the PostgreSQL pass (a size-S world takes minutes to seed)"),
    pytest.mark.django_db,
]


def test_latest_migrations_go_back_and_forth_on_a_populated_size_s_database() -> None:
    db = connection.settings_dict
    server = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    name = f"{db['NAME']}_migrations"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
        env.update(GRIDGOV_TESTING="1", DATABASE_URL=f"{server}/{name}")
        r = subprocess.run([sys.executable, "-m", "tests.reliability.migrate_populated"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1200)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-3000:])
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["rolled_back_and_reapplied"], summary  # some real migrations ran on the populated data
    assert summary["households"] >= 10000 and summary["cases"] > 1000, summary
    assert summary["tables_that_lost_rows"] == {} and summary["rows_after"] >= summary["rows_before"]
    assert summary["pending_after"] == []
