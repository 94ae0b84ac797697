"""The bench-only URL is off unless GRIDGOV_BENCH_ENDPOINTS=1, and `check --deploy` refuses it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from gridgov.interfaces.bench_endpoints import bench_endpoints_off


@pytest.mark.django_db
def test_bench_insert_is_not_mounted_by_default(world, login):
    assert login(world.zhang_wei).post("/bench/insert", data="{}", content_type="application/json").status_code == 404


def test_deploy_check_fails_while_bench_endpoints_are_on():
    assert bench_endpoints_off(None) == []
    with override_settings(GRIDGOV_BENCH_ENDPOINTS=True):
        errors = bench_endpoints_off(None)
    assert [e.id for e in errors] == ["gridgov.E_BENCH"]
