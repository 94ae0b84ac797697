"""The scanner behind the public leak guard: what must never appear in a response under /p/."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gridgov.access.models import User
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.reporter import reveal_name, reveal_phone

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
# Words and field names only staff screens carry.
STAFF_ONLY = ("催办", "督办", "退回", "延时", "payload_hash", "idempotency", "reporter_name", "reporter_phone",
              "holder_department", "owner_path", "urge_count", "actor_role", "审定")
# Public notes are the results shown to residents; every other note is internal.
PUBLIC_NOTE_ACTIONS = {"feedback", "self_handle"}


def forbidden_values() -> dict[str, str]:
    """Values from the database that must not appear: reporter identity, places finer than the grid,
    internal notes, staff names (allowed only on the grid page, like the printed board)."""
    found: dict[str, str] = {}
    for c in Case.dangerously_unscoped.all():
        for label, value in (("reporter phone", reveal_phone(c)), ("reporter name", reveal_name(c)),
                             ("address", c.address), ("description", c.description)):
            # Chinese names are two or three characters; other values need four to mean anything.
            if value and len(value) >= (2 if label == "reporter name" else 4):
                found[value] = f"{label} of {c.number}"
        for coord in (c.lat, c.lng):
            if coord is not None:
                found[f"{coord:.4f}"] = f"coordinates of {c.number}"
    results = {c.result for c in Case.dangerously_unscoped.exclude(result="")}
    for e in CaseEvent.dangerously_unscoped.exclude(note=""):
        if e.action in PUBLIC_NOTE_ACTIONS or e.note in results or len(e.note) < 4:
            continue
        found[e.note] = f"internal note ({e.action}) of case {e.case_id}"
    return found


def staff_identity() -> dict[str, str]:
    found: dict[str, str] = {}
    for u in User.objects.all():
        if u.full_name:
            found[u.full_name] = f"staff name {u.username}"
        found[f">{u.username}<"] = f"staff username {u.username}"
    return found


def staff_phones() -> set[str]:
    return {p for p in User.objects.values_list("work_phone", flat=True) if p}


def scan(text: str, *, path: str, board_page: bool, extra_forbidden: Iterable[str] = (),
         own: Iterable[str] = ()) -> list[str]:
    """Every leak in one response body, described for a failure message."""
    problems = []
    allowed_phones = staff_phones() if board_page else set()
    for m in ID_NUMBER.finditer(text):
        problems.append(f"{path}: ID number {m.group()}")
    for pattern in (MOBILE, LANDLINE):
        for m in pattern.finditer(text):
            if m.group() not in allowed_phones and not any(m.group() in v for v in own):
                problems.append(f"{path}: phone number {m.group()}")
    for word in STAFF_ONLY:
        if word in text:
            problems.append(f"{path}: staff-only word {word!r}")
    values = forbidden_values()
    if not board_page:
        values.update(staff_identity())
    own_values = set(own)
    for value, why in values.items():
        if value in text and value not in own_values:
            problems.append(f"{path}: {why} ({value!r})")
    for value in extra_forbidden:
        if value and value in text:
            problems.append(f"{path}: {value!r}")
    return problems
