from tests.residents.conftest import ledger  # noqa: F401  (the small ledger fixture, shared)
