"""Regenerate docs/workflows/cases.md (kept for habit: `workflow_docs` writes every workflow's)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from gridgov.cases.workflow_doc import DOC_PATH, render_markdown


class Command(BaseCommand):
    help = "根据事件流转表生成 docs/workflows/cases.md。"

    def handle(self, *args: Any, **options: Any) -> None:
        target = settings.BASE_DIR / DOC_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_markdown(), encoding="utf-8")
        self.stdout.write(f"wrote {DOC_PATH}")
