"""Architecture guards: every URL is scoped or declared public, the interfaces never use the
`dangerously_unscoped` manager, and every scoped model can be turned into a filter.

These walk the real URL configuration and source tree, so a new app is checked the moment it
is wired in; nothing here needs updating when a view is added the right way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from ninja.openapi import views as ninja_openapi_views
from ninja.operation import PathView

from gridgov.access.scope import Scope
from gridgov.core.scoping import ScopedManager
from gridgov.interfaces.http import ACCESS_ATTR

ROOT = Path(__file__).resolve().parents[2]

# Django-ninja's own pages: the OpenAPI schema, its browsable docs and the API root. They
# describe endpoints and show no data. In deployments the schema and docs are behind login
# (GRIDGOV_API_DOCS_LOGIN: api.docs_behind_login declares them scoped); the bare views stay listed here.
NINJA_BUILTIN_PUBLIC = {
    ninja_openapi_views.openapi_json,
    ninja_openapi_views.openapi_view,
    ninja_openapi_views.default_home,
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    callback: Callable[..., Any]
    namespace: str


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route | tuple[str, URLResolver]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if p.app_name == "admin":
                yield (prefix + str(p.pattern), p)  # the admin as a whole
                continue
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield Route(prefix + str(p.pattern), p.name or "", p.callback, namespace)


def routes() -> list[Route]:
    return [r for r in walk(get_resolver().url_patterns) if isinstance(r, Route)]


def access_of(callback: Callable[..., Any]) -> str | None:
    declared = getattr(callback, ACCESS_ATTR, None)
    if declared is None and hasattr(callback, "view_class"):
        declared = getattr(callback.view_class, ACCESS_ATTR, None)
    return declared


def ninja_operations(callback: Callable[..., Any]) -> list[Any]:
    """The operations behind one django-ninja URL (the PathView its wrapper closes over)."""
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return list(cell.cell_contents.operations)
    return []


def test_the_walk_sees_every_part_of_the_site():
    found = routes()
    names = {r.name for r in found}
    assert {"home", "unit_tree", "unit_detail", "unit_edit", "grant_revoke"} <= names
    assert any(r.route.startswith("api/") and ninja_operations(r.callback) for r in found)
    assert any(isinstance(r, tuple) and r[0] == "support/" for r in walk(get_resolver().url_patterns))


def test_every_view_is_scoped_or_declared_public():
    offenders = []
    for r in routes():
        func = getattr(r.callback, "func", None)  # functools.partial (ninja's own views)
        if func in NINJA_BUILTIN_PUBLIC:
            continue
        operations = ninja_operations(r.callback)
        if operations:
            for op in operations:
                public = getattr(op.view_func, ACCESS_ATTR, None) == "public"
                if not op.auth_callbacks and not public:
                    offenders.append(f"api {r.route} {op.methods}: no auth and not @public_view")
            continue
        if access_of(r.callback) not in {"scoped", "public"}:
            offenders.append(f"{r.route} ({r.name}): neither @scoped_view nor @public_view")
    assert not offenders, "\n".join(offenders)


def test_the_guard_can_fail():
    """The checks above reject an undecorated view and an API operation without auth."""

    def naked(request):  # type: ignore[no-untyped-def]
        return None

    assert access_of(naked) is None

    from ninja import NinjaAPI, Router

    router = Router()

    @router.get("/x", auth=None)
    def open_op(request):  # type: ignore[no-untyped-def]
        return {}

    api = NinjaAPI(urls_namespace="guard-test")
    api.add_router("/r/", router)
    patterns = api.urls[0]
    ops = [op for p in patterns if isinstance(p, URLPattern) for op in ninja_operations(p.callback)]
    assert ops and not ops[0].auth_callbacks and getattr(ops[0].view_func, ACCESS_ATTR, None) is None


@pytest.mark.django_db
def test_scoped_pages_send_anonymous_visitors_to_login(client):
    """The declaration is backed by behaviour: every scoped staff page requires a login."""
    checked = 0
    for r in routes():
        if r.namespace != "staff" or access_of(r.callback) != "scoped":
            continue
        url = "/" + re.sub(r"<int:\w+>", "1", r.route)
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url, url
        checked += 1
    assert checked >= 8


def _python_files(under: str) -> list[Path]:
    return sorted((ROOT / under).rglob("*.py"))


FORBIDDEN_IN_INTERFACES = {"dangerously_unscoped", "_default_manager", "_base_manager"}


def forbidden_manager_uses(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(root)}:{node.lineno} .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_IN_INTERFACES
    ]


def test_interfaces_never_use_the_unscoped_manager():
    files = _python_files("gridgov/interfaces")
    assert len(files) > 5
    offenders = [hit for f in files for hit in forbidden_manager_uses(f)]
    assert not offenders, "interfaces must read through selectors and scopes:\n" + "\n".join(offenders)


def test_the_manager_guard_can_fail(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("from gridgov.units.models import Unit\nUnit.dangerously_unscoped.all()\n", encoding="utf-8")
    assert forbidden_manager_uses(sample, tmp_path) == ["views.py:2 .dangerously_unscoped"]


def scoped_models() -> list[type]:
    return [m for m in apps.get_models() if isinstance(m._meta.managers_map.get("objects"), ScopedManager)]


def test_every_scoped_model_declares_how_to_scope_it():
    models = scoped_models()
    labels = {m._meta.label for m in models}
    assert {"units.Unit", "access.Grant", "access.Department"} <= labels
    empty = Scope(user_id=None)
    for model in models:
        declares = getattr(model, "scope_path_field", None) or getattr(model, "scope_q", None)
        assert declares, f"{model._meta.label}: ScopedManager without scope_path_field or scope_q"
        # … and the declaration really turns into a filter
        empty.filter_for(model)
        # System code uses the plain manager; Django's own machinery must never hit the scoped one.
        assert model._meta.default_manager.name == "dangerously_unscoped", model._meta.label
        assert model._meta.base_manager.name == "dangerously_unscoped", model._meta.label


def test_every_catalogue_loading_migration_is_reloaded_after_flushes():
    from tests.builtins import LOADERS, data_migrations

    listed = {m.replace(".", "/") + ".py" for m, _ in LOADERS}
    # The audit guard installs a trigger, the ledger's search indexes a function and an index, the
    # sealing migrations rewrite existing rows, the audit index is built concurrently and the archive
    # migration replaces the guard: none loads catalogue rows.
    not_loaders = {"gridgov/audit/migrations/0003_append_only_guard.py",
                   "gridgov/audit/migrations/0004_actor_at_index.py",
                   "gridgov/audit/migrations/0005_archive.py",
                   # seals the rows written before the keyed chain and makes the chain head (audit_record
                   # makes the head again after a flush)
                   "gridgov/audit/migrations/0007_keyed_chain.py",
                   "gridgov/residents/migrations/0003_search_indexes.py",
                   "gridgov/cases/migrations/0005_seal_reporter.py",
                   "gridgov/notify/migrations/0002_seal_sms_recipients.py",
                   # adds permissions to existing roles; a new database gets them from access 0003
                   "gridgov/deliberation/migrations/0002_role_permissions.py",
                   "gridgov/notices/migrations/0002_notice_permissions.py",
                   # installs the reference stamp's triggers; its row comes back with the next write to the
                   # categories (the triggers upsert it), and reads without it simply keep nothing
                   "gridgov/cases/migrations/0008_reference_stamp.py",
                   # fills the new number prefix of existing cases from their numbers
                   "gridgov/cases/migrations/0012_case_number_prefix.py"}
    unlisted = set(data_migrations()) - listed - not_loaders
    assert not unlisted, f"add these data migrations to tests/builtins.LOADERS: {sorted(unlisted)}"
