from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gridgov.audit.roles import app_role_sql


class Command(BaseCommand):
    help = ("Print the SQL that gives the PostgreSQL app role what the app needs and only SELECT/INSERT on the "
            "audit log (run it as the owner role, e.g. `manage.py audit_db_roles gridgov_app | psql …`).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("app_role")
        parser.add_argument("--owner", default=None, help="the owner role (for the default privileges)")

    def handle(self, *args: Any, **options: Any) -> None:
        for sql in app_role_sql(options["app_role"], options["owner"]):
            self.stdout.write(sql + ";")
