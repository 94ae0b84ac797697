"""A notice's public page for one household (/p/n/<token>/): the notice, and 收到 / 有困难. Opening it
counts as reached. No personal data: not the household, its address or its grid worker."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from gridgov.core.clock import now
from gridgov.core.errors import DomainError, NotFound
from gridgov.interfaces.http import public_view
from gridgov.notices import selectors, services


def _page(request: HttpRequest, token: str, *, error: str = "", status: int = 200,
          values: dict[str, str] | None = None) -> HttpResponse:
    delivery = selectors.public_delivery(token)
    if delivery is None:
        raise Http404()
    notice = delivery.notice
    replied = selectors.has_replied(delivery)
    return render(request, "public/notice.html", {
        "notice": notice, "token": token, "replied": replied, "error": error, "values": values or {},
        "open": notice.status == "sent", "done": request.GET.get("done", "")}, status=status)


@public_view
@require_http_methods(["GET"])
def notice_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.public_open(now=now(), token=token)
    except NotFound:
        raise Http404() from None
    return _page(request, token)


@public_view
@require_POST
def notice_reply(request: HttpRequest, token: str) -> HttpResponse:
    values = {"kind": request.POST.get("kind", ""), "text": request.POST.get("text", "")}
    try:
        services.public_reply(now=now(), token=token, kind=values["kind"], text=values["text"])
    except NotFound:
        raise Http404() from None
    except DomainError as exc:
        return _page(request, token, error=exc.message, status=exc.http_status, values=values)
    return HttpResponseRedirect(reverse("public:notice", args=[token]) + "?done=1", status=303)
