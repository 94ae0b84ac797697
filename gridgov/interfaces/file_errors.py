"""A file the pages cannot read or write (object store down, a file gone from the store) is a plain Chinese page,
never Django's 500: 503 when the store does not answer (gridgov.core.storage.StorageUnavailable), 404 when the file
is not there. Forms that take files catch StorageUnavailable themselves and come back with what was typed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.core.storage import StorageUnavailable

log = logging.getLogger("gridgov.storage")

MISSING = "这个文件找不到了，可能已被删除。请返回上一页；如果需要这个文件，请联系管理员。"


class FileStoreErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, StorageUnavailable):
            log.error("file store unavailable on %s", request.path, exc_info=exception)
            return _page(request, exception.message, 503)
        if isinstance(exception, FileNotFoundError):
            log.error("file missing from the store on %s", request.path, exc_info=exception)
            return _page(request, MISSING, 404)
        return None


def _page(request: HttpRequest, text: str, status: int) -> HttpResponse:
    response = render(request, "file_error.html", {"text": text}, status=status)
    response["Cache-Control"] = "private, no-store"
    if status == 503:
        response["Retry-After"] = "60"
    return response
