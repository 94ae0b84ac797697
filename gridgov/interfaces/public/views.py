"""Residents' pages. They show no personal data: only what the grid board already publishes."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.interfaces.http import public_view
from gridgov.units.selectors import public_board_staff, public_grid

from .links import unit_id_from_token


@public_view
def grid(request: HttpRequest, token: str) -> HttpResponse:
    """What a resident sees after scanning a grid board's QR code."""
    unit_id = unit_id_from_token(token)
    unit = public_grid(unit_id)
    if unit is None:
        raise Http404("二维码无效或已过期，请扫描网格公示牌上的二维码。")
    staff = public_board_staff(unit)
    return render(request, "public/grid.html", {"unit": unit, "staff": staff, "token": token})
