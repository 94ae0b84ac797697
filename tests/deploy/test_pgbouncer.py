"""The app through a real PgBouncer in transaction mode (Debian's package, started here), as a city deployment
runs it (issue #23): with DATABASE_PGBOUNCER=1 the reads that outlive a transaction on the server (a queryset's
.iterator(), a query psycopg has prepared after five runs) work; without it they fail, which shows what the
setting guards against. PgBouncer hands each transaction to the next server connection (server_round_robin), as a
busy pool does."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only"),
    pytest.mark.skipif(not Path(PGBOUNCER).exists(), reason="pgbouncer is not installed (apt-get install pgbouncer)"),
    pytest.mark.django_db,
]

# Runs in a process of its own, connected through PgBouncer: the reads a page or an export makes.
SCRIPT = textwrap.dedent("""
    import django
    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    for i in range(12):   # the same query, each its own transaction: psycopg prepares it after five
        assert len(list(ContentType.objects.filter(pk__gte=i % 3).values_list("pk", flat=True)[:5])) == 5
    rows = sum(1 for _ in ContentType.objects.order_by("pk").iterator(chunk_size=2))   # fetched in many statements
    assert rows == ContentType.objects.count() and rows > 10, rows
    print("through pgbouncer:", rows, "rows")
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pgbouncer() -> Iterator[int]:
    db = connection.settings_dict
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="gridgov-pgbouncer-"))
    folder.chmod(0o755)  # pgbouncer refuses to run as root: it runs as nobody then and must read its files
    (folder / "users.txt").write_text(f'"{db["USER"] or "postgres"}" ""\n')
    (folder / "pgbouncer.ini").write_text(textwrap.dedent(f"""
        [databases]
        * = host={db["HOST"] or "127.0.0.1"} port={db["PORT"] or 5432}
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = {port}
        unix_socket_dir =
        auth_type = trust
        auth_file = {folder}/users.txt
        pool_mode = transaction
        default_pool_size = 2
        min_pool_size = 2
        server_round_robin = 1
        ignore_startup_parameters = extra_float_digits,options
    """))
    for f in folder.iterdir():
        f.chmod(0o644)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]
    log = open(folder / "pgbouncer.log", "w+b")  # noqa: SIM115 (read back on failure; never a full pipe)
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                log.seek(0)
                raise AssertionError(log.read().decode())
            time.sleep(0.2)
        # Two server connections from the start: two clients in a transaction at once (min_pool_size fills the
        # pool only now and then), so that round-robin has another server to hand the next transaction to.
        url = f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{port}/{db['NAME']}"
        with psycopg.connect(url) as first, psycopg.connect(url) as second:
            first.execute("SELECT 1")
            second.execute("SELECT 1")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def run_through(port: int, pgbouncer_setting: str) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{port}/{db['NAME']}",
               DATABASE_PGBOUNCER=pgbouncer_setting, DATABASE_POOL="0", DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_reads_work_through_pgbouncer_with_the_setting(pgbouncer: int) -> None:
    result = run_through(pgbouncer, "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "through pgbouncer:" in result.stdout


def test_without_the_setting_they_break_so_the_test_can_fail(pgbouncer: int) -> None:
    result = run_through(pgbouncer, "0")
    assert result.returncode != 0
    assert "does not exist" in result.stderr  # the prepared statement or the cursor, on another server connection
