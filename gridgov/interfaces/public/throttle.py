"""Rate limits for the residents' pages (Django cache, shared by every app server through Redis) and a
lightweight challenge (a signed sum to work out) after repeated submissions from one address."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

from gridgov.core.clock import now

_CHALLENGE_SALT = "gridgov.public.challenge"
CHALLENGE_MAX_AGE = 30 * 60


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: int  # seconds


# Reports: a household reports a few things a day at most; an office desk behind one IP a few dozen.
REPORT_PER_IP = Limit("report-ip", 30, 3600)
REPORT_PER_PHONE = Limit("report-phone", 5, 86400)
# Every POST, accepted or not: refused forms still cost the server a photo check each.
ATTEMPTS_PER_IP = Limit("report-attempt-ip", 60, 3600)
# More than this many submissions from one address in the window and the sum must be worked out.
CHALLENGE_AFTER = Limit("report-ip-soft", 3, 3600)
# Tracking: reading is cheap, but wrong codes are what someone guessing produces.
TRACK_PER_IP = Limit("track-ip", 120, 600)
TRACK_MISS_PER_IP = Limit("track-miss-ip", 10, 3600)
ANSWER_PER_IP = Limit("answer-ip", 20, 3600)

TOO_MANY = "操作太频繁了，请过一个小时再试。有急事请直接拨打网格员的电话。"
TOO_MANY_PHONE = "这个电话号码今天已经反映了很多次，请明天再试。有急事请直接拨打网格员的电话。"
TOO_MANY_MISSES = "查询码输错次数太多，请一小时后再试。"


def _key(limit: Limit, who: str) -> str:
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    slot = int(now().timestamp()) // limit.window
    return f"gridgov:rl:{limit.bucket}:{digest}:{slot}"


def count(limit: Limit, who: str) -> int:
    return int(cache.get(_key(limit, who), 0))


def hit(limit: Limit, who: str) -> int:
    """Count one event and return the count in the current window."""
    key = _key(limit, who)
    cache.add(key, 0, timeout=limit.window + 5)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=limit.window + 5)
        return 1


def over(limit: Limit, who: str) -> bool:
    return count(limit, who) >= limit.limit


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def new_challenge() -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.dumps({"s": a + b, "n": secrets.token_urlsafe(8)}, salt=_CHALLENGE_SALT, compress=True)
    return Challenge(question=f"{a} 加 {b} 等于几？", token=token)


def solved(token: str, answer: str) -> bool:
    """The sum is right, the token is ours, fresh, and not used before."""
    try:
        data = signing.loads(token or "", salt=_CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:
        return False
    try:
        right = int((answer or "").strip()) == int(data["s"])
    except (ValueError, KeyError, TypeError):
        return False
    return right and bool(cache.add(f"gridgov:challenge-used:{data['n']}", 1, timeout=CHALLENGE_MAX_AGE + 60))
