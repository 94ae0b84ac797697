"""Parameter types of the JSON API whose accepted values are exactly what the schema says."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # Pydantic's lax date also takes a number of seconds ("0" → 1970-01-01), which the schema's
    # `format: date` does not: only YYYY-MM-DD (or a date) passes.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("日期应写作 YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]

# A keyset cursor or a page size in a query string: digits only, empty for none. The schema says so; the
# operation itself checks it (interfaces/api/paging.py), after the permission, with the ledger's Chinese message
# 请输入整数。 (a validation of the framework's own would answer 422 in English before the permission check).
WholeNumber = Annotated[str, Field(json_schema_extra={"pattern": r"^[0-9]{0,12}$"})]
