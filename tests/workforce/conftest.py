from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from gridgov.workforce import services
from tests.world import T0, World

DAY = dt.timedelta(days=1)


def jpeg() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="JPEG")
    buf.seek(0)
    return buf


@pytest.fixture
def rules(world: World) -> None:
    """The default rules at the county (浑源县), set by the county office."""
    for kind, points, cap in services.DEFAULT_RULES:
        services.rule_save(actor=world.chen_jing, now=T0, unit_id=world.county.pk, kind=kind, points=points,
                           monthly_cap=cap)


def issue(w: World, *, to_units=(), to_workers=(), due=T0 + 3 * DAY, evidence="text",  # type: ignore[no-untyped-def]
          actor=None, title="入户核查低保户"):
    return services.duty_list_issue(actor=actor or w.zhang_wei, now=T0, unit_id=w.township.pk, title=title,
                                    description="逐户核对家庭人口和收入。", due_at=due, evidence=evidence,
                                    target_unit_ids=[u.pk for u in to_units], worker_ids=[u.pk for u in to_workers])
