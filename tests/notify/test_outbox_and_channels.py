"""Outbox delivery (after commit, retried, idempotent) and the channels against a local fake server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.db import transaction

from gridgov.notify.channels import ChannelError, DingTalkRobot, Message, SmsGateway, WeComRobot
from gridgov.notify.models import InboxMessage, Outbox
from gridgov.notify.services import MAX_ATTEMPTS, deliver_pending, inbox_for, inbox_mark_read, notify_users, outbox_put
from tests.world import T0


class FakeServer:
    """Answers each POST with the next scripted (status, body) and records what it got."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                fake.received.append(json.loads(self.rfile.read(length)))
                fake.headers.append(dict(self.headers))
                status, body = fake.script.pop(0) if fake.script else (200, {"ok": True, "errcode": 0})
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


def test_sms_gateway_posts_numbers_text_and_key(fake):
    SmsGateway(url=fake.url, token="t0k").send(Message(text="您好", to=("13800000000",), dedupe_key="k1"))
    assert fake.received == [{"to": ["13800000000"], "text": "您好", "id": "k1"}]
    assert fake.headers[0]["Authorization"] == "Bearer t0k"


def test_sms_gateway_refusal_raises(fake):
    fake.script = [(200, {"ok": False, "error": "quota"})]
    with pytest.raises(ChannelError, match="quota"):
        SmsGateway(url=fake.url, token="t").send(Message(text="x", to=("1",)))


@pytest.mark.parametrize("robot", [WeComRobot, DingTalkRobot])
def test_group_robots_post_text_and_check_errcode(fake, robot):
    robot(url=fake.url).send(Message(text="请各网格员注意防汛"))
    assert fake.received == [{"msgtype": "text", "text": {"content": "请各网格员注意防汛"}}]
    fake.script = [(200, {"errcode": 310000, "errmsg": "keywords not in content"})]
    with pytest.raises(ChannelError, match="310000"):
        robot(url=fake.url).send(Message(text="x"))


def test_unreachable_and_http_errors_raise(fake):
    fake.script = [(500, {})]
    with pytest.raises(ChannelError, match="500"):
        WeComRobot(url=fake.url).send(Message(text="x"))
    with pytest.raises(ChannelError):
        WeComRobot(url="http://127.0.0.1:9/none").send(Message(text="x"))
    with pytest.raises(ChannelError):
        WeComRobot(url="file:///etc/passwd").send(Message(text="x"))


@pytest.mark.django_db
def test_outbox_row_written_once_per_key_and_inbox_delivered_once(world):
    notify_users(user_ids=[world.wang_fang.pk, world.zhao_lei.pk], topic="t", title="新交办", dedupe_key="k",
                 now=T0)
    notify_users(user_ids=[world.wang_fang.pk], topic="t", title="新交办", dedupe_key="k", now=T0)
    assert Outbox.objects.count() == 1
    assert deliver_pending(now=T0) == 1
    assert deliver_pending(now=T0) == 0
    assert InboxMessage.objects.count() == 2
    mine = inbox_for(user=world.wang_fang, unread_only=True)
    assert [m.title for m in mine] == ["新交办"]
    assert inbox_mark_read(user=world.wang_fang, now=T0, message_ids=[m.pk for m in mine]) == 1
    # Nobody reads another's inbox.
    assert inbox_mark_read(user=world.sun_li, now=T0, message_ids=[m.pk for m in mine]) == 0


@pytest.mark.django_db
def test_failed_channel_is_retried_with_backoff_then_given_up(fake):
    outbox_put(kind="sms", topic="t", dedupe_key="s1", now=T0,
               payload={"channel": "sms", "to": ["13800000000"], "text": "hi"})
    channels = {"sms": SmsGateway(url=fake.url, token="t")}
    fake.script = [(503, {})]
    assert deliver_pending(now=T0, channels=channels) == 0
    row = Outbox.objects.get()
    assert row.attempts == 1 and row.available_at > T0 and "503" in row.last_error
    assert deliver_pending(now=T0, channels=channels) == 0  # not due yet: nothing sent
    assert len(fake.received) == 1
    assert deliver_pending(now=row.available_at, channels=channels) == 1
    assert len(fake.received) == 2
    row.refresh_from_db()
    assert row.delivered_at is not None
    # A channel that is never configured gives up after MAX_ATTEMPTS.
    outbox_put(kind="webhook", topic="t", dedupe_key="w1", now=T0, payload={"channel": "nowhere", "text": "x"})
    when = T0
    for _ in range(MAX_ATTEMPTS):
        deliver_pending(now=when, channels=channels)
        when += dt.timedelta(days=1)
    assert Outbox.objects.get(dedupe_key="w1").failed_at is not None


@pytest.mark.django_db(transaction=True)
def test_delivered_after_commit_not_before(world, settings):
    settings.GRIDGOV_DELIVER_ON_COMMIT = True
    with transaction.atomic():
        notify_users(user_ids=[world.wang_fang.pk], topic="t", title="催办", dedupe_key="c1", now=T0)
        assert InboxMessage.objects.count() == 0
    assert InboxMessage.objects.filter(user=world.wang_fang, title="催办").count() == 1


@pytest.mark.django_db(transaction=True)
def test_rolled_back_business_change_sends_nothing(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_users(user_ids=[world.wang_fang.pk], topic="t", title="x", dedupe_key="c2", now=T0)
        raise RuntimeError
    assert Outbox.objects.count() == 0 and InboxMessage.objects.count() == 0
