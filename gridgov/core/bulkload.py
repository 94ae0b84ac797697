"""Fast bulk loading for generators (the world generator, bench data): PostgreSQL COPY.

`copy_insert(model, objs)` writes unsaved model instances the way `bulk_create` would (for
generators that build model instances; `gridgov.core.bulk.insert_rows` takes plain dicts), but on
PostgreSQL through `COPY ... FROM STDIN` (psycopg's copy), which skips Django's per-value
preparation and the UNNEST array dumping of bulk_create. Primary keys are taken from the
table's sequence first, so the instances get their pk (children can point at them) exactly as
after bulk_create. On other databases (SQLite) it is bulk_create.

System code only: no signals, no `save()`, no validation; the caller builds valid rows.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from .bulk import reserve_ids

BATCH = 5000
# (field, filled by pre_save, cache name of a foreign key, written as it is)
_Column = tuple["models.Field[Any, Any]", bool, "str | None", bool]


def _simple(field: models.Field[Any, Any]) -> bool:
    """Fields whose Python value psycopg can write as it is."""
    return isinstance(field, (
        models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.DateField,
        models.FloatField, models.ForeignKey, models.UUIDField,
    )) and not isinstance(field, models.DecimalField)


def copy_insert(model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = BATCH) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create(list(objs), batch_size=2000)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = list(meta.concrete_fields)
    prepared: list[_Column] = []
    for f in fields:
        # auto_now / auto_now_add fields get their value the way save() would give it.
        auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        cached = f.cache_name if isinstance(f, models.ForeignKey) else None
        prepared.append((f, auto, cached, _simple(f)))
    missing = [o for o in objs if o.pk is None]
    for obj, value in zip(missing, reserve_ids(model, len(missing)), strict=True):
        setattr(obj, pk.attname, value)
    with connection.cursor() as cursor:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for start in range(0, len(objs), batch_size):
            chunk = objs[start:start + batch_size]
            with raw.copy(sql) as copy:
                for obj in chunk:
                    copy.write_row(_row(obj, prepared, connection))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = "default"


def _row(obj: models.Model, prepared: list[_Column], conn: Any) -> tuple[Any, ...]:
    values = []
    for f, auto, cached, simple in prepared:
        value = f.pre_save(obj, add=True) if auto else getattr(obj, f.attname)
        if cached is not None and value is None:
            # Related object assigned before it had a pk: take the pk it has now.
            related = obj._state.fields_cache.get(cached)
            if related is not None and related.pk is not None:
                value = related.pk
                setattr(obj, f.attname, value)
        if value is not None:
            if isinstance(value, enum.Enum):
                value = value.value
            if not simple:
                value = f.get_db_prep_save(value, conn)
        values.append(value)
    return tuple(values)
