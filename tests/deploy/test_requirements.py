"""A production venv installs requirements.txt alone (docs/deploy.md): everything the application imports must be
there, and the test tools must not be."""

from __future__ import annotations

import ast
import importlib.metadata as md
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = {"pytest", "pytest-django", "pytest-xdist", "playwright", "mypy", "django-stubs", "ruff",
              "import-linter", "schemathesis", "hypothesis", "pypdf", "pypdfium2", "zxing-cpp", "django-htmx"}
# Loaded by name from settings (not imported in code): the password hasher, the JSON log formatter, the server.
BY_NAME = {"argon2-cffi", "python-json-logger", "granian", "whitenoise", "psycopg", "brotli"}


def pinned(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-r")):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def imported_top_modules(text: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_application_imports_only_runtime_requirements() -> None:
    runtime = pinned(ROOT / "requirements.txt")
    dist_of = md.packages_distributions()
    modules: set[str] = set()
    for path in [*(ROOT / "gridgov").rglob("*.py"), *(ROOT / "config").glob("*.py"), ROOT / "manage.py"]:
        modules |= imported_top_modules(path.read_text(encoding="utf-8"))
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m not in {"gridgov", "config"}}
    missing = {m: dist_of.get(m) for m in third_party
               if not any(canonicalize_name(d) in runtime for d in dist_of.get(m, []))}
    assert not missing, f"imported by the application but not in requirements.txt: {missing}"


def test_runtime_requirements_carry_no_test_tools_and_dev_includes_them() -> None:
    runtime = pinned(ROOT / "requirements.txt")
    assert not runtime & TEST_TOOLS, sorted(runtime & TEST_TOOLS)
    assert runtime >= BY_NAME, sorted(BY_NAME - runtime)
    dev_text = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev_text
    assert (TEST_TOOLS - {"django-htmx"}) <= pinned(ROOT / "requirements-dev.txt")


def test_the_import_scan_sees_imports() -> None:
    assert imported_top_modules("import a.b\nfrom c.d import e\nfrom . import f\n") == {"a", "c"}
