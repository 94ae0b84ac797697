"""Regenerate docs/workflows/<name>.md for every workflow on the engine."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from gridgov.core.workflow_doc import doc_path, render
from gridgov.processes.workflows import WORKFLOWS


class Command(BaseCommand):
    help = "根据各业务流程的流转表生成 docs/workflows/ 下的流程图。"

    def handle(self, *args: Any, **options: Any) -> None:
        for flow in WORKFLOWS:
            target = settings.BASE_DIR / doc_path(flow)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(flow), encoding="utf-8")
            self.stdout.write(f"wrote {doc_path(flow)}")
