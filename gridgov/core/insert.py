"""One new row written by a statement made once per model and connection (`insert_one`), for the hottest
writes: case intake's case and history rows (issue #8). `Model.save()` compiles its INSERT afresh on every
call; for the case's 50 columns that compilation was about a sixth of intake's CPU in a profile.

The row is the one save() would write: each field's `pre_save(add=True)` and `get_db_prep_save`, the
primary key read back (RETURNING, or the last row id), pre_save and post_save sent, the instance's state
marked saved. Anything this does not handle goes to `save(force_insert=True)` as before: a model that
overrides save(), a primary key already set, fields with a database default, generated or read back
besides the key, a field with its own SQL placeholder, multi-table inheritance. A model whose save()
adds nothing to a new row says so with `insert_without_save = True` (the audit log's refuses changes only).
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models, router
from django.db.models import signals

# model → (INSERT statement, fields in column order, whether the key comes back by RETURNING), or None
# when the model goes through save(). Kept per connection: the quoting and features are the backend's.
_Plan = tuple[str, list[Any], bool] | None
_ATTR = "_gridgov_insert_plans"


def _plan(model: type[models.Model], connection: Any) -> _Plan:
    meta = model._meta
    pk = meta.pk
    own_save = model.save is not models.Model.save and not getattr(model, "insert_without_save", False)
    if (own_save or meta.parents or not isinstance(pk, models.AutoField)
            or list(meta.db_returning_fields) != [pk]):
        return None
    fields = [f for f in meta.local_concrete_fields if f is not pk]
    for f in fields:
        if f.generated or f.db_default is not models.NOT_PROVIDED or hasattr(f, "get_placeholder"):
            return None
    quote = connection.ops.quote_name
    returning = bool(connection.features.can_return_columns_from_insert)
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})"
           + (f" RETURNING {quote(pk.column)}" if returning else ""))
    return sql, fields, returning


def insert_one(obj: models.Model, *, using: str | None = None) -> None:
    """Save a new instance: what `obj.save(force_insert=True)` does, with a prepared statement."""
    model = type(obj)
    db = using or router.db_for_write(model, instance=obj)
    connection = connections[db]
    plans: dict[type[models.Model], _Plan] = connection.__dict__.setdefault(_ATTR, {})
    if model not in plans:
        plans[model] = _plan(model, connection)
    plan = plans[model]
    if plan is None or obj.pk is not None:
        obj.save(force_insert=True, using=db)
        return
    sql, fields, returning = plan
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]  # as save()
    signals.pre_save.send(sender=model, instance=obj, raw=False, using=db, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            pk_value = cursor.fetchone()[0]
        else:
            pk_value = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    setattr(obj, model._meta.pk.attname, pk_value)
    obj._state.adding = False
    obj._state.db = db
    signals.post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=db)
