"""manage.py demo_accounts: the demo accounts of the seeded world, one per role."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand

from gridgov.access.world import demo_accounts


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "列出演示账号（用户名、密码、角色、单位）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--markdown", action="store_true", help="输出 Markdown 表格（用于 README）")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo_accounts()
        if not accounts:
            self.stdout.write("没有演示账号：请先运行 manage.py seed_world。")
            return
        header = ("用户名", "密码", "角色", "单位", "姓名")
        rows = [(a.username, a.password, a.role, a.unit, a.full_name) for a in accounts]
        if options["markdown"]:
            self.stdout.write("| " + " | ".join(header) + " |")
            self.stdout.write("|" + "---|" * len(header))
            for row in rows:
                self.stdout.write("| " + " | ".join(f"`{c}`" if i < 2 else c for i, c in enumerate(row)) + " |")
            return
        widths = [max(_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
        self.stdout.write("演示账号（登录 http://127.0.0.1:8000/login/）：")
        for row in (header, *rows):
            self.stdout.write("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
