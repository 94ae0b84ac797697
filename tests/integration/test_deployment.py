"""Two app servers and two workers against one PostgreSQL and one Redis (issue: scale, item 2)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest

from gridgov.access.services import grant_create, user_create
from gridgov.audit.chain import verify
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.units.services import unit_create
from tests.world import T0

pytestmark = pytest.mark.integration


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def test_a_session_made_on_one_server_works_on_the_other(deployment):
    county = unit_create(actor=None, now=T0, parent=None, name="浑源县", kind_code="county").unit
    user = user_create(actor=None, now=T0, username="crossuser", full_name="跨服", password="Cross-Server-2026!",
                       validate=False)
    grant_create(actor=None, now=T0, user=user, role_code="county_office", unit=county)
    browser = opener()
    page = browser.open(deployment.url(0, "/login/")).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": "crossuser", "password": "Cross-Server-2026!",
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(deployment.url(0, "/login/"), data=data,
                                     headers={"Referer": deployment.url(0, "/login/")})
    browser.open(request)
    # Same cookies, the other server: the tree page answers with the county.
    tree = browser.open(deployment.url(1, "/units/"))
    assert tree.url.endswith("/units/")
    assert "浑源县" in tree.read().decode()


def test_checkpoint_jobs_on_two_workers_vouch_for_the_whole_chain(deployment):
    """Rows are sealed as they are written; the workers' checkpoint job (audit.seal) signs the head."""
    for i in range(300):
        audit_record(action="test.integration", actor=None, now=T0, detail={"i": i})
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    results = [deployment.send("audit.seal") for _ in range(6)]
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert {r.get(timeout=60) for r in results} == {head}
    assert list(verify()) == []


class FakeGateway:
    """An SMS gateway on loopback that records every message id it receives; it can stall."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[str] = []
        self.stall_on: set[str] = set()
        self.arrived = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json
                import time

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append(body["id"])
                gateway.arrived.set()
                if body["id"] in gateway.stall_on:
                    time.sleep(20)  # the worker is killed while it waits here
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(deployment):
    import json

    gw = FakeGateway()
    deployment.env["GRIDGOV_CHANNELS"] = json.dumps({"sms": {"type": "sms", "url": gw.url, "token": "t"}})
    # Restart the workers so they read the channel configuration.
    deployment.stop_workers()
    deployment.start_worker("w3")
    deployment.start_worker("w4")
    deployment.wait_workers(2)
    yield gw
    gw.server.shutdown()


def sms(n: int, start: int = 0) -> list[int]:
    from gridgov.notify.services import outbox_put

    rows = [outbox_put(kind="sms", topic="test.sms", dedupe_key=f"itest:{i}", now=T0,
                       payload={"channel": "sms", "to": ["13800000000"], "text": f"第{i}条"})
            for i in range(start, start + n)]
    return [r.pk for r in rows if r is not None]


def test_outbox_jobs_on_two_workers_deliver_each_message_once(deployment, gateway):
    from gridgov.notify.models import Outbox

    ids = sms(40)
    results = [deployment.send("gridgov.notify.deliver") for _ in range(8)]
    delivered = sum(r.get(timeout=120) for r in results)
    errors = set(Outbox.objects.filter(pk__in=ids).values_list("last_error", flat=True))
    assert delivered == 40, (delivered, errors, [type(r).__name__ for r in results])
    assert Outbox.objects.filter(pk__in=ids, delivered_at__isnull=True).count() == 0
    assert sorted(gateway.received) == sorted(f"itest:{i}" for i in range(40))


def test_a_worker_killed_mid_job_leaves_the_job_to_be_retried(deployment, gateway):
    import os
    import signal
    import subprocess
    import time

    from gridgov.notify.models import Outbox

    [pk] = sms(1, start=100)
    gateway.stall_on.add("itest:100")
    deployment.send("gridgov.notify.deliver")
    assert gateway.arrived.wait(60)
    # Kill -9 the pool process that is sending (the child of whichever worker took the job).
    children = []
    for worker in deployment.workers:
        out = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
        children += [int(p) for p in out]
    busy = [c for c in children if _connected_to_gateway(c)]
    assert busy, "no pool process is talking to the gateway"
    gateway.stall_on.clear()
    os.kill(busy[0], signal.SIGKILL)
    deadline = time.time() + 90
    while time.time() < deadline and Outbox.objects.get(pk=pk).delivered_at is None:
        time.sleep(0.5)
    assert Outbox.objects.get(pk=pk).delivered_at is not None
    # Delivered again after the crash, under the same id, so the gateway can drop the duplicate.
    assert gateway.received.count("itest:100") >= 2


def _connected_to_gateway(pid: int) -> bool:
    import subprocess

    out = subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout
    return f"pid={pid}," in out


def test_sweeps_on_both_workers_never_double_act(deployment):
    import datetime as dt

    from gridgov.cases.models import Case, CaseEvent
    from tests.cases.conftest import Kit
    from tests.world import build_world

    kit = Kit(world=build_world(), now=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    cases = [kit.to_state("dispatched") for _ in range(12)]
    results = [deployment.send("gridgov.cases.sweep") for _ in range(6)]
    for r in results:
        r.get(timeout=120)
    for case in cases:
        # Not acknowledged in time (one urge) and past its resolution deadline (one more): never more.
        assert CaseEvent.dangerously_unscoped.filter(case_id=case.pk, action="urge").count() == 2
        assert Case.dangerously_unscoped.get(pk=case.pk).urge_count == 2
