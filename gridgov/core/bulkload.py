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
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


# --- Row drafts: the generator's fast path -----------------------------------------------------
#
# A model instance costs Model.__init__, a descriptor per foreign key and get_db_prep_save per
# value; at size L that is most of the generator's time. A generator builds `draft_class(model)`
# objects instead (plain attributes, the model's field names, the model's defaults), and
# `write_drafts` streams them to COPY as tuples in column order through adapters prepared once per
# model. The model path (instances + `copy_insert`/`bulk_create`) stays: it is how SQLite is
# written and the reference the fast path is checked against (tests/world/test_world_fastpath.py).

_MISSING = object()
_reference = False


class Draft:
    """An unsaved row: attributes named like the model's fields (`unit` or `unit_id`), defaults from the model."""

    pk: Any = None
    _model: type[models.Model]

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    if TYPE_CHECKING:  # fields are the model's, known at run time only
        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...


def draft_class(model: type[models.Model]) -> type[Draft]:
    """A Draft subclass for `model`: reading an unset field gives the model's default (None for a relation)."""
    attrs: dict[str, Any] = {"_model": model}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if isinstance(f, models.ForeignKey):
            attrs[f.name] = None
            attrs[f.attname] = None
        elif not (f.has_default() and callable(f.default)):
            attrs[f.attname] = f.get_default()
    return type(f"{model.__name__}Draft", (Draft,), attrs)


class reference_path:
    """Within this block `write_drafts` goes through model instances (the reference; tests only)."""

    def __enter__(self) -> None:
        global _reference
        _reference = True

    def __exit__(self, *exc: object) -> None:
        global _reference
        _reference = False


def _row_function(model: type[models.Model]) -> Any:
    """`row(draft) -> list` of the model's column values in column order, compiled once per model:
    a dict lookup per column, the model's default where the draft leaves a field unset, an enum's
    value for a field with choices, JSON text for a JSONField."""
    consts: dict[str, Any] = {"_MISSING": _MISSING, "_Enum": enum.Enum, "_dumps": json.dumps}
    parts: list[str] = []
    for i, f in enumerate(model._meta.concrete_fields):
        name, attname = f.name, f.attname
        if f.primary_key:
            parts.append("d.pk")
        elif isinstance(f, models.ForeignKey):
            # Assigned as an object (or None), as the model's descriptor would take it; else the id.
            parts.append(f"((None if v[{name!r}] is None else v[{name!r}].pk) if {name!r} in v"
                         f" else v.get({attname!r}))")
        elif isinstance(f, models.DecimalField):
            raise TypeError(f"{f}: DecimalField has no fast adapter; use copy_insert")
        elif isinstance(f, models.JSONField):
            consts[f"_d{i}"] = f.default if f.has_default() else f.get_default()
            consts[f"_enc{i}"] = f.encoder
            parts.append(f"_json(v.get({attname!r}, _MISSING), _d{i}, _enc{i})")
        else:
            if f.has_default() and callable(f.default):
                consts[f"_d{i}"] = f.default
                value = f"(v[{attname!r}] if {attname!r} in v else _d{i}())"
            else:
                consts[f"_d{i}"] = f.get_default()
                value = f"v.get({attname!r}, _d{i})"
            if f.choices:
                value = f"_val({value})"
            parts.append(value)
    consts["_json"] = _json
    consts["_val"] = _val
    source = "def row(d):\n    v = d.__dict__\n    return [" + ",\n        ".join(parts) + "]\n"
    exec(compile(source, f"<row of {model._meta.label}>", "exec"), consts)  # noqa: S102 - built from field names
    return consts["row"]


def _json(value: Any, default: Any, encoder: Any) -> Any:
    if value is _MISSING:
        value = default() if callable(default) else default
    return None if value is None else json.dumps(value, cls=encoder, ensure_ascii=False)


def _val(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class id_pool:
    """Within this block `write_drafts` takes primary keys from sequences in large blocks (one
    query per block, not one per call); what is left over at the end is a gap in the ids."""

    def __init__(self, block: int = 20_000) -> None:
        self.block = block

    def __enter__(self) -> None:
        global _pool
        _pool = ({}, self.block)

    def __exit__(self, *exc: object) -> None:
        global _pool
        _pool = None


_pool: tuple[dict[type[models.Model], list[int]], int] | None = None


def _take_ids(model: type[models.Model], n: int) -> list[int]:
    if _pool is None:
        return reserve_ids(model, n)
    pools, block = _pool
    ids = pools.setdefault(model, [])
    if len(ids) < n:
        ids.extend(reserve_ids(model, max(block, n - len(ids))))
    taken = ids[:n]
    del ids[:n]
    return taken


def _instance(model: type[models.Model], draft: Draft) -> models.Model:
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            if draft.pk is not None:
                values[f.attname] = draft.pk
        elif isinstance(f, models.ForeignKey):
            if f.name in draft.__dict__:
                target = draft.__dict__[f.name]
                values[f.attname] = None if target is None else target.pk
            elif f.attname in draft.__dict__:
                values[f.attname] = draft.__dict__[f.attname]
        elif f.attname in draft.__dict__:
            values[f.attname] = draft.__dict__[f.attname]
    return model(**values)


_rows: dict[type[models.Model], Any] = {}


def write_drafts(model: type[models.Model], drafts: Sequence[Draft], *, batch_size: int = BATCH) -> None:
    """Insert the drafts (giving each its pk), like `copy_insert` would insert the same model instances."""
    if not drafts:
        return
    if connection.vendor != "postgresql" or _reference:
        objs = [_instance(model, d) for d in drafts]
        copy_insert(model, objs)
        for d, obj in zip(drafts, objs, strict=True):
            d.pk = obj.pk
        return
    meta = model._meta
    fields = list(meta.concrete_fields)
    row = _rows.get(model)
    if row is None:
        row = _rows[model] = _row_function(model)
    missing = [d for d in drafts if d.pk is None]
    for d, value in zip(missing, _take_ids(model, len(missing)), strict=True):
        d.pk = value
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for start in range(0, len(drafts), batch_size):
            with raw.copy(sql) as copy:
                write = copy.write_row
                for d in drafts[start:start + batch_size]:
                    write(row(d))


def relaxed_commit() -> None:
    """In the current transaction, do not wait for the WAL flush at commit (PostgreSQL): for bulk
    generators, where a crash loses at most the last commits of a run that is restarted anyway."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
