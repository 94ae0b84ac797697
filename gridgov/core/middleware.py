"""Request context (request id, client IP) for the audit log and structured logs."""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("gridgov_request", default=None)


def current_request_context() -> RequestContext | None:
    return _current.get()


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def is_trusted_proxy(address: str | None) -> bool:
    """The peer is one of the configured reverse proxies (settings.GRIDGOV_TRUSTED_PROXIES)."""
    ip = _address(address or "")
    if ip is None:
        return False
    return any(ip in net for net in _networks(tuple(getattr(settings, "GRIDGOV_TRUSTED_PROXIES", ()))))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the peer's (REMOTE_ADDR), unless the peer is a configured trusted proxy
    (GRIDGOV_TRUSTED_PROXIES; the shipped nginx on loopback), whose X-Real-IP is then believed, or
    else the nearest address of X-Forwarded-For that is not itself a trusted proxy. A header sent by
    any other peer is ignored: a client cannot choose the address the throttles and the audit log see."""
    peer = request.META.get("REMOTE_ADDR") or None
    if not is_trusted_proxy(peer):
        return peer
    real = _address(request.META.get("HTTP_X_REAL_IP", ""))
    if real is not None:
        return str(real)
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None:
            break  # a garbled hop: nothing to its left can be trusted
        if not is_trusted_proxy(str(ip)):
            return str(ip)
    return peer


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = _current.set(RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _current.get()
        record.request_id = ctx.request_id if ctx else "-"
        return True
