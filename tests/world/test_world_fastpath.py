"""The world generator's fast path (row drafts streamed to COPY, gridgov.core.bulkload.write_drafts)
writes exactly the rows its reference path (model instances through copy_insert, the way the
generator wrote them before, and the way SQLite is still written) writes for the same seed and root.

Ciphertexts and tracking tokens are random by design; they are made deterministic here so that
every column can be compared. Primary keys come from sequences, so they are compared by rank
(the n-th row written), and foreign keys between the generated tables by the rank they point at.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, models

from gridgov.cases import world as cases_world
from gridgov.cases.models import Case, CaseEvent, FormCounter
from gridgov.core import bulkload, fieldcrypto
from gridgov.core.workdays import add_working_days, calendar_with, memoized
from gridgov.residents import world as residents_world
from gridgov.residents.models import Household, HouseholdAssignment, HouseholdEvent, Resident, TagAssignment
from gridgov.units.models import Unit
from gridgov.visits import world as visits_world

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
# Children first, for deleting between the two runs.
TABLES: tuple[type[models.Model], ...] = (
    CaseEvent, Case, FormCounter, HouseholdAssignment, HouseholdEvent, TagAssignment, Resident, Household,
)


def _deterministic_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr(fieldcrypto, "encrypt", lambda value, *, purpose: f"{purpose}|{value}")
    monkeypatch.setattr(cases_world.secrets, "token_urlsafe", lambda n: f"token{next(counter):017d}")


BULK_MODELS = residents_world.BULK_MODELS + cases_world.BULK_MODELS


def _all_tables() -> list[str]:
    return connection.introspection.table_names()


def _generate() -> None:
    for root in Unit.dangerously_unscoped.filter(parent__isnull=True).order_by("id"):
        residents_world.seed_world_step(seed=3, now=NOW, root=root, stdout=io.StringIO())
        cases_world.seed_world_step(seed=3, now=NOW, root=root, stdout=io.StringIO())


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    ranks: dict[type[models.Model], dict[int, int]] = {
        m: {pk: n for n, pk in enumerate(m._base_manager.order_by("pk").values_list("pk", flat=True))}
        for m in TABLES
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for model in TABLES:
        rows = []
        for row in model._base_manager.order_by("pk").values():
            for f in model._meta.concrete_fields:
                if f.primary_key:
                    row[f.attname] = ranks[model][row[f.attname]]
                elif isinstance(f, models.ForeignKey) and f.related_model in ranks and row[f.attname] is not None:
                    row[f.attname] = ranks[f.related_model][row[f.attname]]  # type: ignore[index]
            rows.append(row)
        out[model._meta.label] = rows
    return out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's (COPY); SQLite "
                    "is written through the reference path itself")
def test_fast_path_writes_the_rows_of_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path as seed_world runs it on PostgreSQL: into tables without their secondary indexes
    and foreign keys (bulkload.without_indexes), which are rebuilt identical afterwards."""
    migrated = bulkload.schema_of(_all_tables())
    call_command("seed_world", preset="wucheng", seed=3, units_only=True, stdout=io.StringIO())
    _deterministic_secrets(monkeypatch)
    with bulkload.reference_path():
        _generate()
    reference = _snapshot()
    # Tables that hold rows are never touched.
    with bulkload.without_indexes(BULK_MODELS) as untouched:
        assert bulkload.schema_of(_all_tables()) == migrated
    assert untouched.deferred == []
    for model in TABLES:
        model._base_manager.all().delete()
    _deterministic_secrets(monkeypatch)  # the tokens count again from the start
    with bulkload.without_indexes(BULK_MODELS) as deferred:
        during = bulkload.schema_of(_all_tables())
        _generate()
    fast = _snapshot()
    # Inside the block the big tables had their primary key and check constraints only.
    big = {m._meta.db_table for m in BULK_MODELS}
    left = {key: value for key, value in during.items() if value[0] in big}
    assert left and all(key.endswith("_pkey") or value[1] in ("p", "c") for key, value in left.items()), left
    assert len(migrated) - len(during) >= len(deferred.deferred) > 20
    # Every index and constraint the migrations define is back, with the same definition.
    assert bulkload.schema_of(_all_tables()) == migrated
    assert len(reference["cases.Case"]) > 100 and len(reference["residents.Resident"]) > 1000
    assert reference["cases.CaseEvent"] and reference["residents.HouseholdAssignment"]
    for label, rows in reference.items():
        assert len(fast[label]) == len(rows), label
        for expected, got in zip(rows, fast[label], strict=True):
            assert got == expected, label


def test_drafts_read_like_unsaved_instances() -> None:
    """What the generators read back from a draft before it is written: the model's defaults."""
    row = cases_world.CaseRow(status="handling")
    instance = Case()
    for name in ("urge_count", "overdue", "dispatch_final", "version", "resolve_due", "holder_department",
                 "holder_department_id", "result", "closed_at"):
        assert getattr(row, name) == getattr(instance, name), name
    assert row.status == "handling" and row.pk is None


def test_memoized_calendar_gives_the_same_deadlines() -> None:
    plain = calendar_with([(dt.date(2026, 10, 10), True), (dt.date(2026, 11, 3), False)])
    memo = memoized(plain)
    start = dt.datetime(2026, 9, 20, 1, 30, tzinfo=dt.UTC)
    for hours in range(0, 24 * 70, 7):
        moment = start + dt.timedelta(hours=hours)
        for days in (0, 1, 3, 7, 15):
            assert add_working_days(memo, moment, days) == add_working_days(plain, moment, days)
            # The second answer comes from the memory and must still be right.
            assert add_working_days(memo, moment, days) == add_working_days(plain, moment, days)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="indexes are deferred on PostgreSQL only")
def test_seed_world_rebuilds_every_index_and_constraint() -> None:
    """seed_world loads the ledger, the cases and the visits without their indexes and foreign keys
    and leaves the schema exactly as the migrations made it."""
    migrated = bulkload.schema_of(_all_tables())
    out = io.StringIO()
    call_command("seed_world", preset="xilujiao", seed=2, stdout=out)
    for module in (residents_world, cases_world, visits_world):
        assert f"{module.__name__}.seed_world_step：装载" in out.getvalue(), out.getvalue()
    assert Resident.dangerously_unscoped.exists() and Case.dangerously_unscoped.exists()
    after = bulkload.schema_of(_all_tables())
    assert {k: v for k, v in after.items() if after.get(k) != migrated.get(k)} == {}
    assert after == migrated


def test_schema_of_sees_a_dropped_index() -> None:
    """The comparison above can fail: a missing index shows."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL catalogue")
    before = bulkload.schema_of(["residents_resident"])
    name = next(k.removeprefix("index ") for k, v in before.items() if k.startswith("index ") and "pkey" not in k)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {name}")
    assert f"index {name}" not in bulkload.schema_of(["residents_resident"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="indexes are deferred on PostgreSQL only")
def test_a_failed_step_says_the_database_must_be_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed midway, the ledger's tables are left without their indexes (the database is thrown away):
    seed_world says so rather than leaving a silently index-less database."""
    migrated = bulkload.schema_of(["residents_resident"])

    def failing_step(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(residents_world, "seed_world_step", failing_step)
    err = io.StringIO()
    with pytest.raises(RuntimeError, match="boom"):
        call_command("seed_world", preset="xilujiao", seed=2, stdout=io.StringIO(), stderr=err)
    assert "请删除该数据库后重新生成" in err.getvalue() and "residents_resident" in err.getvalue()
    assert bulkload.schema_of(["residents_resident"]) != migrated
