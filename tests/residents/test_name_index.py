"""Two-character names (王伟) must be searchable through an index on both databases."""

from __future__ import annotations

import pytest
from django.db import connection

from gridgov.residents.models import Resident
from gridgov.residents.selectors import name_q

pytestmark = pytest.mark.django_db


def test_exact_and_prefix_name_search_uses_an_index(ledger):
    qs = Resident.dangerously_unscoped.filter(name_q("王伟")).values("household_id")
    assert set(qs.values_list("household_id", flat=True)) == {ledger.a1.pk, ledger.a1_b.pk}
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(r) for r in cur.fetchall())
        else:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(r[0] for r in cur.fetchall())
    assert "resident_name" in plan, plan
