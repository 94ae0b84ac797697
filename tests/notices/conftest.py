from __future__ import annotations

import datetime as dt
from typing import Any

from gridgov.notices import services
from gridgov.residents import households as residents
from tests.world import T0, World

HOUR = dt.timedelta(hours=1)


def households(w: World, unit: Any, n: int, start: int = 1) -> list[Any]:
    return [residents.household_create(actor=None, now=T0, unit_id=unit.pk, address=f"{unit.name}{i}号",
                                       house_number=str(i)) for i in range(start, start + n)]


def notice(w: World, *, actor: Any = None, unit: Any = None, to: Any = (), grade: str = "normal",
           reply_asked: bool = True, tags: Any = None, title: str = "寒潮预警") -> Any:
    return services.notice_create(actor=actor or w.zhang_wei, now=T0, unit_id=(unit or w.township).pk, title=title,
                                  text="今晚起有寒潮，请关好门窗，注意取暖安全。", grade=grade,
                                  unit_ids=[u.pk for u in (to or [w.village])], tag_codes=tags,
                                  reply_asked=reply_asked)
