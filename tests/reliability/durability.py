"""Durability harness: cases posted through the real intake API while the app server and the
database are killed with SIGKILL at random.

    python -m tests.reliability.durability --rounds 200      (make durability ROUNDS=200)

It builds a throwaway PostgreSQL cluster of its own (initdb in a temporary directory, its own
port and socket directory, fsync and synchronous_commit on) and NEVER touches the shared server.
A round is one crash: while a few clients keep reporting cases (each with its own idempotency
key, retrying the same key and payload until acknowledged), the chaos thread kills -9 the
granian app server, the database (the postmaster's whole process group), or both, then starts
them again. Each round also loses one response on purpose after the commit (the client reads
the 201 and throws it away) and retries.

Afterwards, with both up: every acknowledged submission is present exactly once and whole
(every field compared with what the client sent, its report event written with it), no case
exists that no client submitted, and every retry after a lost response returned the same case
with created=false. Prints a JSON summary; exits 1 on any violation.

Visits (走访) go through the same rules: the clients alternate a case (POST /api/cases/) and a visit
(POST /api/visits/, same Idempotency-Key header, same retries, the same forced lost response), and
every acknowledged visit must be present once and whole (household, kind, notes read back in full,
its audit row written with it).

Not covered: power loss (the OS page cache survives a process kill; fsync on protects against the
rest, which this harness does not simulate).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("GRIDGOV_PG_BIN", "/usr/lib/postgresql/15/bin"))
VENV_BIN = Path(sys.executable).parent
CATEGORIES = ["sanitation", "public_order", "illegal_building", "labour", "other"]
WORDS = ["村口", "垃圾", "路灯", "积水", "井盖", "占道", "噪音", "树枝", "电线", "围墙", "排水沟", "广场"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(msg: str) -> None:
    print(f"[durability {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the throwaway database -------------------------------------------------------------------

class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the `postgres` OS user when we are root."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "pgdata"
        self.sock = base / "sock"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(base / "postgres.log", "ab")  # noqa: SIM115
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            self._user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            os.chown(base, pw.pw_uid, pw.pw_gid)

    def initdb(self) -> None:
        self.sock.mkdir()
        if self._user:
            os.chown(self.sock, self._user["user"], self._user["group"])
        subprocess.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                       check=True, stdout=self.log, stderr=subprocess.STDOUT, **self._user)

    def start(self) -> None:
        # Its own session (process group): a kill reaches the postmaster and every backend at once,
        # as a crash would; nothing outside this group is ever signalled.
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sock),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "synchronous_commit=on",
             "-c", "full_page_writes=on", "-c", "shared_buffers=32MB", "-c", "max_connections=40"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, **self._user,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            r = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                               check=False)
            if r.returncode == 0:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}; see {self.base}/postgres.log")
            time.sleep(0.1)
        raise RuntimeError("postgres did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        # Backends of the killed postmaster are in the same group and gone; wait for the port to free.
        time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def url(self, db: str = "gridgov") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, query: str, db: str = "gridgov") -> str:
        r = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "-d", db, "-At", "-v", "ON_ERROR_STOP=1", "-c", query],
                           check=True, capture_output=True, text=True)
        return r.stdout


# --- the app server ---------------------------------------------------------------------------

class AppServer:
    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(base / "granian.log", "ab")  # noqa: SIM115

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--blocking-threads", "4", "--log-level", "warning", "config.wsgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, seconds: float = 120) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                status, _, _ = request(self.port, "GET", "/ops/ready", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("granian exited; see granian.log")
            time.sleep(0.1)
        raise RuntimeError("the app server did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- a small HTTP client with cookies ---------------------------------------------------------

def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 20) -> tuple[int, dict[str, list[str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs: dict[str, list[str]] = {}
        for k, v in resp.getheaders():
            hdrs.setdefault(k.lower(), []).append(v)
        return resp.status, hdrs, data
    finally:
        conn.close()


class Session:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _store(self, hdrs: dict[str, list[str]]) -> None:
        for raw in hdrs.get("set-cookie", []):
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 20) -> tuple[int, bytes]:
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        csrf = next((v for k, v in self.cookies.items() if "csrftoken" in k), "")
        if method != "GET" and csrf:
            h["X-CSRFToken"] = csrf
        status, hdrs, data = request(self.port, method, path, body, h, timeout)
        self._store(hdrs)
        return status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.call("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: {status}")
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token.group(1).decode()}).encode()
        status, _ = self.call("POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or not any("session" in k for k in self.cookies):
            raise RuntimeError(f"login refused: {status}")


# --- the run ----------------------------------------------------------------------------------

@dataclass
class Ack:
    key: str
    payload: dict[str, Any]
    case_id: int  # the case's id, or the visit's for kind "visit"
    number: str
    attempts: int
    created: bool
    kind: str = "case"


@dataclass
class Stats:
    acked: dict[str, Ack] = field(default_factory=dict)
    attempts: int = 0
    failed_attempts: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    lost_after_commit_natural: int = 0  # no answer (or an error), yet the retry found the case committed
    lost_after_commit_forced: int = 0  # a 201 thrown away on purpose, then retried
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.status_counts[what] = self.status_counts.get(what, 0) + 1

    def violation(self, msg: str) -> None:
        with self.lock:
            self.violations.append(msg)
        log("VIOLATION: " + msg)


def make_payload(rng: random.Random, key: str) -> dict[str, Any]:
    words = "".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
    return {
        "title": f"{rng.choice(WORDS)}问题 {key[-8:]}",
        "description": f"{words}。编号 {key}。" + "细节" * rng.randint(0, 200),
        "category": rng.choice(CATEGORIES), "channel": rng.choice(["field", "hotline", "walk_in"]),
        "urgency": rng.choice(["ordinary", "ordinary", "urgent"]),
        "address": f"吴城村{rng.randint(1, 300)}号",
    }


def make_visit_payload(rng: random.Random, key: str, household_id: int) -> dict[str, Any]:
    words = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
    return {
        "household_id": household_id, "kind": rng.choice(["home", "home", "phone", "video"]),
        "notes": f"老人身体尚可，{words}。编号 {key}。" + "情况" * rng.randint(0, 150),
        "lat": round(39.0 + rng.random() * 0.09, 6), "lng": round(113.0 + rng.random() * 0.09, 6),
    }


def submit_until_acked(session: Session, payload: dict[str, Any], key: str, unit_id: int, stats: Stats,
                       stop: threading.Event, lose_first_answer: bool = False,
                       after_lost: bool = False, kind: str = "case") -> Ack | None:
    if kind == "visit":
        path, body = "/api/visits/", json.dumps(payload).encode()
    else:
        path, body = "/api/cases/", json.dumps({**payload, "unit_id": unit_id}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    attempts = 0
    unanswered = after_lost  # an earlier attempt may have committed without us hearing of it
    while True:
        attempts += 1
        with stats.lock:
            stats.attempts += 1
        try:
            status, data = session.call("POST", path, body, headers, timeout=30)
        except (OSError, http.client.HTTPException) as exc:
            stats.count(type(exc).__name__)
            with stats.lock:
                stats.failed_attempts += 1
            unanswered = True
            if stop.is_set() and attempts > 200:
                return None
            time.sleep(0.1)
            continue
        stats.count(str(status))
        if status in (200, 201):
            out = json.loads(data)
            case = out[kind]
            if lose_first_answer and status == 201:
                # The response is lost on the way back: the client never saw it and tries again.
                lose_first_answer = False
                first_id = case["id"]
                with stats.lock:
                    stats.lost_after_commit_forced += 1
                again = submit_until_acked(session, payload, key, unit_id, stats, stop, after_lost=True, kind=kind)
                if again is not None and (again.case_id != first_id or again.created):
                    stats.violation(f"{key}: retry after a lost 201 gave case {again.case_id} "
                                    f"created={again.created}, first was {first_id}")
                return again
            if status == 200 and unanswered and not after_lost:
                with stats.lock:
                    stats.lost_after_commit_natural += 1
            if status == 200 and not unanswered and attempts == 1:
                stats.violation(f"{key}: a first submission answered 200 (replay) though nothing was sent before")
            return Ack(key=key, payload=payload, case_id=case["id"], number=case.get("number", ""),
                       attempts=attempts, created=status == 201, kind=kind)
        if status in (401, 403):
            stats.violation(f"{key}: {status} on a signed-in session: {data[:200]!r}")
            return None
        if 400 <= status < 500:
            stats.violation(f"{key}: refused with {status}: {data[:200]!r}")
            return None
        unanswered = True  # 5xx: the database was away; the commit may or may not have happened
        time.sleep(0.1)


def build_static(env: dict[str, str]) -> None:
    """Production settings serve hashed static files from the manifest; build it when stale."""
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    sources = [p for d in ("gridgov/interfaces/static", "var/vendor") for p in (ROOT / d).rglob("*") if p.is_file()]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)


def setup_world(env: dict[str, str]) -> tuple[int, int]:
    code = (
        "import django, json; django.setup()\n"
        "from tests.world import build_world\n"
        "from gridgov.residents.households import household_create\n"
        "w = build_world()\n"
        "h = household_create(actor=None, now=w.grid_a1.created_at, unit_id=w.grid_a1.pk, address='吴城村一组',"
        " house_number='7')\n"
        "print(json.dumps({'unit_id': w.grid_a1.pk, 'household_id': h.pk}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return int(out["unit_id"]), int(out["household_id"])


def verify(cluster: Cluster, app: AppServer, stats: Stats, submitted: set[str]) -> dict[str, Any]:
    session = Session(app.port)
    session.login("wangfang", "Grid-Test-2026")
    fields = ["title", "description", "category", "channel", "urgency", "address"]
    for ack in stats.acked.values():
        if ack.kind == "visit":
            _verify_visit(session, stats, ack)
            continue
        status, data = session.call("GET", f"/api/cases/{ack.case_id}")
        if status != 200:
            stats.violation(f"{ack.key}: acknowledged case {ack.case_id} answers {status}")
            continue
        detail = json.loads(data)
        case = detail["case"]
        for f in fields:
            if case[f] != ack.payload[f]:
                stats.violation(f"{ack.key}: field {f} is {case[f]!r}, sent {ack.payload[f]!r}")
        if case["number"] != ack.number:
            stats.violation(f"{ack.key}: number {case['number']} != acknowledged {ack.number}")
        reports = [e for e in detail["events"] if e["action"] == "report"]
        if len(reports) != 1:
            stats.violation(f"{ack.key}: {len(reports)} report events")
    # The database side: one row per key, no row for a key nobody sent, no two cases with one number.
    visits = _verify_visit_rows(cluster, stats, submitted)
    rows = cluster.sql("SELECT idempotency_key, count(*) FROM cases_case GROUP BY idempotency_key")
    per_key = {}
    for line in rows.splitlines():
        k, n = line.rsplit("|", 1)
        per_key[k.split(":", 1)[1] if ":" in k else k] = int(n)
    dupes = {k: n for k, n in per_key.items() if n != 1}
    if dupes:
        stats.violation(f"keys with more than one case: {dupes}")
    unknown = set(per_key) - submitted
    if unknown:
        stats.violation(f"cases nobody submitted: {sorted(unknown)[:5]}")
    missing = {k for k, a in stats.acked.items() if a.kind == "case"} - set(per_key)
    if missing:
        stats.violation(f"acknowledged but missing: {sorted(missing)[:5]}")
    numbers = cluster.sql("SELECT count(*) - count(DISTINCT number) FROM cases_case").strip()
    if numbers != "0":
        stats.violation(f"{numbers} duplicate case numbers")
    orphans = cluster.sql(
        "SELECT count(*) FROM cases_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'report')").strip()
    if orphans != "0":
        stats.violation(f"{orphans} cases without their report event (half written)")
    return {"cases_in_db": sum(per_key.values()), "keys_in_db": len(per_key), **visits}


def _verify_visit(session: Session, stats: Stats, ack: Ack) -> None:
    status, data = session.call("GET", f"/api/visits/{ack.case_id}")
    if status != 200:
        stats.violation(f"{ack.key}: acknowledged visit {ack.case_id} answers {status}")
        return
    detail = json.loads(data)
    visit = detail["visit"]
    for f in ("household_id", "kind", "lat", "lng"):
        if visit[f] != ack.payload[f]:
            stats.violation(f"{ack.key}: visit field {f} is {visit[f]!r}, sent {ack.payload[f]!r}")
    if detail["notes"] != ack.payload["notes"] or visit["notes_length"] != len(ack.payload["notes"]):
        stats.violation(f"{ack.key}: visit notes differ from what was sent")


def _verify_visit_rows(cluster: Cluster, stats: Stats, submitted: set[str]) -> dict[str, int]:
    rows = cluster.sql("SELECT idempotency_key, count(*) FROM visits_visit GROUP BY idempotency_key")
    per_key: dict[str, int] = {}
    for line in rows.splitlines():
        k, n = line.rsplit("|", 1)
        per_key[k.split(":", 1)[1] if ":" in k else k] = int(n)
    dupes = {k: n for k, n in per_key.items() if n != 1}
    if dupes:
        stats.violation(f"keys with more than one visit: {dupes}")
    unknown = set(per_key) - submitted
    if unknown:
        stats.violation(f"visits nobody submitted: {sorted(unknown)[:5]}")
    missing = {k for k, a in stats.acked.items() if a.kind == "visit"} - set(per_key)
    if missing:
        stats.violation(f"acknowledged visits missing: {sorted(missing)[:5]}")
    orphans = cluster.sql(
        "SELECT count(*) FROM visits_visit v WHERE NOT EXISTS (SELECT 1 FROM audit_auditevent a "
        "WHERE a.action = 'visit.record' AND a.object_id = v.id::text)").strip()
    if orphans != "0":
        stats.violation(f"{orphans} visits without their audit row (half written)")
    return {"visits_in_db": sum(per_key.values()), "visit_keys_in_db": len(per_key)}


def run(rounds: int, clients: int, seed: int, keep: bool) -> dict[str, Any]:
    rng = random.Random(seed)
    base = Path(tempfile.mkdtemp(prefix="gridgov-durability-"))
    log(f"work dir {base}")
    cluster = Cluster(base)
    cluster.initdb()
    cluster.start()
    cluster.sql("CREATE DATABASE gridgov", db="postgres")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "GRIDGOV_TESTING", "PYTEST_XDIST_WORKER",
                                                           "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=cluster.url(), DEBUG="0", SECURE_COOKIES="0",
        SECRET_KEY="durability-" + secrets.token_urlsafe(40), ALLOWED_HOSTS="127.0.0.1,localhost",
        GRIDGOV_FIELD_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        GRIDGOV_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        GRIDGOV_AUDIT_KEY="d1:" + secrets.token_urlsafe(32),
        GRIDGOV_REQUIRE_TOTP="0", GRIDGOV_FAST_HASHER="1", MEDIA_ROOT=str(base / "media"),
        PYTHONUNBUFFERED="1",
    )
    for k in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(k, None)
    app = AppServer(base, env)
    stats = Stats()
    submitted: set[str] = set()
    kills = {"app": 0, "db": 0, "both": 0}
    t0 = time.time()
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        unit_id, household_id = setup_world(env)
        build_static(env)
        log(f"migrated and seeded in {time.time() - t0:.0f}s; cluster on port {cluster.port}")
        app.start()
        app.wait_ready()

        stop = threading.Event()
        key_lock = threading.Lock()
        counter = iter(range(10**9))
        forced = threading.Semaphore(0)  # one forced lost response per round

        def client(i: int) -> None:
            crng = random.Random(seed * 1000 + i)
            session = Session(app.port)
            for _ in range(600):
                try:
                    session.login("wangfang", "Grid-Test-2026")
                    break
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    stats.count(f"login:{exc}"[:60])
                    time.sleep(0.2)
            else:
                stats.violation(f"client {i} could not sign in")
                return
            while not stop.is_set():
                with key_lock:
                    n = next(counter)
                    key = f"dur-{seed}-{i}-{n:06d}-{crng.randrange(16**6):06x}"
                    submitted.add(key)
                kind = "visit" if n % 2 else "case"
                payload = (make_visit_payload(crng, key, household_id) if kind == "visit"
                           else make_payload(crng, key))
                lose = forced.acquire(blocking=False)
                ack = submit_until_acked(session, payload, key, unit_id, stats, stop, lose_first_answer=lose,
                                         kind=kind)
                if ack is not None:
                    with stats.lock:
                        stats.acked[key] = ack

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
        for t in threads:
            t.start()
        for r in range(rounds):
            forced.release()
            time.sleep(rng.uniform(0.3, 1.5))
            victim = rng.choices(["app", "db", "both"], weights=[45, 40, 15])[0]
            kills[victim] += 1
            if victim in ("db", "both"):
                cluster.kill()
            if victim in ("app", "both"):
                app.kill()
            time.sleep(rng.uniform(0.0, 0.8))
            if victim in ("db", "both"):
                cluster.start()
            if victim in ("app", "both"):
                app.start()
            app.wait_ready()
            if (r + 1) % 10 == 0:
                log(f"round {r + 1}/{rounds}: {len(stats.acked)} acknowledged, {stats.attempts} attempts")
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(120)
        hung = sum(t.is_alive() for t in threads)
        if hung:
            stats.violation(f"{hung} clients never got an answer after the last crash")
        # Keys a client was still trying when told to stop are fine as long as the retry below settles them.
        db = verify(cluster, app, stats, submitted)
        summary = {
            "rounds": rounds, "kills": kills, "clients": clients, "seed": seed,
            "submitted_keys": len(submitted), "acknowledged": len(stats.acked),
            "acknowledged_created_201": sum(a.created for a in stats.acked.values()),
            "acknowledged_visits": sum(a.kind == "visit" for a in stats.acked.values()),
            "attempts": stats.attempts, "failed_attempts_no_answer": stats.failed_attempts,
            "responses": dict(sorted(stats.status_counts.items())),
            "lost_after_commit_then_retried_natural": stats.lost_after_commit_natural,
            "lost_after_commit_then_retried_forced": stats.lost_after_commit_forced,
            **db, "violations": stats.violations, "seconds": round(time.time() - t0, 1),
            "work_dir": str(base) if keep else None,
        }
        return summary
    finally:
        app.stop()
        cluster.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    p.add_argument("--json", type=Path, help="also write the summary here")
    args = p.parse_args(argv)
    summary = run(args.rounds, args.clients, args.seed, args.keep)
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    ok = (not summary["violations"] and summary["acknowledged"] > 0 and summary["acknowledged_visits"] > 0
          and summary["lost_after_commit_then_retried_forced"] > 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
