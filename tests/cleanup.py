"""A faster end to transactional tests (browser, live server, concurrency, property tests).

Django ends a TransactionTestCase with `flush`: TRUNCATE of every table (DELETE on SQLite), then the
post_migrate signal re-creates content types and permissions, and the next transactional test reloads
the migrations' catalogues (tests/builtins.py). On PostgreSQL that took seconds per test.

Here the state a transactional test starts in is recorded (`remember_start`): which tables hold rows
(the catalogues the migrations loaded) and a digest of those rows. When the test ends (`reset`), and
the catalogue tables still hold exactly those rows, every other table is emptied in one transaction
(TRUNCATE on PostgreSQL, DELETE on SQLite, as flush does): the database is back in the state the
test started in, the migrated state, without touching the catalogues and without post_migrate. In any
other case (a catalogue changed, a row appears afterwards, another database is involved) Django's
flush runs as before, and the catalogues are loaded again (conftest.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import DatabaseError, connection, transaction

_CATALOGUES: set[str] | None = None  # tables holding rows in the first state recorded in this process
_START: dict[str, Any] = {}


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _with_rows(tables: list[str]) -> set[str]:
    qn = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {qn(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql)
        return {row[0] for row in cur.fetchall()}


def _digest(tables: set[str]) -> dict[str, str]:
    qn = connection.ops.quote_name
    out = {}
    with connection.cursor() as cur:
        for table in sorted(tables):
            cur.execute(f"SELECT * FROM {qn(table)}")  # noqa: S608 (table names from Django's introspection)
            rows = sorted(repr(row) for row in cur.fetchall())
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def remember_start() -> None:
    """Called when a transactional test starts (after the catalogues are there)."""
    global _CATALOGUES
    _START.clear()
    tables = _tables()
    with_rows = _with_rows(tables)
    if _CATALOGUES is None:
        _CATALOGUES = with_rows
    if with_rows != _CATALOGUES:
        return  # not the clean state: Django's flush ends this test
    _START.update(tables=tables, digest=_digest(with_rows))


def reset(databases: list[str]) -> bool:
    """Bring the database back to the recorded start; False when Django's flush must do it."""
    start = dict(_START)
    _START.clear()
    if not start or databases != ["default"] or _CATALOGUES is None:
        return False
    catalogues = _CATALOGUES
    qn = connection.ops.quote_name
    try:
        with transaction.atomic():
            if _digest(catalogues) != start["digest"]:
                return False
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    # As Django's flush does: TRUNCATE (it resets the planner's view of each table, which
                    # the index tests' EXPLAIN depends on, and passes the audit log's DELETE guard), but of
                    # every table except the catalogues, which reference no other table.
                    others = [t for t in start["tables"] if t not in catalogues]
                    cur.execute("TRUNCATE " + ", ".join(qn(t) for t in others))
                else:  # SQLite: as Django's flush, DELETE
                    for table in sorted(_with_rows(start["tables"]) - catalogues):
                        cur.execute(f"DELETE FROM {qn(table)}")  # noqa: S608
        # Deferred foreign keys were checked at the commit; nothing written since?
        return _with_rows(start["tables"]) == catalogues
    except DatabaseError:
        return False
