"""The catalogues the data migrations load (unit kinds, themes, roles, tags, categories…).

Transactional tests flush every table when they end, including these; the fixtures that build a
world call `ensure_builtins()` first. The loaders are the migrations' own, and idempotent.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


# (migration module, its loader function): every data migration that loads a catalogue.
LOADERS = [
    ("gridgov.units.migrations.0002_builtin_kinds_themes", "load"),
    ("gridgov.access.migrations.0003_builtin_roles", "load"),
    ("gridgov.access.migrations.0008_workforce_permissions", "add"),
    ("gridgov.access.migrations.0010_jobs_permission", "add"),
    ("gridgov.residents.migrations.0002_builtin_tags", "load"),
    ("gridgov.cases.migrations.0002_seed_categories", "seed"),
    ("gridgov.mediation.migrations.0002_role_permissions", "load"),
    ("gridgov.units.migrations.0003_prefecture_kind", "add"),
    ("gridgov.access.migrations.0010_city_office_role", "add"),
]


def data_migrations() -> list[str]:
    """Every migration that runs Python (checked against LOADERS by tests/architecture)."""
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("gridgov/*/migrations/*.py")
                  if "RunPython" in p.read_text(encoding="utf-8"))


def ensure_builtins() -> None:
    from gridgov.access.models import Role

    if Role.objects.exists():
        return  # not flushed: everything the migrations loaded is still there
    for module, function in LOADERS:
        getattr(importlib.import_module(module), function)(apps, None)
