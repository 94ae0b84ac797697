"""The read-replica router on two real PostgreSQL databases: the replica is a copy of the primary whose rows the test
then changes, so each page shows which database answered. Dashboards and searches read the replica; a write, a read
after a write in the same block, reads inside a transaction, and a user's pages right after they saved something
read the primary; without DATABASE_REPLICA_URL everything reads `default`."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Case, Category, default_deadlines
from gridgov.core import replica
from gridgov.core.clock import now
from gridgov.units.models import Unit
from tests.public.test_report import grid_path, report
from tests.world import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

PRIMARY_TITLE = "主库的标题：村口路灯坏了"
REPLICA_TITLE = "副本库的标题：村口路灯坏了"


def psql(db: str, sql: str) -> None:
    s = connection.settings_dict
    subprocess.run(["psql", "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"],
                    "-v", "ON_ERROR_STOP=1", "-qAtc", sql, db], check=True, capture_output=True,
                   env={**os.environ, "PGPASSWORD": s["PASSWORD"] or ""})


@pytest.fixture
def two_databases(world: World) -> Iterator[dict[str, Any]]:
    """The world and one case, committed on the primary, copied to a second database (the replica), whose copy of
    the case and of a unit then differ."""
    cache.clear()  # the public page's throttles count reports from this address across tests
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    from gridgov.cases.intake import case_report

    case = case_report(actor=world.zhao_lei, now=now(), title=PRIMARY_TITLE, description="三天了还没修",
                       category_code="sanitation", channel="field", unit_id=world.grid_a1.pk).case
    s = connection.settings_dict
    primary_name, replica_name = s["NAME"], f"{s['NAME']}_replica"
    psql("postgres", f'DROP DATABASE IF EXISTS "{replica_name}"')
    psql("postgres", f'CREATE DATABASE "{replica_name}"')
    env = {**os.environ, "PGPASSWORD": s["PASSWORD"] or ""}
    dump = subprocess.run(["pg_dump", "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"],
                           "--no-owner", primary_name], check=True, capture_output=True, env=env)
    subprocess.run(["psql", "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"],
                    "-v", "ON_ERROR_STOP=1", "-q", replica_name], input=dump.stdout, check=True,
                   capture_output=True, env=env)
    change = f"UPDATE {Case._meta.db_table} SET title = '{REPLICA_TITLE}' WHERE id = {case.pk}"  # noqa: S608
    psql(replica_name, f"SET session_replication_role = replica; {change}")
    connections.settings[replica.REPLICA] = {**copy.deepcopy(connections.settings["default"]), "NAME": replica_name}
    # Connected here: Django's test case refuses to open a connection to an alias it did not set up.
    connections[replica.REPLICA].connect()
    try:
        yield {"case": case, "world": world}
    finally:
        connections[replica.REPLICA].close()
        del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]
        psql("postgres", f'DROP DATABASE IF EXISTS "{replica_name}" WITH (FORCE)')


def staff(world: World) -> Client:
    client = Client()
    assert client.login(username=world.zhao_lei.username, password=PASSWORD)
    return client


def test_searches_and_dashboards_read_the_replica(two_databases):
    world = two_databases["world"]
    client = staff(world)
    queue = client.get("/cases/").content.decode()
    assert REPLICA_TITLE in queue and PRIMARY_TITLE not in queue
    # A detail page is not marked read-only: the primary.
    detail = client.get(f"/cases/{two_databases['case'].pk}/").content.decode()
    assert PRIMARY_TITLE in detail and REPLICA_TITLE not in detail
    # The dashboard's figures come from the replica: every read of cases there, none on the primary (which only
    # answers the session and the user, read before the view).
    with CaptureQueriesContext(connections["default"]) as on_primary, \
            CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        assert client.get("/dashboard/").status_code == 200
    table = Case._meta.db_table
    assert any(table in q["sql"] for q in on_replica.captured_queries)
    assert not any(table in q["sql"] for q in on_primary.captured_queries), on_primary.captured_queries
    with replica.use_replica():
        assert Case.dangerously_unscoped.get(pk=two_databases["case"].pk).title == REPLICA_TITLE
        assert Case.dangerously_unscoped.count() == 1


def test_a_user_who_just_saved_reads_the_primary(two_databases):
    world = two_databases["world"]
    writer, other = staff(world), staff(world)
    response = report(writer, grid_path(world), description="新上报：井盖丢了")
    assert response.status_code == 303
    assert writer.cookies[replica.PIN_COOKIE].value == "1"
    assert int(writer.cookies[replica.PIN_COOKIE]["max-age"]) == 30
    assert Case.dangerously_unscoped.count() == 2  # written to the primary
    mine = writer.get("/cases/").content.decode()
    assert PRIMARY_TITLE in mine and "井盖丢了" in mine  # the primary: their own report is there
    theirs = other.get("/cases/").content.decode()
    assert REPLICA_TITLE in theirs and "井盖丢了" not in theirs  # the replica has not caught up (it never will here)
    # A page that only reads sets no pin.
    assert replica.PIN_COOKIE not in other.cookies


def test_a_write_pins_the_rest_of_the_block_and_transactions_read_the_primary(two_databases):
    pk = two_databases["case"].pk
    with replica.use_replica():
        assert Case.dangerously_unscoped.get(pk=pk).title == REPLICA_TITLE
        with transaction.atomic():
            assert Case.dangerously_unscoped.get(pk=pk).title == PRIMARY_TITLE  # deciding a write: the primary
        assert Case.dangerously_unscoped.get(pk=pk).title == REPLICA_TITLE
        Unit.dangerously_unscoped.filter(pk=two_databases["world"].grid_a1.pk).update(serial="A1X")
        assert Case.dangerously_unscoped.get(pk=pk).title == PRIMARY_TITLE  # after a write: the primary
    assert Case.dangerously_unscoped.get(pk=pk).title == PRIMARY_TITLE  # outside a block: the primary
    loaded = Case.dangerously_unscoped.filter(pk=pk)
    with replica.use_replica():
        case = loaded.get()
        assert case._state.db == replica.REPLICA
        case.description = "改了"
        case.save(update_fields=["description"])  # saved to the primary even though read from the replica
    with connections["default"].cursor() as cur:
        cur.execute(f"SELECT description FROM {Case._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        assert cur.fetchone() == ("改了",)


def test_without_a_replica_everything_reads_default(world):
    assert not replica.configured()
    client = staff(world)
    with replica.use_replica():
        assert Unit.dangerously_unscoped.filter(pk=world.grid_a1.pk).get()._state.db == "default"
    assert client.get("/cases/").status_code == 200


def test_the_setting_adds_the_replica_alias() -> None:
    code = ("import django; django.setup(); from django.conf import settings as s; d = s.DATABASES; "
            "print(sorted(d), d['replica']['NAME'], d['replica']['TEST']['MIRROR'], s.DATABASE_ROUTERS)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_REPLICA_URL": "postgres://reader@10.0.0.6:5432/gridgov"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "['default', 'replica'] gridgov default ['gridgov.core.replica.ReplicaRouter']"
