from tests.cases.conftest import categories, kit  # noqa: F401 - the case kit's fixtures, for the sweep job
