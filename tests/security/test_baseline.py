"""等保 level-3 baseline that the foundation already guarantees: password rules, security headers,
a clean `check --deploy` with production settings, the audit retention floor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password",
    ["short1A", "alllowercase", "lowerand123", "password123", "12345678901", "wangfang2026"],
)
def test_weak_passwords_are_refused(world, password):
    with pytest.raises(ValidationError):
        validate_password(password, world.wang_fang)


def test_three_of_four_classes_and_eight_characters_suffice_for_a_grid_worker(world):
    validate_password("Maple-tree7", world.wang_fang)
    validate_password("Lu5hu#cai", world.wang_fang)


def test_admin_and_office_roles_need_twelve_characters(world):
    with pytest.raises(ValidationError, match="12"):
        validate_password("Maple-tree7", world.zhou_min)
    with pytest.raises(ValidationError, match="12"):
        validate_password("Maple-tree7", world.zhang_wei)
    validate_password("Maple-tree-77", world.zhang_wei)


def test_security_headers_on_pages(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_page_loads_inline_script(client, world, login):
    pages = [client.get("/login/"), login(world.zhang_wei).get("/units/"), login(world.zhang_wei).get("/api/docs")]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/json"' in tag, tag


def production_env(**extra: str) -> dict[str, str]:
    dropped = {"PYTEST_VERSION", "GRIDGOV_TESTING", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="p" + "x7Qw!m2#Lr9@Tz4$Hk8^Vn3&Bd6*Fs1(Gj5)Yc0-Ue" * 2,
        ALLOWED_HOSTS="grid.example.gov.cn",
        DATABASE_URL="sqlite:///:memory:",
        # What check --deploy requires of a deployment (gridgov/core/checks.py): a public address residents reach
        # and the keys of personal data, kept outside the database.
        GRIDGOV_PUBLIC_BASE_URL="https://grid.example.gov.cn",
        GRIDGOV_FIELD_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        GRIDGOV_INDEX_KEY="ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_audit_retention_below_184_days_is_refused_at_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=production_env(GRIDGOV_AUDIT_RETENTION_DAYS="90"), capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "184" in result.stderr


def test_secret_key_is_required_in_production():
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
