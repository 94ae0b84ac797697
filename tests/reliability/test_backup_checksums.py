"""The backup manifest's per-table checksum streams (issue #23): two exact sums of the rows' md5 halves, so it
needs no text value growing with the table (the first format, one string of 32 bytes a row, meets PostgreSQL's
1 GB value limit near 33.5M rows). It is exact, does not depend on row order, and changes when a row changes; a
manifest in the first format is still verified its own way."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.db import connection

from gridgov.interfaces.jobs.backup import table_checksum

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only"),
    pytest.mark.django_db,
]


def make_table(cursor, name: str, rows: list[tuple[int, str]]) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(f"CREATE TEMP TABLE {name} (id int, note text)")
    cursor.executemany(f"INSERT INTO {name} VALUES (%s, %s)", rows)  # noqa: S608


def python_sums(rows: list[tuple[int, str]]) -> str:
    """What the SQL computes, in Python: PostgreSQL's row text is (id,note); halves read as signed 64-bit."""
    high = low = 0
    for id_, note in rows:
        digest = hashlib.md5(f"({id_},{note})".encode()).hexdigest()  # noqa: S324 (a checksum, not security)
        high += int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)
        low += int.from_bytes(bytes.fromhex(digest[16:]), "big", signed=True)
    return f"{high}:{low}"


ROWS = [(i, f"第{i}行") for i in range(1, 2001)]


def test_the_checksum_is_the_exact_sum_and_ignores_row_order() -> None:
    with connection.cursor() as cursor:
        make_table(cursor, "t_forward", ROWS)
        make_table(cursor, "t_backward", list(reversed(ROWS)))
        forward, backward = table_checksum(cursor, "t_forward"), table_checksum(cursor, "t_backward")
    assert forward == backward == {"rows": 2000, "sum": python_sums(ROWS)}


def test_a_changed_or_missing_row_changes_it() -> None:
    with connection.cursor() as cursor:
        make_table(cursor, "t_base", ROWS)
        base = table_checksum(cursor, "t_base")
        cursor.execute("UPDATE t_base SET note = '改过' WHERE id = 1000")
        changed = table_checksum(cursor, "t_base")
        cursor.execute("DELETE FROM t_base WHERE id = 7")
        shorter = table_checksum(cursor, "t_base")
        cursor.execute("CREATE TEMP TABLE t_empty (id int)")
        empty = table_checksum(cursor, "t_empty")
    assert changed["sum"] != base["sum"] and changed["rows"] == 2000
    assert shorter["rows"] == 1999 and shorter["sum"] != changed["sum"]
    assert empty == {"rows": 0, "sum": "0:0"}


def test_a_first_format_manifest_is_checked_the_first_way() -> None:
    with connection.cursor() as cursor:
        make_table(cursor, "t_legacy", ROWS[:10])
        legacy = table_checksum(cursor, "t_legacy", legacy=True)
    joined = "".join(sorted(hashlib.md5(f"({i},{n})".encode()).hexdigest() for i, n in ROWS[:10]))  # noqa: S324
    assert legacy == {"rows": 10, "md5": hashlib.md5(joined.encode()).hexdigest()}  # noqa: S324
