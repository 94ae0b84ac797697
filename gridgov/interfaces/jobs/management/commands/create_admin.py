"""manage.py create_admin: a deployment's first system, security or audit admin (三权分立: three people).

The password is generated (or read from GRIDGOV_ADMIN_PASSWORD) and printed once; the admin must
replace it at first sign-in. Use this instead of Django's createsuperuser."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.access.services import ADMIN_DUTY_ROLES, first_admin_create
from gridgov.core import clock
from gridgov.core.errors import DomainError


class Command(BaseCommand):
    help = "设立首个系统管理员、安全管理员或审计管理员（首次登录须修改密码）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", required=True, dest="full_name")
        parser.add_argument("--role", required=True, choices=ADMIN_DUTY_ROLES)
        parser.add_argument("--unit", required=True, type=int, help="授权单位的编号（一般为县）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, password = first_admin_create(
                actor=None, now=clock.now(), username=options["username"], full_name=options["full_name"],
                role_code=options["role"], unit_id=options["unit"],
                password=os.environ.get("GRIDGOV_ADMIN_PASSWORD") or None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已设立 {user.username}（{user.full_name}）。一次性密码：{password}")
        self.stdout.write("首次登录后必须修改密码。")
