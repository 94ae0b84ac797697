"""manage.py import_divisions --county 140225: set up a deployment's county and its townships
from the statistical division codes. Running it again adds only what is missing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.access.models import User
from gridgov.core import clock
from gridgov.core.errors import DomainError
from gridgov.units.divisions import import_county_townships


class Command(BaseCommand):
    help = "按统计用区划代码导入一个县（区）及其下属乡镇（街道）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", required=True, help="县级区划代码：6 位（如 140225）或 12 位")
        parser.add_argument("--as", dest="actor", help="以该用户名的身份导入（记入审计日志）；默认系统")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"找不到用户 {options['actor']}。")
        try:
            result = import_county_townships(actor=actor, now=clock.now(), county_code=options["county"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"「{result.county.name}」：新建 {len(result.created)} 个单位，已存在 {len(result.existing)} 个。"
        )
        for unit in result.created:
            self.stdout.write(f"  + {unit.division_code} {unit.name}")
