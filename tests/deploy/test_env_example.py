"""deploy/gridgov.env.example lists every setting the code reads from the environment, so a county's IT team
sees each one; names only tests, benchmarks or the process itself read are listed below with why."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "gridgov.env.example"

# os.environ.get("X"…), os.environ["X"], os.getenv("X"…), env_bool("X"…), env_list("X"…), env_int("X"…)
READ = re.compile(r"""(?:os\.environ\.get|os\.getenv|env_bool|env_list|env_int|env_str)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
                  r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]""")

NOT_FOR_DEPLOYMENTS = {
    "DJANGO_SETTINGS_MODULE": "set by manage.py, wsgi.py and the Makefile",
    "GRIDGOV_TESTING": "the test suite's own switch",
    "PYTEST_VERSION": "set by pytest",
    "GRIDGOV_FAST_HASHER": "tests and benchmarks only: a fast password hasher",
    "GRIDGOV_BENCH_ENDPOINTS": "make bench only: endpoints that measure the bare database",
}


def names_read(text: str) -> set[str]:
    return {a or b for a, b in READ.findall(text)}


def code_reads() -> set[str]:
    files = [*sorted((ROOT / "gridgov").rglob("*.py")), *sorted((ROOT / "config").glob("*.py"))]
    found: set[str] = set()
    for f in files:
        if "migrations" in f.parts:
            continue
        found |= names_read(f.read_text(encoding="utf-8"))
    return found


def example_names() -> set[str]:
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(encoding="utf-8"), flags=re.M))


def test_every_setting_read_is_in_the_example() -> None:
    missing = code_reads() - example_names() - set(NOT_FOR_DEPLOYMENTS)
    assert not missing, f"add these to deploy/gridgov.env.example, with a line saying what they do: {sorted(missing)}"


def test_the_example_names_nothing_the_code_does_not_read() -> None:
    stale = example_names() - code_reads()
    assert not stale, f"deploy/gridgov.env.example lists settings nothing reads: {sorted(stale)}"


def test_the_scanner_finds_each_way_of_reading() -> None:
    source = ('A = os.environ.get("ONE", "x")\nB = os.environ["TWO"]\nC = env_bool("THREE", False)\n'
              'D = env_list("FOUR")\nE = os.getenv("FIVE")\n')
    assert names_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}


def test_redis_hands_a_job_to_another_worker_only_after_the_longest_job() -> None:
    """A year's day facts at size L take 20-25 minutes (docs/scale.md): the visibility timeout must exceed it,
    else a running build is handed to a second worker."""
    from django.conf import settings

    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 2 * 25 * 60
