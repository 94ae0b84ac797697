"""`make bench`: build a world on PostgreSQL, serve it with granian, load it on loopback, and
write the figures to docs/benchmarks.md. Never part of `make test`.

Environment:
  BENCH_SIZE        S or M (default M)
  BENCH_PG          base URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
  BENCH_REQUESTS    requests per measured endpoint (default 400)
  BENCH_SKIP_SEED   reuse the bench database (1) instead of rebuilding it; it is migrated first
  BENCH_DB          name of an existing database on BENCH_PG to measure instead of gridgov_bench (implies
                    BENCH_SKIP_SEED; e.g. a fresh clone: createdb -T gridgov_bench_m gridgov_bench_run).
                    The import adds 100k households to the first township office's township, so measure
                    searches on a fresh clone for figures comparable between runs.
  BENCH_IMPORT      households in the import measurement (default 100000; 0 skips it)
  BENCH_CLIENTS     client counts for the page reads (default "32,128")
  BENCH_SWEEP       0 skips the deadline sweep measure (it adds a year of cases when fewer are there)
  BENCH_REDIS       Redis for the Celery worker measured (default redis://127.0.0.1:6379/14)
  BENCH_PORT        port of the app server (default: a free one)
  BENCH_LOADGEN     wrk (Debian's wrk with bench/wrk.lua), python (threads + http.client) or auto (default: wrk
                    when installed, else python)
  BENCH_SECONDS     how long each wrk run lasts (default: BENCH_REQUESTS / 40 seconds, 2 to 10); the Python
                    generator sends a count of requests instead

Each measure lives in a module of its own (bench/pages.py, bench/sweep.py, bench/memory.py,
bench/ledger.py, ...). Modules listed in MEASURES are called with the server up as
`measure(report, database_url, total)` when they exist, so a measure can land on its own.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _free_port() -> int:
    """A port nobody listens on: two benches on one machine must not share a port (granian binds
    with SO_REUSEPORT, so the kernel would split the requests between both servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Chosen once and kept in the environment: `python -m bench.run` is __main__, and the measure
# modules import bench.run again (a second module object) and must talk to the same server.
if not os.environ.get("BENCH_PORT"):
    os.environ["BENCH_PORT"] = str(_free_port())
PORT = int(os.environ["BENCH_PORT"])


@dataclass
class Row:
    what: str
    figure: str
    target: str = ""
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, what: str, figure: str, target: str = "", note: str = "") -> None:
        print(f"  {what}: {figure} {('(target ' + target + ')') if target else ''} {note}", flush=True)
        self.rows.append(Row(what, figure, target, note))


def env_for(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",  # noqa: S106
        GRIDGOV_FIELD_KEY=os.environ.get("GRIDGOV_FIELD_KEY", "YmVuY2gtZmllbGQta2V5LTMyLWJ5dGVzLWxvbmchISE="),
        GRIDGOV_INDEX_KEY=os.environ.get("GRIDGOV_INDEX_KEY", "YmVuY2gtaW5kZXgta2V5LTMyLWJ5dGVzLWxvbmchISE="),
        GRIDGOV_AUDIT_KEY=os.environ.get("GRIDGOV_AUDIT_KEY", "bench:bench-audit-key-not-for-production-0123456789"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_COOKIES="0",
        GRIDGOV_REQUIRE_TOTP="0",  # the load generator signs in as office users without a phone
        DEBUG="0",
    )
    env.pop("GRIDGOV_TESTING", None)
    env.pop("PYTEST_VERSION", None)
    return env


def manage(database_url: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env_for(database_url), check=True)
    return time.perf_counter() - started


def recreate_pg(base: str, name: str) -> str:
    admin = f"{base}/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"], check=True)
    return f"{base}/{name}"


# --- load generation ------------------------------------------------------------
#
# The measures call `load(make_request, total=…, concurrency=…)`. With Debian's wrk installed (`make bench`
# installs it when it can; BENCH_LOADGEN=python forces the fallback) the requests are sent by wrk with
# bench/wrk.lua: an event loop in C that costs the 2-core machine a fraction of the CPU the Python threads
# cost, so the server under test keeps the cores. A request that varies with its number i (an intake's
# Idempotency-Key) is turned into a template for wrk by rendering it with a sentinel number; when that
# does not reproduce the request exactly, the Python generator sends it.

_SENTINEL = 7_777_777_777_771
_MARK = "@N@"


@dataclass
class Load:
    latencies: list[float]
    errors: int
    seconds: float
    percentiles: dict[float, float] | None = None  # ms, from wrk (which keeps no list of latencies)
    good: int | None = None
    generator: str = "python"
    generator_cpu_s: float = 0.0  # CPU time of the load generator during the run
    server_cpu_s: float = 0.0  # CPU time of the app server's processes during the run (0 when unknown)

    def p(self, q: float) -> float:
        if self.percentiles is not None:
            return self.percentiles.get(q, float("nan"))
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    @property
    def count(self) -> int:
        return self.good if self.good is not None else len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def server_ms_per_request(self) -> float:
        answered = self.count + self.errors
        return self.server_cpu_s * 1000 / answered if answered else float("nan")

    @property
    def generator_ms_per_request(self) -> float:
        answered = self.count + self.errors
        return self.generator_cpu_s * 1000 / answered if answered else float("nan")

    def cpu_note(self) -> str:
        """Server and generator CPU per request, for the table's note column."""
        parts = []
        if self.server_cpu_s:
            parts.append(f"app server CPU {self.server_ms_per_request:.1f} ms/request")
        parts.append(f"{self.generator} load generator CPU {self.generator_ms_per_request:.2f} ms/request")
        return ", ".join(parts)


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (granian's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, ValueError, IndexError):
            continue
    return total


def server_cpu_seconds() -> float:
    pid = os.environ.get("BENCH_SERVER_PID")
    return _tree_cpu_seconds(int(pid)) if pid else 0.0


def generator() -> str:
    """"wrk" when Debian's wrk is on PATH (unless BENCH_LOADGEN=python), else "python"."""
    wanted = os.environ.get("BENCH_LOADGEN", "auto")
    if wanted == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if wanted == "wrk":
        raise RuntimeError("BENCH_LOADGEN=wrk but wrk is not installed (apt-get install -y wrk)")
    return "python"


Request = tuple[str, str, bytes | None, dict[str, str]]


def _template(make_request: Callable[[int], Request]) -> Request | None:
    """The request with "@N@" where its number goes, when rendering it back gives the same requests."""
    method, path, body, headers = make_request(_SENTINEL)
    mark = str(_SENTINEL)
    template: Request = (method, path.replace(mark, _MARK),
                         body.decode().replace(mark, _MARK).encode() if body is not None else None,
                         {k: v.replace(mark, _MARK) for k, v in headers.items()})
    if _MARK in template[1]:
        return None  # wrk.lua varies bodies and headers only

    def render(i: int) -> Request:
        m, p, b, h = template
        n = str(i)
        return (m, p, b.decode().replace(_MARK, n).encode() if b is not None else None,
                {k: v.replace(_MARK, n) for k, v in h.items()})

    for i in (0, 3, 12345):
        if render(i) != make_request(i):
            return None
    return template


def load(
    make_request: Callable[[int], Request],
    *,
    total: int,
    concurrency: int,
    ok: tuple[int, ...] = (200,),
) -> Load:
    """Send about `total` requests from `concurrency` keep-alive connections; wrk when installed."""
    if generator() == "wrk":
        template = _template(make_request)
        if template is not None:
            return load_wrk(template, total=total, concurrency=concurrency, ok=ok)
    return load_python(make_request, total=total, concurrency=concurrency, ok=ok)


def load_wrk(template: Request, *, total: int, concurrency: int, ok: tuple[int, ...] = (200,)) -> Load:
    import resource

    method, path, body, headers = template
    threads = max(1, min(2, concurrency))
    # wrk runs for a time, not a count: about `total` requests at 40 a second, 2 to 10 seconds
    # (BENCH_SECONDS sets it).
    seconds = int(os.environ.get("BENCH_SECONDS") or max(2, min(10, round(total / 40))))  # wrk takes whole seconds
    env = dict(os.environ)
    env.update(BENCH_METHOD=method, BENCH_PATH=path, BENCH_BODY=(body or b"").decode(),
               BENCH_HEADERS="\n".join(f"{k}: {v}" for k, v in headers.items()),
               BENCH_OK=",".join(str(c) for c in ok))
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server_cpu_seconds()
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "30s",
         "-s", str(ROOT / "bench" / "wrk.lua"), f"http://127.0.0.1:{PORT}"],
        env=env, check=True, capture_output=True, text=True,
    )
    server_cpu = server_cpu_seconds() - server_before
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{"))
    figures = json.loads(line)
    return Load(
        latencies=[], errors=figures["errors"], seconds=figures["duration_us"] / 1e6,
        percentiles={0.5: figures["p50_us"] / 1000, 0.95: figures["p95_us"] / 1000, 0.99: figures["p99_us"] / 1000},
        good=figures["good"], generator="wrk",
        generator_cpu_s=(cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
        server_cpu_s=server_cpu,
    )


def load_python(
    make_request: Callable[[int], Request],
    *,
    total: int,
    concurrency: int,
    ok: tuple[int, ...] = (200,),
) -> Load:
    """Send `total` requests from `concurrency` threads, each with its own keep-alive connection."""
    import resource

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make_request(i)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                good = response.status in ok
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                good = False
            elapsed = time.perf_counter() - started
            with lock:
                if good:
                    latencies.append(elapsed)
                else:
                    errors += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    server_before = server_cpu_seconds()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    server_cpu = server_cpu_seconds() - server_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    return Load(latencies, errors, seconds, generator="python",
                generator_cpu_s=(cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
                server_cpu_s=server_cpu)


def wait_for_port(port: int, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("server did not start")


# The app server as deploy/systemd/gridgov-web@.service runs it on a 2-core machine (docs/deploy.md).
GRANIAN_WORKERS = int(os.environ.get("BENCH_GRANIAN_WORKERS", "2"))
GRANIAN_THREADS = int(os.environ.get("BENCH_GRANIAN_THREADS", "4"))
GRANIAN_BACKPRESSURE = int(os.environ.get("BENCH_GRANIAN_BACKPRESSURE", "32"))


def serve(database_url: str, workers: int = GRANIAN_WORKERS) -> subprocess.Popen[bytes]:
    env = env_for(database_url)
    env["DATABASE_POOL_MAX"] = str(GRANIAN_THREADS)
    from bench import memory

    if memory.redis_up():
        # As deployed: cache and sessions (cached_db) in Redis. Jobs the pages enqueue wait in a
        # Redis database of the bench's own for the worker started later.
        env.update(REDIS_URL=memory.REDIS_URL, CELERY_BROKER_URL=memory.REDIS_URL,
                   CELERY_RESULT_BACKEND=memory.REDIS_URL, CELERY_TASK_ALWAYS_EAGER="0")
    env["GRIDGOV_BENCH_ENDPOINTS"] = "1"  # /bench/insert, the bare-INSERT baseline (bench/cases.py)
    proc = subprocess.Popen(
        [str(Path(PY).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
         "--workers", str(workers), "--blocking-threads", str(GRANIAN_THREADS),
         "--backpressure", str(GRANIAN_BACKPRESSURE), "--log-level", "warning", "config.wsgi:application"],
        cwd=ROOT, env=env,
    )
    wait_for_port(PORT)
    warm_up()
    os.environ["BENCH_SERVER_PID"] = str(proc.pid)  # load() reads the server's CPU time around each run
    return proc


def warm_up(seconds: float = 180) -> None:
    """The port answers before the workers have loaded the site: the first measure would time their
    start-up (seconds on a loaded machine; a 10-second wrk run then saw no answer at all). Ask for the
    readiness page and a page that loads the URLs and templates, from several connections at once,
    until both answer."""
    deadline = time.time() + seconds
    for path, wanted in (("/ops/ready", (200,)), ("/login/", (200,))):
        while True:
            statuses: list[int] = []

            def ask(p: str = path, statuses: list[int] = statuses) -> None:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                    conn.request("GET", p)
                    statuses.append(conn.getresponse().status)
                    conn.close()
                except (OSError, http.client.HTTPException):
                    statuses.append(0)

            threads = [threading.Thread(target=ask) for _ in range(2 * GRANIAN_WORKERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if all(s in wanted for s in statuses):
                break
            if time.time() > deadline:
                raise RuntimeError(f"server did not answer {path}: {statuses}")
            time.sleep(0.5)


def session_cookie(database_url: str, username: str) -> str:
    """A signed-in session for a seeded user, made the way Django's login makes one."""
    code = (
        "import django,sys; django.setup();"
        "from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore;"
        f"u=get_user_model().objects.get(username={username!r});"
        "s=SessionStore(); s[SESSION_KEY]=str(u.pk);"
        "s[BACKEND_SESSION_KEY]='django.contrib.auth.backends.ModelBackend';"
        "s[HASH_SESSION_KEY]=u.get_session_auth_hash(); s.create(); print(s.session_key)"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=env_for(database_url), check=True, capture_output=True)
    return out.stdout.decode().strip().splitlines()[-1]


def pick_users(database_url: str) -> dict[str, str]:
    """Usernames of a county office, a township office and a grid worker in the bench world."""
    code = (
        "import django,json; django.setup();"
        "from gridgov.access.models import Grant;"
        "pick=lambda r: Grant.dangerously_unscoped.filter(role__code=r, revoked_at__isnull=True)"
        ".order_by('id').values_list('user__username', flat=True).first();"
        "print(json.dumps({r: pick(r) for r in ['county_office','township_office','grid_worker_full']}))"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=env_for(database_url), check=True, capture_output=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def ledger(database_url: str, *args: str) -> dict:
    out = subprocess.run([PY, "-m", "bench.ledger", *args], cwd=ROOT, env=env_for(database_url), check=True,
                         capture_output=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


CSRF = "benchcsrftokenbenchcsrftoken0123"  # 32 characters: cookie and header must match


def measure_searches(report: Report, pg_url: str, total: int) -> None:
    """The five searches cadres rely on, and the household page, as a township office under load."""
    sample = ledger(pg_url, "samples")
    cookie = f"sessionid={session_cookie(pg_url, sample['username'])}; csrftoken={CSRF}"
    headers = {"Cookie": cookie, "X-CSRFToken": CSRF, "Content-Type": "application/json"}
    searches = {
        "name (two characters)": {"name": sample["name"]},
        "ID number": {"id_number": sample["id_number"]},
        "phone": {"phone": sample["phone"]},
        "address fragment": {"address": sample["address"]},
        "house number": {"house_number": sample["house_number"]},
    }
    for label, body in searches.items():
        data = json.dumps(body, ensure_ascii=False).encode()
        load(lambda i, d=data: ("POST", "/api/households/search", d, headers), total=20, concurrency=2)
        result = load(lambda i, d=data: ("POST", "/api/households/search", d, headers), total=total, concurrency=32)
        report.add(f"household search by {label}, 32 clients", f"p95 {result.p(0.95):.0f} ms, "
                   f"p50 {result.p(0.5):.0f} ms, {result.rate:.0f} req/s", "p95 ≤ 100 ms",
                   f"{result.errors} errors; {sample['households_in_scope']} households in scope; "
                   f"{result.cpu_note()}")
    detail = f"/api/households/{sample['household_id']}"
    result = load(lambda i: ("GET", detail, None, headers), total=total, concurrency=32)
    report.add("household detail (API), 32 clients", f"p95 {result.p(0.95):.0f} ms, {result.rate:.0f} req/s",
               "p95 ≤ 100 ms", f"{result.errors} errors; {result.cpu_note()}")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, {pg}")


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def write(report: Report, size: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    marker = "<!-- bench:results -->"
    if marker not in text:
        text = text.rstrip() + f"\n\n{marker}\n"
    head, tail = text.split(marker, 1)
    # Only the previous "Latest run" is replaced: sections other harnesses appended after it
    # (bench.insights) stay.
    kept = ""
    for m in re.finditer(r"^## ", tail, re.M):
        if not tail.startswith("## Latest run", m.start()):
            kept = tail[m.start():]
            break
    lines = [
        marker,
        f"## Latest run: size {size}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
        "",
        f"Machine: {machine()}",
        "",
        "| measure | figure | target | note |",
        "|---|---|---|---|",
        *[f"| {r.what} | {r.figure} | {r.target} | {r.note} |" for r in report.rows],
        "",
    ]
    path.write_text(head + "\n".join(lines) + ("\n" + kept if kept else ""))
    print(f"wrote {path}")


# Measures that run with the server up, each in its own module: `measure(report, database_url, total)`.
MEASURES = ("bench.pages", "bench.cases")


def _optional(dotted: str) -> Callable[..., None] | None:
    import importlib

    try:
        return getattr(importlib.import_module(dotted), "measure", None)  # type: ignore[no-any-return]
    except ImportError:
        return None


def _guarded(report: Report, what: str, fn: Callable[[], None]) -> None:
    """One measure failing is a row in the table, not a lost run."""
    try:
        fn()
    except Exception as exc:  # the table must still be written
        report.add(what, "FAILED", "", f"{type(exc).__name__}: {str(exc)[:160]}")


def measure_sweep(report: Report, pg_url: str) -> None:
    out = subprocess.run([PY, "-m", "bench.sweep"], cwd=ROOT, env=env_for(pg_url), check=True, capture_output=True)
    figures = json.loads(out.stdout.decode().strip().splitlines()[-1])
    runs = figures["runs"]
    busy = [r for r in runs if r["acted"]]
    report.add(f"deadline sweep over a year of cases ({figures['cases']:,} cases)",
               f"first run {runs[0]['seconds']} s ({runs[0]['acted']} effects); "
               f"{len(busy)} run(s) with work, {sum(r['seconds'] for r in busy):.1f} s in all; "
               f"idempotent run {runs[-1]['seconds']} s",
               "", f"{figures['added']:,} earlier cases added in {figures['topped_up_s']} s"
               if figures["added"] else "")


def measure_worker(report: Report, pg_url: str) -> None:
    from bench import memory

    if not memory.redis_up():
        report.add("Celery worker: deadline sweep task", "skipped", "", "no Redis on 127.0.0.1:6379")
        return
    with memory.celery_worker(env_for(pg_url)) as worker:
        result, seconds = memory.run_task("gridgov.cases.sweep")
        report.add("Celery worker: deadline sweep task (scheduled run)", f"{seconds:.1f} s", "", json.dumps(result))
        memory.report_tree(report, "Celery worker (prefork, concurrency 1)", worker.pid)


def main() -> None:
    size = os.environ.get("BENCH_SIZE", "M").upper()
    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    total = int(os.environ.get("BENCH_REQUESTS", "400"))
    clients = tuple(int(c) for c in os.environ.get("BENCH_CLIENTS", "32,128").split(","))
    given_db = os.environ.get("BENCH_DB", "")
    report = Report()
    print(f"GridGov bench, size {size}")
    try:
        _run(report, size=size, base=base, total=total, clients=clients, given_db=given_db)
    finally:
        if report.rows:  # a run that measured nothing keeps the previous table
            write(report, size if not given_db else f"{size} (database {given_db})")


def _run(report: Report, *, size: str, base: str, total: int, clients: tuple[int, ...], given_db: str) -> None:
    from bench import memory, pages

    # 1. The hierarchy and staff alone, on the embedded SQLite (issue: < 60 s at size M).
    if not given_db:
        tmp = Path(tempfile.mkdtemp(prefix="gridgov-bench-"))
        try:
            sqlite_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            manage(sqlite_url, "migrate", "--noinput", "-v", "0")
            seconds = manage(sqlite_url, "seed_world", "--size", size, "--seed", "1", "--units-only")
            report.add(f"seed_world --size {size} hierarchy + staff, SQLite", f"{seconds:.1f} s",
                       "< 60 s" if size == "M" else "")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # 2. The whole world on PostgreSQL (or the database given, as it is).
    pg_url = f"{base}/{given_db or 'gridgov_bench'}"
    if given_db or os.environ.get("BENCH_SKIP_SEED") == "1":
        manage(pg_url, "migrate", "--noinput", "-v", "0")  # a reused database gets the new indexes
    else:
        pg_url = recreate_pg(base, "gridgov_bench")
        manage(pg_url, "migrate", "--noinput", "-v", "0")
        seconds = manage(pg_url, "seed_world", "--size", size, "--seed", "1")
        report.add(f"seed_world --size {size} full world, PostgreSQL", f"{seconds:.1f} s")
    # DEBUG is off, as deployed: pages need the collected, hashed static files (rebuilt when stale).
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    sources = [p for d in ("gridgov/interfaces/static", "var/vendor") for p in (ROOT / d).rglob("*") if p.is_file()]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        manage(pg_url, "collectstatic", "--noinput", "-v", "0")

    # Fresh statistics, as autovacuum would gather them some minutes after a bulk load: measuring
    # right after seeding or cloning without them gives plans PostgreSQL would not choose later.
    subprocess.run(["psql", pg_url, "-qc", "ANALYZE"], check=True)
    # The dashboards' day facts, as the beat job keeps them in a running deployment (a full build the
    # first time, a few seconds' increment on a database that has them).
    started = time.perf_counter()
    built = subprocess.run(
        [PY, "-c", "import django; django.setup(); from gridgov.core.clock import now;"
                   "from gridgov.insights.facts import facts_build; print(facts_build(now=now()))"],
        cwd=ROOT, env=env_for(pg_url), check=True, capture_output=True, text=True)
    report.add("insights day facts build before the reads", f"{time.perf_counter() - started:.1f} s", "",
               built.stdout.strip().splitlines()[-1][:160] if built.stdout.strip() else "")

    # 3. Reads under load, served by granian on loopback.
    server = serve(pg_url)
    try:
        _guarded(report, "page reads", lambda: pages.measure(report, pg_url, total, clients))
        _guarded(report, "household searches", lambda: measure_searches(report, pg_url, total))
        for dotted in MEASURES[1:]:
            fn = _optional(dotted)
            if fn is not None:
                _guarded(report, dotted, lambda fn=fn: fn(report, pg_url, total))  # type: ignore[misc]
        health = load(lambda i: ("GET", "/ops/ready", None, {}), total=total, concurrency=32)
        report.add("readiness endpoint (SELECT 1 + cache), 32 clients", f"p95 {health.p(0.95):.0f} ms, "
                   f"{health.rate:.0f} req/s", "", health.cpu_note())
        memory.report_tree(report, f"granian ({GRANIAN_WORKERS} workers × {GRANIAN_THREADS} threads)", server.pid)
    finally:
        server.terminate()
        server.wait(10)
    if os.environ.get("BENCH_IMPORT", "100000") != "0":
        n = int(os.environ.get("BENCH_IMPORT", "100000"))

        def _import() -> None:
            figures = ledger(pg_url, "import", str(n))
            report.add(f"xlsx import of {n:,} households ({figures['rows']:,} rows, "
                       f"{figures['bytes'] // 1024 // 1024} MB)", f"{figures['import_s']} s", "≤ 60 s",
                       f"status {figures['status']}: {figures['message']}")

        _guarded(report, "xlsx import", _import)
    if os.environ.get("BENCH_SWEEP", "1") != "0":
        _guarded(report, "deadline sweep", lambda: measure_sweep(report, pg_url))
        _guarded(report, "Celery worker", lambda: measure_worker(report, pg_url))


if __name__ == "__main__":
    main()
