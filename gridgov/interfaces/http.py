"""What every view declares: public, or scoped to a signed-in actor.

An architecture test walks every URL pattern and fails on a view that declares
neither. Domain errors become Chinese messages; NotFound is a plain 404, identical
for a missing object and one outside the actor's scope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from gridgov.access.models import User
from gridgov.access.scope import Scope, scope_for
from gridgov.core.errors import NotFound, PermissionDenied

V = TypeVar("V", bound=Callable[..., HttpResponse])

ACCESS_ATTR = "gridgov_access"


def public_view(view: V) -> V:
    """Open to anyone, including residents who are not signed in. Shows no personal data."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def scoped_view(view: V) -> V:
    """Signed-in staff only; the view reads through the actor's scope."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            # Visible but not allowed (a grid worker opening an edit page): 403, never a 500.
            raise HttpForbidden(exc.message) from exc

    guarded = login_required(wrapper)
    setattr(guarded, ACCESS_ATTR, "scoped")
    return guarded  # type: ignore[return-value]


def actor_scope(request: HttpRequest) -> Scope:
    return scope_for(request.user)


def staff_actor(request: HttpRequest) -> User:
    """The signed-in user as a service's typed `actor` (scoped views and the API sign in first)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("请先登录。")
    return user


_ID_MARK = 987654321  # an id no real row has, split out of a reversed URL


def url_for_id(name: str) -> Callable[[int], str]:
    """The URL of a view taking one id, reversed once for a list: the returned function puts each row's
    id in (a `{% url %}` per row reverses the pattern again for every row)."""
    head, tail = reverse(name, args=[_ID_MARK]).split(str(_ID_MARK))
    return lambda pk: f"{head}{pk}{tail}"
