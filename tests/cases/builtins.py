"""Transactional tests flush every table afterwards, including the rows the data migrations loaded
(unit kinds, roles, case categories): such tests load them again first (the loaders are idempotent)."""

from __future__ import annotations

import importlib

from django.apps import apps

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Category, default_deadlines


def reload_builtin_rows() -> None:
    for module in ("gridgov.units.migrations.0002_builtin_kinds_themes",
                   "gridgov.access.migrations.0003_builtin_roles"):
        importlib.import_module(module).load(apps, None)
    seed_categories(Category, default_deadlines())
