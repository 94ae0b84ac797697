"""The catalogues the data migrations load (unit kinds, themes, roles, tags, categories…).

Transactional tests flush every table when they end, including these; the fixtures that build a
world call `ensure_builtins()` first. The loaders are the migrations' own, and idempotent.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _loaders() -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in ROOT.glob("gridgov/*/migrations/*builtin*.py")
    )


def ensure_builtins() -> None:
    from gridgov.access.models import Role

    if Role.objects.exists():
        return  # not flushed: everything the migrations loaded is still there
    for module in _loaders():
        importlib.import_module(module).load(apps, None)
