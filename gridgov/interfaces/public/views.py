from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from gridgov.interfaces.http import public_view


@public_view
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
