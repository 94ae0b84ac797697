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


# --- Loading an empty table without its secondary indexes and foreign keys (PostgreSQL) ---------
#
# COPY into a table with indexes updates every index row by row, and every foreign key of the
# generator's tables is DEFERRABLE INITIALLY DEFERRED, so the commit of a bulk transaction runs one
# referential-integrity query per row. For a table that is empty when the load starts, it is much
# cheaper to drop the secondary indexes, the unique and exclusion constraints and the table's own
# foreign keys, load, and then recreate them from the definitions PostgreSQL printed before the
# drop: each index is built by one sort, each unique constraint verifies uniqueness as it builds its
# index, and each foreign key is validated by one join over the whole table (PostgreSQL's
# RI_Initial_Check) instead of one query per row. The primary key and check constraints stay.
#
# Crash safety: the definitions live only in this process. A run that fails (or is killed) between
# the drop and the recreation leaves tables without their indexes and foreign keys; such a database
# must be dropped and generated again (seed_world only ever does this on a database it filled itself
# from empty). A table that holds any row is never touched.

REBUILD_MAINTENANCE_WORK_MEM = "1GB"


def schema_of(tables: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Every index and constraint of `tables` as PostgreSQL prints them, keyed by name: what must be
    identical before a deferred load and after it."""
    out: dict[str, tuple[str, ...]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid),"
            " i.indisvalid::text, i.indisready::text FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[])",
            [list(tables)])
        for name, table, definition, valid, ready in cursor.fetchall():
            out[f"index {name}"] = (table, definition, valid, ready)
        cursor.execute(
            "SELECT c.conname, c.conrelid::regclass::text, c.contype::text, pg_get_constraintdef(c.oid),"
            " c.condeferrable::text, c.condeferred::text, c.convalidated::text, c.conindid::regclass::text"
            " FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[])", [list(tables)])
        for name, table, *rest in cursor.fetchall():
            out[f"constraint {table}.{name}"] = (table, *rest)
    return out


class without_indexes:
    """Within this block the (empty) tables of `models` have no secondary indexes, no unique or
    exclusion constraints and no foreign keys of their own; leaving the block recreates them exactly
    (and checks they are identical to what was there). Nothing happens on other databases than
    PostgreSQL, or when any of the tables holds a row. An exception inside the block leaves the
    tables as they are (see "Crash safety" above): the database is to be thrown away.

    `deferred` names what was dropped; `rebuild_seconds` is the time the recreation took."""

    def __init__(self, model_classes: Sequence[type[models.Model]]) -> None:
        self.models = list(model_classes)
        self.tables = [m._meta.db_table for m in model_classes]
        self.deferred: list[str] = []
        self.rebuild_seconds = 0.0
        self._indexes: list[str] = []
        self._constraints: list[str] = []
        self._foreign_keys: list[str] = []
        self._before: dict[str, tuple[str, ...]] = {}
        self._declared: dict[str, tuple[type[models.Model], Any]] = {}
        self._names: list[str] = []

    def __enter__(self) -> without_indexes:
        if connection.vendor != "postgresql" or not self.tables:
            return self
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            _fire_pending_checks(cursor)
            for table in self.tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(table)})")  # noqa: S608 - a model's table
                if cursor.fetchone()[0]:
                    return self  # data present: never touched
            self._before = schema_of(self.tables)
            # Indexes that no constraint owns (a constraint's index goes with the constraint).
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                "  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))"
                " ORDER BY 1", [self.tables])
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT c.contype, c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid)"
                " FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u', 'x')"
                " ORDER BY c.contype, 2, 3", [self.tables])
            constraints = cursor.fetchall()
            for kind, table, name, definition in constraints:
                add = f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
                (self._foreign_keys if kind == "f" else self._constraints).append(add)
            self._indexes = [definition for _, definition in indexes]
            self._declared = {}
            for model in self.models:
                for declared in [*model._meta.indexes, *model._meta.constraints]:
                    if declared.name:
                        self._declared[declared.name] = (model, declared)
            self._names = [name for name, _ in indexes] + [name for kind, _, name, _ in constraints if kind != "f"]
            # Foreign keys first (one may rest on a unique constraint dropped next), then the rest.
            for _kind, table, name, _ in sorted(constraints, key=lambda c: c[0] != "f"):
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
                self.deferred.append(f"{table}.{name}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
                self.deferred.append(name)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None or not self.deferred:
            return
        import time

        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('maintenance_work_mem')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [REBUILD_MAINTENANCE_WORK_MEM])
            _fire_pending_checks(cursor)
            try:
                # Indexes, then the unique constraints (they build their own index and verify uniqueness),
                # then the foreign keys (each validated by one query over the table).
                for statement, name in zip(self._indexes + self._constraints, self._names, strict=True):
                    # An index or constraint the model declares is made again by the migrations' own SQL:
                    # PostgreSQL prints some predicates (`status IN (...)`) in a form that parses back to
                    # a differently written, equivalent predicate.
                    found = self._declared.get(name.strip('"'))
                    if found is None:
                        cursor.execute(statement)
                        continue
                    model, declared = found
                    with connection.schema_editor(atomic=False) as editor:
                        if isinstance(declared, models.Index):
                            editor.add_index(model, declared)
                        else:
                            editor.add_constraint(model, declared)
                for statement in self._foreign_keys:
                    cursor.execute(statement)
            finally:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [previous])
        self.rebuild_seconds = time.perf_counter() - started
        after = schema_of(self.tables)
        if after != self._before:
            changed = sorted(set(after.items()) ^ set(self._before.items()))
            raise RuntimeError(f"indexes or constraints differ after the rebuild: {changed}")


def _fire_pending_checks(cursor: Any) -> None:
    """Inside a transaction (tests), run the deferred foreign-key checks queued so far: PostgreSQL
    refuses to ALTER a table with pending trigger events. Django's foreign keys are all
    INITIALLY DEFERRED, so deferring them all again afterwards restores the transaction's behaviour.
    Outside a transaction (seed_world) there is nothing pending."""
    if connection.in_atomic_block:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
