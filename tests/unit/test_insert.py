"""`insert_one` (core/insert.py) writes exactly the row `save()` would, and goes through save() for what
it does not handle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.db.models import signals

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case, CaseEvent, Category
from gridgov.core import insert
from gridgov.core.insert import insert_one
from tests.world import T0

pytestmark = pytest.mark.django_db


def _case(world, number: str, token: str) -> Case:  # type: ignore[no-untyped-def]
    grid = world.grid_a1
    return Case(number=number, title="路灯不亮", description="村东头三盏路灯坏了。",
                category=Category.objects.get(code="other"), channel="field", county_id=world.county.pk, unit=grid,
                lat=39.1, lng=113.1, reported_by=world.wang_fang, tracking_token=token, status="reported",
                holder_unit=grid, owner_unit=grid, owner_path=grid.path, unit_path=grid.path,
                respond_due=T0 + dt.timedelta(days=1), resolve_due=T0 + dt.timedelta(days=7),
                idempotency_key=f"k:{number}", payload_hash="x", created_at=T0, updated_at=T0)


def _row(model, pk):  # type: ignore[no-untyped-def]
    values = model.dangerously_unscoped.filter(pk=pk).values().get()
    values.pop("id")
    return values


def test_the_row_is_the_one_save_writes(world):  # type: ignore[no-untyped-def]
    saved, inserted = _case(world, "N-1", "t1"), _case(world, "N-2", "t2")
    saved.save(force_insert=True)
    insert_one(inserted)
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    a, b = _row(Case, saved.pk), _row(Case, inserted.pk)
    for differs in ("number", "tracking_token", "idempotency_key"):
        assert a.pop(differs) != b.pop(differs)
    assert a == b
    # A JSON field and a nullable foreign key, through the history row.
    event = CaseEvent(case=inserted, seq=1, action="report", at=T0, to_status="reported", to_unit=world.grid_a1,
                      detail={"form_number": "N-2", "列表": [1, 2]})
    insert_one(event)
    assert CaseEvent.dangerously_unscoped.get(pk=event.pk).detail == {"form_number": "N-2", "列表": [1, 2]}
    assert CaseEvent.dangerously_unscoped.get(pk=event.pk).actor_id is None


def test_signals_are_sent_as_by_save(world):  # type: ignore[no-untyped-def]
    seen: list[tuple[str, bool]] = []

    def pre(sender, instance, **kw):  # type: ignore[no-untyped-def]
        seen.append(("pre", instance.pk is None))

    def post(sender, instance, created, **kw):  # type: ignore[no-untyped-def]
        seen.append(("post", created and instance.pk is not None))

    signals.pre_save.connect(pre, sender=Case)
    signals.post_save.connect(post, sender=Case)
    try:
        insert_one(_case(world, "N-3", "t3"))
    finally:
        signals.pre_save.disconnect(pre, sender=Case)
        signals.post_save.disconnect(post, sender=Case)
    assert seen == [("pre", True), ("post", True)]


def test_a_model_with_its_own_save_goes_through_it(world, monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[int | None] = []
    real = Case.save

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(self.pk)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Case, "save", spy)
    monkeypatch.setitem(connections["default"].__dict__, insert._ATTR, {})  # plans are kept per connection
    case = _case(world, "N-5", "t5")
    insert_one(case)
    assert calls == [None] and case.pk is not None
    assert insert._plan(Case, connection) is None


def test_the_audit_log_writes_new_rows_directly_and_still_refuses_changes(world):  # type: ignore[no-untyped-def]
    assert insert._plan(AuditEvent, connection) is not None  # insert_without_save: its save() only refuses
    event = AuditEvent(at=T0, action="test.insert", actor_id=world.wang_fang.pk, actor_username="wangfang",
                       role="grid_worker_full", unit_path=world.grid_a1.path, object_type="cases.case",
                       object_id="1", outcome="success", detail={"字段": "值"})
    insert_one(event)
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.action, row.actor_id, row.detail, row.at) == ("test.insert", world.wang_fang.pk, {"字段": "值"}, T0)
    with pytest.raises(RuntimeError, match="append-only"):
        insert_one(event)  # a key is set: through save(), which refuses


def test_an_instance_with_a_key_goes_through_save(world):  # type: ignore[no-untyped-def]
    case = _case(world, "N-4", "t4")
    case.pk = 987654
    insert_one(case)
    assert Case.dangerously_unscoped.filter(pk=987654, number="N-4").exists()
