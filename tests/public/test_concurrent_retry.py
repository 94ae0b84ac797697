"""A retry on a bad connection that arrives while the first submission is still being written: one case."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from gridgov.cases.models import Case, CaseAttachment
from gridgov.cases.public.services import public_report
from tests.world import T0

from .conftest import jpeg_with_gps

# Skipped before any fixture runs on SQLite (no flush of a database it did not use).
pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs a server database: SQLite serialises writers"),
    pytest.mark.django_db(transaction=True),
]


def test_parallel_submissions_of_one_key_make_one_case(migration_rows, world):
    pworld = world
    start = threading.Barrier(8)
    cases: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait()
            result = public_report(now=T0, category_code="sanitation", description="村口垃圾没人清运",
                                   idempotency_key="same-key-from-one-form-0001", unit_id=pworld.grid_a1.pk,
                                   photos=[jpeg_with_gps()])
            cases.append(result.case.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(cases)) == 1 and len(cases) == 8
    assert Case.dangerously_unscoped.count() == 1 and CaseAttachment.dangerously_unscoped.count() == 1
