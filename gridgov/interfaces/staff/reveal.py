"""The shared shape of the pages that show personal data in full once (a resident's ID number and
phone, a household's phone, a case reporter's name and phone): a POST carries the written reason,
the domain service checks the right and audits the view, and the page is never cached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.core.errors import DomainError

T = TypeVar("T")


def reveal_on_post(request: HttpRequest, reveal: Callable[[str], T]) -> tuple[T | None, str]:
    """On POST, call `reveal(reason)`; a refusal becomes the page's Chinese message, a 404 stays a 404."""
    if request.method != "POST":
        return None, ""
    try:
        return reveal(request.POST.get("reason", "")), ""
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        return None, exc.message


def render_no_store(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response
