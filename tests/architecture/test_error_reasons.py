"""Every app's error enum is known to the API and documented in its schema; reasons are unique,
stable-looking strings ("<app>.<what>"), so a client can rely on them."""

from __future__ import annotations

import importlib
from enum import StrEnum
from pathlib import Path

from gridgov.core.errors import CommonError, ValidationFailed
from gridgov.interfaces.api.api import REASON_ENUMS, api, error_reasons

ROOT = Path(__file__).resolve().parents[2]


def app_error_enums() -> dict[str, list[type[StrEnum]]]:
    found: dict[str, list[type[StrEnum]]] = {}
    for path in sorted((ROOT / "gridgov").glob("*/errors.py")):
        if path.parent.name == "core":  # CommonError: the shared reasons, unprefixed
            continue
        module = importlib.import_module(f"gridgov.{path.parent.name}.errors")
        found[path.parent.name] = [
            v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, StrEnum) and v.__module__ == module.__name__]
    return found


def test_every_app_enum_is_registered_with_the_api():
    missing = [e.__qualname__ for enums in app_error_enums().values() for e in enums if e not in REASON_ENUMS]
    assert not missing, f"add {missing} to REASON_ENUMS in gridgov/interfaces/api/api.py"


def test_reasons_are_unique_and_name_their_app():
    reasons = error_reasons()
    assert len(reasons) == len(set(reasons))
    for app, enums in app_error_enums().items():
        for enum in enums:
            wrong = [r.value for r in enum if not r.value.startswith(f"{app}.")]
            assert not wrong, f"{enum.__qualname__}: reasons start with '{app}.': {wrong}"


def test_the_schema_lists_every_reason():
    schema = api.get_openapi_schema()
    error_out = schema["components"]["schemas"]["ErrorOut"]
    assert set(error_out["required"]) == {"code", "message"}
    assert error_out["properties"]["reason"]["enum"] == error_reasons()
    assert "residents.id_number_taken" in error_out["properties"]["reason"]["enum"]


def test_an_error_names_a_reason_only_when_given_one():
    assert ValidationFailed("x").reason is None
    assert ValidationFailed("x", reason=CommonError.REQUIRED).reason == "required"
