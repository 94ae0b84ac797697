"""Processes span workflows, so their tests stand on several workflows' named worlds."""

from tests.mediation.conftest import mworld  # noqa: F401
from tests.visits.conftest import vw  # noqa: F401
from tests.workforce.conftest import rules  # noqa: F401
