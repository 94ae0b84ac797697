"""Failed-login lockout: 5 failures lock an account name for 15 minutes; an address that keeps
failing across many names is throttled too.

Counts live in the shared cache (Redis in deployments), so every app server sees them. The
lock is keyed on the name as typed, whether or not such an account exists: a locked
unknown name must look exactly like a locked real one, or the lock would reveal which
accounts exist. Time is an input: each entry stores when its window started and when the
lock ends, and the cache timeout only cleans up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record

MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 30
WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
LOCKED_MESSAGE = "登录失败次数过多，请 15 分钟后再试。"

_CLEANUP_SECONDS = int((WINDOW + LOCK_FOR).total_seconds()) + 60


@dataclass(frozen=True)
class _Entry:
    failures: int
    window_start: float
    locked_until: float | None = None


def _key(kind: str, value: str) -> str:
    # Hash so that odd characters in a typed name never reach the cache backend's key rules.
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"gridgov:login:{kind}:{digest}"


def _account_key(username: str) -> str:
    return _key("user", (username or "").strip().lower())


def _read(key: str) -> _Entry | None:
    raw = cache.get(key)
    if not isinstance(raw, tuple) or len(raw) != 3:
        return None
    return _Entry(*raw)


def _write(key: str, entry: _Entry) -> None:
    cache.set(key, (entry.failures, entry.window_start, entry.locked_until), timeout=_CLEANUP_SECONDS)


def _locked(key: str, now: dt.datetime) -> bool:
    entry = _read(key)
    return bool(entry and entry.locked_until and entry.locked_until > now.timestamp())


def is_locked(*, username: str, ip: str | None, now: dt.datetime) -> bool:
    """Is this account name, or this address, locked out at `now`?"""
    if _locked(_account_key(username), now):
        return True
    return bool(ip) and _locked(_key("ip", ip or ""), now)


def _count_failure(key: str, limit: int, now: dt.datetime) -> bool:
    """Count one failure; True when this failure starts a lock."""
    ts = now.timestamp()
    entry = _read(key)
    if entry is None or ts - entry.window_start > WINDOW.total_seconds():
        entry = _Entry(failures=0, window_start=ts)
    if entry.locked_until and entry.locked_until > ts:
        return False  # already locked: the attempt is audited as a failure, the lock is not extended
    failures = entry.failures + 1
    if failures >= limit:
        _write(key, _Entry(failures=0, window_start=ts, locked_until=ts + LOCK_FOR.total_seconds()))
        return True
    _write(key, _Entry(failures=failures, window_start=entry.window_start))
    return False


def record_failure(*, username: str, ip: str | None, now: dt.datetime) -> None:
    """Count a failed login against the name and the address; audit a lock when one starts."""
    name = (username or "").strip()[:150]
    if _count_failure(_account_key(name), MAX_FAILURES_PER_ACCOUNT, now):
        audit_record(action="auth.lockout", actor=None, now=now, outcome=AuditEvent.Outcome.DENIED,
                     username=name, detail={"by": "account", "minutes": int(LOCK_FOR.total_seconds() // 60)})
    if ip and _count_failure(_key("ip", ip), MAX_FAILURES_PER_IP, now):
        audit_record(action="auth.lockout", actor=None, now=now, outcome=AuditEvent.Outcome.DENIED,
                     username=name, detail={"by": "ip", "minutes": int(LOCK_FOR.total_seconds() // 60)})


def record_success(*, username: str) -> None:
    """A correct password clears the name's failures (the address keeps its count)."""
    cache.delete(_account_key(username))


def unlock(*, username: str) -> None:
    """Support staff lift a lock early (through the admin's audited action)."""
    cache.delete(_account_key(username))


def record_refused(*, username: str, now: dt.datetime) -> None:
    """An attempt refused because of a lock: audited as a failure, not checked, not counted."""
    audit_record(action="auth.login_failed", actor=None, now=now, outcome=AuditEvent.Outcome.FAILURE,
                 username=(username or "").strip()[:150], detail={"reason": "locked"})
