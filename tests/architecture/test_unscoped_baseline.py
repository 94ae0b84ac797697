"""The bypass of scoping (a model's dangerously_unscoped manager, core.scoping.BYPASS_MANAGER) may only be used less.

tests/architecture/unscoped_baseline.json holds, per file under gridgov/ (migrations aside), how many
times the code reads `<something>.<BYPASS_MANAGER>`. The test fails when a file uses it more than its
baseline, when a file not in the baseline starts using it, and when a file uses it less (then lower
the baseline, so the gain is kept):

    GRIDGOV_TESTING=1 .venv/bin/python -m tests.architecture.test_unscoped_baseline --write
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from gridgov.core.scoping import BYPASS_MANAGER

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("unscoped_baseline.json")


def uses_in(source: str, name: str = BYPASS_MANAGER) -> int:
    """How many times the source reads an attribute called `name` (strings and comments do not count)."""
    return sum(1 for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute) and node.attr == name)


def current_counts(root: Path = ROOT) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted((root / "gridgov").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        n = uses_in(path.read_text(encoding="utf-8"))
        if n:
            counts[path.relative_to(root).as_posix()] = n
    return counts


def problems(baseline: dict[str, int], counts: dict[str, int]) -> list[str]:
    found = []
    for path in sorted(set(baseline) | set(counts)):
        was, now = baseline.get(path, 0), counts.get(path, 0)
        if now > was:
            found.append(f"{path}: {now} uses of .{BYPASS_MANAGER}, baseline {was}: read through .within(scope) "
                         "instead (or, if the bypass is truly needed, say why in review and raise the baseline)")
        elif now < was:
            found.append(f"{path}: {now} uses of .{BYPASS_MANAGER}, baseline {was}: well done, lower the baseline "
                         "(python -m tests.architecture.test_unscoped_baseline --write)")
    return found


def test_no_file_uses_the_bypass_more_than_its_baseline():
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    found = problems(baseline, current_counts())
    assert not found, "\n".join(found)


def test_the_check_fails_on_a_new_use_and_on_a_gain_not_recorded():
    grown = f"Household.{BYPASS_MANAGER}.get(pk=1)\nHousehold.{BYPASS_MANAGER}.filter(pk=2)\n"
    comment_only = f"# Household.{BYPASS_MANAGER} in a comment\nx = 'Household.{BYPASS_MANAGER}'\n"
    assert uses_in(grown) == 2 and uses_in(comment_only) == 0
    baseline = {"gridgov/a.py": 1, "gridgov/b.py": 3}
    found = problems(baseline, {"gridgov/a.py": uses_in(grown), "gridgov/b.py": 2, "gridgov/new.py": 1})
    assert [p.split(":")[0] for p in found] == ["gridgov/a.py", "gridgov/b.py", "gridgov/new.py"]
    assert "baseline 1" in found[0] and "lower the baseline" in found[1] and "baseline 0" in found[2]
    assert problems(baseline, dict(baseline)) == []


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        BASELINE.write_text(json.dumps(current_counts(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE.relative_to(ROOT)}")
