"""The reference cache (cases/reference.py): intake keeps the categories and the work calendar per process
under the reference stamp, and a change to either is used by the very next intake.

Nothing in Python tells the cache about a change: database triggers replace the stamp in the change's own
transaction. So the changes below are made the ways another process, the admin or psql would make them
(services, queryset updates that send no signals, plain SQL), and the last test runs a real second
process on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.cases import reference
from gridgov.cases.categories import category_update
from gridgov.cases.intake import case_report
from gridgov.cases.models import CalendarOverride, Case, Category, ReferenceStamp
from gridgov.core.clock import local
from gridgov.core.errors import ValidationFailed
from tests.world import T0

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def _report(kit, key: str, category: str = "sanitation", now: dt.datetime = T0) -> Case:  # type: ignore[no-untyped-def]
    w = kit.world
    return case_report(actor=w.wang_fang, now=now, title="村口垃圾堆放", description="路边有大量生活垃圾。",
                       category_code=category, channel="field", unit_id=w.grid_a1.pk, idempotency_key=key).case


def _reads_reference_tables(kit, key: str, **kw) -> bool:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        _report(kit, key, **kw)
    return any("cases_category" in q["sql"] or "cases_calendaroverride" in q["sql"] for q in ctx.captured_queries)


def _warm(kit) -> None:  # type: ignore[no-untyped-def]
    """Two intakes: the second must be served from the kept reference (checked: the tables are not read)."""
    _report(kit, "warm-1")
    assert not _reads_reference_tables(kit, "warm-2"), "the reference was not kept"


def test_an_unchanged_reference_is_read_once_per_process(kit):  # type: ignore[no-untyped-def]
    reference.forget()
    assert _reads_reference_tables(kit, "a")  # cold: read
    assert not _reads_reference_tables(kit, "b")  # kept
    assert not _reads_reference_tables(kit, "")  # without a key the stamp is read on its own: still kept


def _stamp() -> int | None:
    return reference.read_stamp()


@pytest.mark.parametrize("write", [
    "category service", "category queryset update", "category raw SQL", "category insert", "override insert",
    "override queryset delete", "override raw SQL",
])
def test_every_write_to_the_reference_tables_replaces_the_stamp(kit, write):  # type: ignore[no-untyped-def]
    CalendarOverride.objects.create(date=dt.date(2031, 1, 2), is_workday=False)
    before = _stamp()
    assert before is not None
    if write == "category service":
        category_update(actor=kit.world.chen_jing, now=T0, category_id=Category.objects.get(code="sanitation").pk,
                        name="环境卫生（改）")
    elif write == "category queryset update":
        Category.objects.filter(code="sanitation").update(max_extension_days=5)
    elif write == "category raw SQL":
        with connection.cursor() as cur:
            cur.execute("UPDATE cases_category SET sort_order = sort_order + 1 WHERE code = 'other'")
    elif write == "category insert":
        Category.objects.create(code="new_one", name="新类别")
    elif write == "override insert":
        CalendarOverride.objects.create(date=dt.date(2031, 1, 3), is_workday=True)
    elif write == "override queryset delete":
        CalendarOverride.objects.filter(date=dt.date(2031, 1, 2)).delete()
    else:
        with connection.cursor() as cur:
            cur.execute("UPDATE cases_calendaroverride SET is_workday = %s", [True])
    after = _stamp()
    assert after is not None and after != before


def test_a_read_does_not_replace_the_stamp(kit):  # type: ignore[no-untyped-def]
    before = _stamp()
    list(Category.objects.all())
    _report(kit, "x")
    assert _stamp() == before


def test_changed_deadlines_are_used_by_the_next_intake(kit):  # type: ignore[no-untyped-def]
    _warm(kit)
    first = _report(kit, "before")
    assert first.resolve_due == _report(kit, "before-again").resolve_due
    # A queryset update: no signal, no save(); only the trigger can tell.
    Category.objects.filter(code="sanitation").update(
        deadlines={"ordinary": {"respond_hours": 1, "resolve_hours": 5}})
    after = _report(kit, "after")
    assert after.resolve_due == T0 + dt.timedelta(hours=5)
    assert after.respond_due == T0 + dt.timedelta(hours=1)
    assert first.resolve_due != after.resolve_due


def test_a_retired_category_is_refused_by_the_next_intake(kit):  # type: ignore[no-untyped-def]
    _warm(kit)
    category_update(actor=kit.world.chen_jing, now=T0, category_id=Category.objects.get(code="sanitation").pk,
                    is_active=False)
    with pytest.raises(ValidationFailed) as err:
        _report(kit, "retired")
    assert err.value.field == "category"


def test_a_new_category_is_accepted_by_the_next_intake(kit):  # type: ignore[no-untyped-def]
    _warm(kit)
    with pytest.raises(ValidationFailed):
        _report(kit, "unknown", category="street_dogs")
    with connection.cursor() as cur:  # as psql would
        cur.execute("INSERT INTO cases_category (code, name, lowest_level, department_kind, on_site, deadlines, "
                    "escalate_when_overdue, max_extension_days, is_active, sort_order) VALUES "
                    "('street_dogs', '流浪犬', 'grid', '', %s, %s, %s, 10, %s, 99)",
                    [False, json.dumps({}), False, True])
    assert _report(kit, "known", category="street_dogs").category.code == "street_dogs"


def test_a_new_calendar_override_moves_the_next_due_date(kit):  # type: ignore[no-untyped-def]
    _warm(kit)
    before = _report(kit, "o1")
    due_day = local(before.respond_due).date()  # one working day after T0
    CalendarOverride.objects.create(date=due_day, is_workday=False, note="本地停工")
    after = _report(kit, "o2")
    assert local(after.respond_due).date() > due_day
    CalendarOverride.objects.filter(date=due_day).delete()
    assert _report(kit, "o3").respond_due == before.respond_due


def test_without_a_stamp_row_nothing_is_kept(kit):  # type: ignore[no-untyped-def]
    ReferenceStamp.objects.all().delete()  # as after a flush
    assert reference.read_stamp() is None
    assert _reads_reference_tables(kit, "n1")
    assert _reads_reference_tables(kit, "n2")  # read every time
    Category.objects.filter(code="other").update(sort_order=1)  # the next write brings the row back
    assert reference.read_stamp() is not None


def test_a_rolled_back_change_leaves_no_stale_copy(kit):  # type: ignore[no-untyped-def]
    """A change read inside its own transaction and then rolled back: the copy kept under that
    transaction's stamp is never used again, because no committed state carries that stamp."""
    from django.db import transaction

    _warm(kit)
    with pytest.raises(RuntimeError), transaction.atomic():
        Category.objects.filter(code="sanitation").update(
            deadlines={"ordinary": {"respond_hours": 1, "resolve_hours": 3}})
        assert _report(kit, "inside").resolve_due == T0 + dt.timedelta(hours=3)
        raise RuntimeError("roll back")
    assert _report(kit, "outside").resolve_due != T0 + dt.timedelta(hours=3)


# A second app process: keeps the reference, then reports on each line it reads what it uses.
_OTHER_PROCESS = """
import json, sys
import django
django.setup()
from gridgov.cases import reference
first = None
for line in sys.stdin:
    kept = reference.reference(reference.read_stamp())
    first = first or kept
    sanitation = kept.categories.get("sanitation")
    print(json.dumps({"policy": sanitation.policy("ordinary") if sanitation else None,
                      "kept": kept is first, "overrides": sorted(str(d) for d in kept.calendar.overrides)}),
          flush=True)
"""


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="a second process needs a database both can reach (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_another_process_sees_a_change_on_its_next_read(kit):  # type: ignore[no-untyped-def]
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(GRIDGOV_TESTING="1", DJANGO_SETTINGS_MODULE="config.settings",
               DATABASE_URL=(f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                             f"{db['PORT'] or 5432}/{db['NAME']}"))
    proc = subprocess.Popen([sys.executable, "-c", _OTHER_PROCESS], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ask() -> dict:  # type: ignore[type-arg]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("read\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        return json.loads(line)

    try:
        first = ask()
        assert ask() == {**first, "kept": True}  # unchanged: the same kept copy
        # This process changes the category (committed: a transactional test) ...
        Category.objects.filter(code="sanitation").update(
            deadlines={"ordinary": {"respond_days": 2, "resolve_days": 4}})
        seen = ask()
        assert seen["policy"] == {"respond_days": 2, "resolve_days": 4} and not seen["kept"]
        # ... and a calendar override.
        CalendarOverride.objects.create(date=dt.date(2031, 5, 6), is_workday=False)
        assert ask()["overrides"] == ["2031-05-06"]
        # Retired: the other process no longer offers it.
        category_update(actor=kit.world.chen_jing, now=T0,
                        category_id=Category.objects.get(code="sanitation").pk, is_active=False)
        assert ask()["policy"] is None
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=30)
