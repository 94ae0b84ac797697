"""Delivery channels behind one interface: an SMS gateway and group-chat robots (WeCom, DingTalk).

Each posts JSON over HTTP to a configured URL; a failure raises ChannelError and the outbox
retries later. Nothing here knows what a case is.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol


class ChannelError(RuntimeError):
    """The channel refused or could not be reached; the message stays in the outbox."""


@dataclass(frozen=True)
class Message:
    text: str
    # Phone numbers for SMS; ignored by group robots.
    to: tuple[str, ...] = ()
    # A stable id so a gateway that sees a retry can drop the duplicate.
    dedupe_key: str = ""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: Message) -> None: ...


def _post_json(url: str, body: dict[str, Any], *, headers: dict[str, str] | None = None, timeout: float = 5.0
               ) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise ChannelError("通知渠道地址无效。")
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ChannelError(f"unreachable: {exc}") from exc
    try:
        parsed = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ChannelError("response is not JSON") from exc
    return parsed if isinstance(parsed, dict) else {}


@dataclass(frozen=True)
class SmsGateway:
    """A generic HTTP SMS gateway: POST {to, text, id} with a bearer token; {"ok": true} on success."""

    url: str
    token: str
    name: str = "sms"

    def send(self, message: Message) -> None:
        if not message.to:
            raise ChannelError("短信没有接收号码。")
        reply = _post_json(self.url, {"to": list(message.to), "text": message.text, "id": message.dedupe_key},
                           headers={"Authorization": f"Bearer {self.token}"})
        if reply.get("ok") is not True:
            raise ChannelError(f"gateway refused: {reply.get('error', reply)}")


@dataclass(frozen=True)
class WeComRobot:
    """企业微信群机器人 webhook: {"msgtype": "text", "text": {"content": …}} → {"errcode": 0}."""

    url: str
    name: str = "wecom"

    def send(self, message: Message) -> None:
        reply = _post_json(self.url, {"msgtype": "text", "text": {"content": message.text}})
        if reply.get("errcode") != 0:
            raise ChannelError(f"wecom errcode {reply.get('errcode')}: {reply.get('errmsg', '')}")


@dataclass(frozen=True)
class DingTalkRobot:
    """钉钉群机器人 webhook: same text body as WeCom; success is {"errcode": 0}."""

    url: str
    name: str = "dingtalk"

    def send(self, message: Message) -> None:
        reply = _post_json(self.url, {"msgtype": "text", "text": {"content": message.text}})
        if reply.get("errcode") != 0:
            raise ChannelError(f"dingtalk errcode {reply.get('errcode')}: {reply.get('errmsg', '')}")


def configured_channels(settings: Any) -> dict[str, Channel]:
    """Channels named in settings.GRIDGOV_CHANNELS: {"sms": {"type": "sms", "url": …, "token": …}, …}."""
    built: dict[str, Channel] = {}
    for name, conf in (getattr(settings, "GRIDGOV_CHANNELS", None) or {}).items():
        kind = conf.get("type")
        if kind == "sms":
            built[name] = SmsGateway(url=conf["url"], token=conf.get("token", ""), name=name)
        elif kind == "wecom":
            built[name] = WeComRobot(url=conf["url"], name=name)
        elif kind == "dingtalk":
            built[name] = DingTalkRobot(url=conf["url"], name=name)
    return built
