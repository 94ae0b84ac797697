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


def _getter(field: models.Field[Any, Any]) -> Any:
    name, attname = field.name, field.attname
    if field.primary_key:
        return lambda d: d.pk
    if isinstance(field, models.ForeignKey):
        def fk(d: Draft) -> Any:
            values = d.__dict__
            if name in values:  # assigned as an object (or None), as the model's descriptor would take it
                target = values[name]
                return None if target is None else target.pk
            return values.get(attname)
        return fk
    default: Any = field.default
    has_default = field.has_default()
    if not has_default:
        default = field.get_default()
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def as_json(d: Draft) -> Any:
            value = d.__dict__.get(attname, _MISSING)
            if value is _MISSING:
                value = default() if callable(default) else default
            return None if value is None else json.dumps(value, cls=encoder, ensure_ascii=False)
        return as_json
    if callable(default):
        def call_default(d: Draft) -> Any:
            value = d.__dict__.get(attname, _MISSING)
            value = default() if value is _MISSING else value
            return value.value if isinstance(value, enum.Enum) else value
        return call_default
    if isinstance(field, models.DecimalField):
        raise TypeError(f"{field}: DecimalField has no fast adapter; use copy_insert")

    def plain(d: Draft) -> Any:
        value = d.__dict__.get(attname, default)
        return value.value if isinstance(value, enum.Enum) else value
    return plain


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
    getters = [_getter(f) for f in fields]
    missing = [d for d in drafts if d.pk is None]
    for d, value in zip(missing, reserve_ids(model, len(missing)), strict=True):
        d.pk = value
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for start in range(0, len(drafts), batch_size):
            with raw.copy(sql) as copy:
                write = copy.write_row
                for d in drafts[start:start + batch_size]:
                    write([g(d) for g in getters])
