"""Inserting many rows fast, inside the caller's transaction.

`insert_rows(model, rows)` takes plain dicts keyed by attribute name (`unit_id`, not `unit`) and
returns the new primary keys in order. On PostgreSQL the keys are reserved from the table's
sequence in one query and the rows go in with COPY (no per-object Django work: about ten times
faster than `bulk_create` for a 100k-household import); elsewhere (SQLite) it is `bulk_create`.
The caller owns validation: COPY checks only what the database checks.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` fresh primary keys from the table's sequence (PostgreSQL only)."""
    if n == 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), pk.column, n],
        )
        return [row[0] for row in cur.fetchall()]


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, batch_size: int = 1000) -> list[int]:
    """Insert `rows` (dicts of attname → value, the same keys in every row); return their new ids."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._base_manager.bulk_create(objs, batch_size=batch_size)
        return [obj.pk for obj in objs]
    meta = model._meta
    assert meta.pk is not None
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    unknown = set(rows[0]) - {f.attname for f in fields}
    if unknown:
        raise TypeError(f"{meta.label} has no columns {sorted(unknown)}")
    # Columns a row leaves out get the field's default, as Model() would give them.
    defaults = {f.attname: f.get_default() for f in fields}
    pick = operator.itemgetter(*(f.attname for f in fields))
    json_at = [i + 1 for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    ids = reserve_ids(model, len(rows))
    columns = ", ".join(connection.ops.quote_name(c) for c in [meta.pk.column, *(f.column for f in fields)])
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cur, cur.copy(sql) as copy:
        for pk, row in zip(ids, rows, strict=True):
            values = [pk, *pick(defaults | row)]
            for i in json_at:
                if values[i] is not None:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
            copy.write_row(values)
    return ids
