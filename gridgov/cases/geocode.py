"""Address geocoding (地址定位) for reports that bring an address and no point (Open311's
`address_string` alone): the township's address table is the ledger's households (address and door
number, each in its grid). An address that names households of exactly one grid goes to that grid;
otherwise the report goes to the township office, which places it by hand."""

from __future__ import annotations

import re

from django.db.models import Q

from gridgov.residents.models import Household, HouseholdStatus
from gridgov.units.models import Unit

_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACES.sub("", text or "")


def grid_for_address(address: str, *, within: Unit | None = None) -> Unit | None:
    """The one grid whose households are at this address (门牌 as typed: 吴城村一组7号 or 吴城村一组),
    inside `within` when given; None when no household or several grids match."""
    text = _clean(address)
    if len(text) < 2:
        return None
    door = text[:-1] if text.endswith("号") else text
    candidates = Q(address=text)
    # 吴城村一组7号 = address 吴城村一组 + door 7: split where a run of digits starts.
    for i in range(2, len(door)):
        if not door[i].isdigit() or door[i - 1].isdigit():
            continue
        candidates |= Q(address=door[:i], house_number__in=[door[i:], door[i:] + "号"])
    qs = Household.dangerously_unscoped.filter(candidates, status=HouseholdStatus.ACTIVE)
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    unit_ids = list(qs.values_list("unit_id", flat=True).distinct()[:2])
    if len(unit_ids) != 1:
        return None
    return Unit.dangerously_unscoped.filter(pk=unit_ids[0], is_active=True).first()


def township_by_code(division_code: str) -> Unit | None:
    """The active unit with this division code (an Open311 key's township), or None."""
    return Unit.dangerously_unscoped.filter(division_code=division_code,
                                            is_active=True).first() if division_code else None
