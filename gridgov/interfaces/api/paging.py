"""How the API's lists page (the household ledger's rule, kept for every paged list): keyset paging with
`after` (the `next_after` of the previous answer, passed back unchanged) and `limit` (rows per page,
50 unless asked, at most 200; 0 or nothing means 50). Either one not a whole number is refused with the
ledger's plain message, naming the field; the answer is `{items, next_after}`, `next_after` null on the
last page."""

from __future__ import annotations

from dataclasses import dataclass

from gridgov.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
NOT_A_NUMBER = "请输入整数。"  # the household ledger's words (residents.selectors.HouseholdQuery)


@dataclass(frozen=True)
class PageParams:
    after: int | None
    limit: int


def _whole(value: str | None, field: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdecimal() or len(text) > 18:  # what int() reads (１２ too, not ²); beyond a bigint is no id
        raise ValidationFailed(NOT_A_NUMBER, field=field)
    return int(text)


def page_params(*, after: str | None, limit: str | None) -> PageParams:
    return PageParams(after=_whole(after, "after"), limit=min(_whole(limit, "limit") or DEFAULT_LIMIT, MAX_LIMIT))
