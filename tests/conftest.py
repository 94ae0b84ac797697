"""Suite-wide guard of the residents' pages: every response under /p/ and /open311/ that any test produces
through the test client is scanned for ID numbers, phone numbers (staff work phones only on the grid page, as
the printed board shows them), staff-only fields and reporter identity; a leak fails that test.
Photos served under /p/ must carry no EXIF."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Category, default_deadlines
from tests.public.leakscan import scan

SCANNED: list[str] = []
# Every URL a resident or an outside client reaches without signing in and that shows case data.
PUBLIC_PREFIXES = ("/p/", "/open311/")


@pytest.fixture(autouse=True)
def public_leak_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    original, original_post = Client.request, Client.post
    problems: list[str] = []

    def post(self: Client, path: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        # A form sent back with an error shows the sender their own words: not a leak.
        values = data.values() if isinstance(data, dict) else ()  # JSON bodies arrive as a string
        self._own_values = {str(v) for v in values if isinstance(v, str)}  # type: ignore[attr-defined]
        try:
            return original_post(self, path, data, *args, **kwargs)
        finally:
            self._own_values = set()  # type: ignore[attr-defined]

    def request(self: Client, **kwargs: Any) -> Any:
        response = original(self, **kwargs)
        path = kwargs.get("PATH_INFO", "")
        if path.startswith(PUBLIC_PREFIXES):
            SCANNED.append(path)
            content_type = response.get("Content-Type", "")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = None
            if content_type.startswith("text/"):
                text = body.decode()
            elif content_type.startswith("application/json"):
                # Chinese arrives as \uXXXX escapes: compare the values, not the escapes.
                text = json.dumps(json.loads(body or b"null"), ensure_ascii=False)
            if text is not None:
                found = scan(text, path=path, board_page=path.startswith("/p/g/"),
                             own=getattr(self, "_own_values", set()))
                problems.extend(found)
            elif content_type.startswith("image/") and (
                    b"Exif" in body[:4096] or Image.open(io.BytesIO(body)).getexif()):
                problems.append(f"{path}: photo carries EXIF")
        return response

    monkeypatch.setattr(Client, "request", request)
    monkeypatch.setattr(Client, "post", post)
    yield problems
    assert not problems, "public responses leak:\n" + "\n".join(problems)


def reload_migration_rows() -> None:
    """Put back the rows the data migrations load (unit kinds, roles, categories). Transactional tests
    (browser, concurrency) flush the database afterwards; re-loading instead of Django's serialized
    rollback keeps them independent of which transactional test ran before in the same worker."""
    from django.apps import apps

    for module in ("gridgov.units.migrations.0002_builtin_kinds_themes",
                   "gridgov.access.migrations.0003_builtin_roles"):
        importlib.import_module(module).load(apps, None)
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())


@pytest.fixture
def migration_rows(transactional_db: None) -> None:
    reload_migration_rows()
