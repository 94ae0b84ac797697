"""Every public service that opens a transaction (`@transaction.atomic`) takes keyword-only `actor` and
`now`: who acts is checked and audited, and time is an input. The exceptions are listed with why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# "path::function": why it takes no actor (or no now).
ALLOWED = {
    "gridgov/cases/public/services.py::public_report": "a resident reports without an account; the case names "
                                                         "the channel, the audit row says 'public'",
    "gridgov/cases/public/services.py::reporter_rate": "the reporter acts through the code on their receipt, "
                                                         "not an account",
    "gridgov/cases/public/services.py::reporter_reopen": "the reporter acts through the code on their receipt, "
                                                           "not an account",
    "gridgov/cases/public/services.py::reporter_phones_purge": "a retention job: the system acts, at `now`",
    "gridgov/notices/services.py::public_open": "a resident opens the household's notice link: no account",
    "gridgov/notices/services.py::public_reply": "a resident answers through the household's notice link: no account",
    "gridgov/notices/escalation.py::notice_escalate": "a scheduled job: the system reminds, at `now`",
}


def _atomic(decorator: ast.expr) -> bool:
    text = ast.unparse(decorator)
    return text in ("transaction.atomic", "atomic") or text.startswith(("transaction.atomic(", "atomic("))


def missing_keywords(source: str, path: str) -> list[str]:
    """'path::function: actor, now' for each public, module-level @transaction.atomic function of the
    source that lacks keyword-only actor or now."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_") \
                and any(_atomic(d) for d in node.decorator_list):
            keywords = {a.arg for a in node.args.kwonlyargs}
            missing = [k for k in ("actor", "now") if k not in keywords]
            if missing:
                found.append(f"{path}::{node.name}: {', '.join(missing)}")
    return found


def all_missing() -> list[str]:
    found = []
    for path in sorted((ROOT / "gridgov").rglob("*.py")):
        if "migrations" not in path.parts:
            found += missing_keywords(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    return found


def test_every_atomic_service_takes_keyword_actor_and_now():
    offending = [f for f in all_missing() if f.split(": ")[0] not in ALLOWED]
    assert not offending, ("take keyword-only `actor` and `now` (or add the function to ALLOWED with why):\n"
                           + "\n".join(offending))


def test_every_allowed_exception_still_exists():
    exceptions = {f.split(": ")[0] for f in all_missing()}
    assert not set(ALLOWED) - exceptions, f"no longer exceptions, remove from ALLOWED: {set(ALLOWED) - exceptions}"


def test_the_check_catches_a_positional_actor_and_a_missing_now():
    source = '''
from django.db import transaction

@transaction.atomic
def household_close(actor, *, now, household_id): ...

@transaction.atomic()
def tag_drop(*, actor, tag_id): ...

@transaction.atomic
def tag_keep(*, actor, now, tag_id): ...

@transaction.atomic
def _helper(x): ...

def not_a_service(actor, now): ...
'''
    assert missing_keywords(source, "x.py") == ["x.py::household_close: actor", "x.py::tag_drop: now"]
