"""Every workflow app is registered everywhere a workflow has to be: the staff navigation, the API
router, seed_world's steps, the personal-data register, the outsider-404 walk and docs. A forgotten
place fails here with the app and the place named; a gap that is known and accepted is in KNOWN_GAPS
with why (remove it when the gap is closed: the test says so).

Conventions the check relies on (docs/adding-a-workflow.md):
- the workflow apps are the packages of the workflow layer in pyproject.toml's import contract that are
  installed (INSTALLED_APPS); an empty package (meetings, notices) is not checked until it is installed;
- an app's staff pages live in gridgov/interfaces/staff/<app>.py, its API in gridgov/interfaces/api/<app>.py;
- its demo data step is gridgov.<app>.world.<function> in seed_world.STEPS;
- its page of docs is docs/<app>.md or docs/workflows/<app>.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.urls import resolve, reverse

ROOT = Path(__file__).resolve().parents[2]

PLACES = ("navigation", "api", "world steps", "personal data", "outsider walk", "docs")

# (app, place): why the app is not registered there yet.
KNOWN_GAPS = {
    ("workforce", "api"): "no API yet: duty lists and points are used on the staff pages only",
    ("deliberation", "api"): "no API yet: proposals are handled on the staff pages only",
}


def workflow_layer() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract.get("type") == "layers":
            for layer in contract["layers"]:
                if "gridgov.cases" in layer:
                    return [m.strip().removeprefix("gridgov.") for m in re.split(r"[|:]", layer)]
    raise AssertionError("no layer holding gridgov.cases in pyproject.toml")


def workflow_apps() -> list[str]:
    installed = {a.name for a in apps.get_app_configs()}
    return [app for app in workflow_layer() if f"gridgov.{app}" in installed]


def _view_module(func: Callable[..., object]) -> str:
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func.__module__


def _modules_of(prefix: str, modules: set[str]) -> set[str]:
    return {m.removeprefix(prefix) for m in modules if m.startswith(prefix)}


def registrations() -> dict[str, set[str]]:
    """place → the apps registered there, read from each registry."""
    from gridgov.interfaces.api.api import api
    from gridgov.interfaces.jobs.management.commands.seed_world import STEPS
    from gridgov.interfaces.staff.context import NAV_MENUS
    from gridgov.privacy.registry import PERSONAL_FIELDS
    from tests.architecture.test_outsider_404 import OBJECTS, object_routes

    nav = {_view_module(resolve(reverse(item.url_name)).func) for menu in NAV_MENUS for item in menu.items}
    api_views = {_view_module(op.view_func) for _, router in api._routers
                 for path_view in router.path_operations.values() for op in path_view.operations}
    labels = {a.label: a.name.removeprefix("gridgov.").split(".")[0] for a in apps.get_app_configs()
              if a.name.startswith("gridgov.")}
    walked: dict[str, bool] = {}
    for route, params in object_routes():
        module = _view_module(resolve("/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", route).lstrip("^").rstrip("$")).func)
        app = module.rpartition(".")[2]
        walked[app] = walked.get(app, True) and all(p in OBJECTS for p in params)
    return {
        "navigation": _modules_of("gridgov.interfaces.staff.", nav),
        "api": _modules_of("gridgov.interfaces.api.", api_views),
        "world steps": {s.removeprefix("gridgov.").split(".")[0] for s in STEPS},
        "personal data": {labels[k.split(".")[0]] for k in PERSONAL_FIELDS if k.split(".")[0] in labels},
        "outsider walk": {app for app, covered in walked.items() if covered},
        "docs": {p.stem for folder in ("docs", "docs/workflows") for p in (ROOT / folder).glob("*.md")},
    }


def missing_places(apps_: list[str], found: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(app, place) for app in apps_ for place in PLACES if app not in found[place]]


def test_every_workflow_app_is_registered_everywhere():
    assert {"cases", "visits", "mediation"} <= set(workflow_apps())
    missing = [m for m in missing_places(workflow_apps(), registrations()) if m not in KNOWN_GAPS]
    assert not missing, "register: " + "; ".join(f"{app} in {place}" for app, place in missing)


def test_every_known_gap_is_still_a_gap():
    missing = set(missing_places(workflow_apps(), registrations()))
    closed = sorted(set(KNOWN_GAPS) - missing)
    assert not closed, f"closed, remove from KNOWN_GAPS: {closed}"


def test_the_check_names_a_forgotten_registration():
    found = {place: {"cases", "visits"} for place in PLACES}
    found["api"] = {"cases"}
    found["docs"] = {"cases"}
    assert missing_places(["cases", "visits"], found) == [("visits", "api"), ("visits", "docs")]
    assert missing_places(["cases"], found) == []
