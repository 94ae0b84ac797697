"""Parsing what people upload without letting it take the process down.

An uploaded .xlsx is read in a child process (`core/xlsx_worker.py`, run as a script with the same
Python): the child first checks the workbook's own metadata (the bounds check), then parses, under
an address-space limit (RLIMIT_AS) and a CPU-time limit it sets on itself, and the parent waits at
most a wall-clock timeout. Whatever the file does, the web server or Celery worker that asked gets
back either the rows or `ValidationFailed` with a plain Chinese reason.

Images are bounded in-process by Pillow's decompression-bomb limit (set here, once, for the whole
program) and by each checker's pixel cap before decoding (core/photos.py, cases/attachments.py,
cases/public/photos.py). PDFs are accepted as attachments by their signature and never parsed.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image

from gridgov.core import xlsx_worker
from gridgov.core.errors import ValidationFailed

# Pillow refuses (DecompressionBombError) above twice this many pixels and warns above it; every
# photo checker also caps pixels below this before decoding.
Image.MAX_IMAGE_PIXELS = 50_000_000

WORKER = Path(xlsx_worker.__file__).resolve()

MESSAGES = {
    "damaged": "无法读取该 Excel 文件，文件可能已损坏。",
    "not_xlsx": "文件不是有效的 Excel（.xlsx）文件，请用模板填写后导入。",
    "entries": "文件内部结构异常（包含的部件过多），不像是正常的 Excel 文件，请用模板重新填写。",
    "uncompressed": "文件解压后过大，不像是正常的 Excel 文件。如数据确实很多，请分批导入。",
    "ratio": "文件内部压缩比异常，不像是正常的 Excel 文件，请用 Excel 重新保存后导入。",
    "dtd": "文件中含有不允许的内容（XML 实体定义），请用 Excel 重新保存后导入。",
    "xml_encoding": "文件内部编码异常，请用 Excel 重新保存后导入。",
    "rows": "表格用到了第 {rows:,} 行，超出一次可导入的范围。请删除多余的空行（或格式），或分批导入。",
    "columns": "表格用到了第 {columns:,} 列，超出一次可导入的范围。请删除多余的列后导入，或使用导入模板。",
    "area": "表格的使用范围过大（可能在很远的单元格里有内容或格式），请删除多余的行和列后重新导入。",
    "cells": "表格中的单元格过多，请分批导入。",
    "strings": "表格中的文字条目过多，请分批导入。",
    "formula": "表格中含有公式。请全选后「复制」，再「选择性粘贴为数值」，保存后重新导入。",
    "memory": "文件过大或过于复杂，读取时超出了内存限制，请分批导入。",
    "timeout": "读取文件超时，文件可能过大或过于复杂，请分批导入。",
    "failed": "读取文件时出错，文件可能已损坏，请用 Excel 重新保存后导入。",
}


@dataclass(frozen=True)
class ParsedSheet:
    name: str
    start: tuple[int, int] | None
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    rows: list[list[Any]]


def _limits(overrides: dict[str, int] | None) -> dict[str, int]:
    return {**xlsx_worker.LIMITS, **getattr(settings, "GRIDGOV_XLSX_LIMITS", {}), **(overrides or {})}


def _revive(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (key, value), = obj.items()
        if key == "$dt":
            return dt.datetime.fromisoformat(value)
        if key == "$d":
            return dt.date.fromisoformat(value)
        if key == "$t":
            return dt.time.fromisoformat(value)
        if key == "$s":
            return dt.timedelta(seconds=value)
    return obj


def refusal_message(code: str, numbers: dict[str, Any] | None = None) -> str:
    """The Chinese reason for a refusal code, with the numbers the bounds check measured."""
    template = MESSAGES.get(code, MESSAGES["failed"])
    try:
        return template.format(**(numbers or {}))
    except (KeyError, ValueError):
        return MESSAGES["failed"] if code not in MESSAGES else template.split("{")[0].rstrip("第") + "。"


def read_xlsx(content: bytes, *, limits: dict[str, int] | None = None, bounds: bool = True,
              memory_mb: int | None = None, cpu_seconds: int | None = None,
              timeout: float | None = None) -> list[ParsedSheet]:
    """Every sheet of an uploaded workbook, parsed in a bounded child process; ValidationFailed(field="file")
    with a Chinese reason for anything it refuses or cannot survive."""
    merged_limits = _limits(limits)
    memory = memory_mb if memory_mb is not None else settings.GRIDGOV_PARSE_MEMORY_MB
    cpu = cpu_seconds if cpu_seconds is not None else settings.GRIDGOV_PARSE_CPU_SECONDS
    wall = timeout if timeout is not None else cpu * 2 + 10
    command = [sys.executable, "-I", str(WORKER), str(memory), str(cpu), "1" if bounds else "0",
               json.dumps(merged_limits)]
    try:
        done = subprocess.run(command, input=content, capture_output=True, timeout=wall, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise ValidationFailed(MESSAGES["timeout"], field="file") from exc
    if done.returncode != 0 or not done.stdout:
        # Killed by its own limits: SIGXCPU/SIGKILL for time, an abort or MemoryError for memory.
        code = "timeout" if done.returncode in (-24, -9) else "memory"
        if b"MemoryError" not in done.stderr and b"memory allocation" not in done.stderr and code == "memory" \
                and done.returncode > 0:
            code = "failed"
        raise ValidationFailed(MESSAGES[code], field="file")
    try:
        out = json.loads(done.stdout, object_hook=_revive)
    except (ValueError, MemoryError) as exc:
        raise ValidationFailed(MESSAGES["failed"], field="file") from exc
    if "refused" in out:
        raise ValidationFailed(refusal_message(str(out["refused"]), out), field="file")
    return [ParsedSheet(name=s["name"], start=tuple(s["start"]) if s["start"] else None,  # type: ignore[arg-type]
                        merged=[(tuple(a), tuple(b)) for a, b in s["merged"]],  # type: ignore[misc]
                        rows=s["rows"]) for s in out["sheets"]]
