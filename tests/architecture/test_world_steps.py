"""seed_world's steps: each one it lists is a function, and a step that does not import or does not
exist stops the command with its name (it used to be skipped without a word)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridgov.interfaces.jobs.management.commands import seed_world


@pytest.mark.parametrize("dotted", seed_world.STEPS)
def test_every_listed_step_is_a_function(dotted):
    assert callable(seed_world._step(dotted))


@pytest.mark.parametrize(("dotted", "says"), [
    ("gridgov.no_such_app.world.seed_world_step", "无法加载"),
    ("gridgov.residents.world.no_such_step", "不存在"),
    ("gridgov.residents.world.BULK_MODELS", "不是函数"),
])
def test_a_broken_step_is_refused_by_name(dotted, says):
    with pytest.raises(CommandError, match=says) as refused:
        seed_world._step(dotted)
    assert dotted in str(refused.value)


@pytest.mark.django_db
def test_seed_world_stops_before_writing_anything_when_a_step_is_broken(monkeypatch):
    from gridgov.units.models import Unit

    monkeypatch.setattr(seed_world, "STEPS", (*seed_world.STEPS, "gridgov.no_such_app.world.seed_world_step"))
    with pytest.raises(CommandError, match=re.escape("gridgov.no_such_app.world.seed_world_step")):
        call_command("seed_world", "--preset", "wucheng", "--seed", "1")
    assert not Unit.dangerously_unscoped.exists()
