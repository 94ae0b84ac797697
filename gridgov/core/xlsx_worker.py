"""Reading an uploaded .xlsx without trusting it: the bounds check and the parse, run in a child process.

This module runs as a script in a separate Python process (`gridgov.core.untrusted.read_xlsx` starts
it): it imports only the standard library, defusedxml and python-calamine, never Django. Before
anything reads a cell it checks the workbook's own metadata (the bounds check):

- the zip's entry count and the uncompressed size of its parts (declared and actually read),
- every XML part: no DTD or entity declaration (billion laughs), UTF-8 only,
- each worksheet's `<dimension ref>` and its real extent and cell count (the `r` of every row and cell:
  calamine allocates the whole bounding box, so one cell at XFD1048576 would ask for 549 GB),
- the shared strings' count.

Only then does calamine materialise the sheets. The parent sets no limits itself: this process sets
its own address-space and CPU limits (RLIMIT_AS, RLIMIT_CPU) before doing anything else, so a file
that gets past the checks still cannot take the server's memory. A refusal is written as
{"refused": code, ...numbers}; the parent turns the code into a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

# Bounds (the parent passes its own; these are the defaults).
LIMITS: dict[str, int] = {
    "max_entries": 500,
    "max_uncompressed": 400 * 1024 * 1024,
    "max_ratio": 200,  # uncompressed / compressed, for parts over 1 MB
    "max_rows": 300_100,
    "max_columns": 200,
    "max_area": 12_000_000,  # rows × columns of a sheet's bounding box
    "max_cells": 8_000_000,
    "max_strings": 8_000_000,
}


class Refused(Exception):
    def __init__(self, code: str, **numbers: int | str) -> None:
        super().__init__(code)
        self.code = code
        self.numbers = numbers


_CHUNK = 1 << 20
_DTD = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)(?=[\s/>])([^>]*)>")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")
_ATTR_REF = re.compile(rb"""\sref\s*=\s*["']([^"']*)["']""")
_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si(?=[\s/>])")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?=[\s/>])")
_CELLREF = re.compile(r"^([A-Za-z]{1,3})([0-9]{1,7})$")
# The fast path (every row and cell carries its `r`, as Excel, WPS and openpyxl write them): C-level scans.
_CELL_ANY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_CELL_COL = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*["']([A-Za-z]{1,3})[0-9]""")
_CELL_ROW = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*["'][A-Za-z]{1,3}([0-9]+)""")
_ROW_ANY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_ROW_R = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br\s*=\s*["']([0-9]+)""")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*>")


def _col_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> Iterator[bytes]:
    """The part's bytes in pieces that never cut a tag (a piece ends before an unfinished `<...`), counting
    what is really inflated against the budget (declared sizes can lie)."""
    pending = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise Refused("uncompressed")
            buf = pending + chunk
            cut = buf.rfind(b"<")
            if cut != -1 and buf.find(b">", cut) == -1:
                buf, pending = buf[:cut], buf[cut:]
                if len(pending) > 65536:
                    raise Refused("dtd" if any(m in pending for m in _DTD) else "damaged", part=info.filename)
            else:
                pending = b""
            yield buf
    if pending:
        yield pending


def _check_xml_prolog(name: str, first: bytes) -> None:
    head = first.lstrip(b"\xef\xbb\xbf")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:64]:
        raise Refused("xml_encoding", part=name)
    m = _ENCODING.match(head)
    if m and m.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise Refused("xml_encoding", part=name)


def _parse_small(zf: zipfile.ZipFile, name: str) -> Any:
    """A small structural part (workbook, relationships) parsed with defusedxml: DTDs and entities refused."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        with zf.open(name) as fh:
            data = fh.read(4 * 1024 * 1024 + 1)
    except KeyError:
        return None
    if len(data) > 4 * 1024 * 1024:
        raise Refused("uncompressed")
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Refused("dtd", part=name) from exc
    except SafeET.ParseError as exc:
        raise Refused("damaged") from exc


def _sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> set[str]:
    parts = {n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    rels = _parse_small(zf, "xl/_rels/workbook.xml.rels")
    if rels is not None:
        for rel in rels:
            if str(rel.get("Type", "")).endswith("/worksheet"):
                target = str(rel.get("Target", "")).lstrip("/")
                parts.add(target if target.startswith("xl/") else "xl/" + target)
    return {p for p in parts if p in names}


def check(content: bytes, limits: dict[str, int]) -> dict[str, Any]:
    """The bounds check: raises Refused, or returns what it measured."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused("damaged") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits["max_entries"]:
            raise Refused("entries", entries=len(infos))
        declared = sum(i.file_size for i in infos)
        if declared > limits["max_uncompressed"]:
            raise Refused("uncompressed")
        for i in infos:
            if i.file_size > 1024 * 1024 and i.file_size > limits["max_ratio"] * max(i.compress_size, 1):
                raise Refused("ratio", part=i.filename)
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise Refused("not_xlsx")
        _parse_small(zf, "[Content_Types].xml")
        _parse_small(zf, "xl/workbook.xml")
        sheets = _sheet_parts(zf, names)
        budget = [limits["max_uncompressed"]]
        measured: dict[str, Any] = {"sheets": {}, "strings": 0, "formula": False}
        for info in infos:
            name = info.filename
            if not (name.endswith(".xml") or name.endswith(".rels") or name.endswith(".vml")):
                continue
            first = True
            is_sheet = name in sheets
            is_strings = name == "xl/sharedStrings.xml"
            extent = _Extent(limits) if is_sheet else None
            for data in _stream(zf, info, budget):
                if first and data:
                    _check_xml_prolog(name, data)
                    first = False
                if any(marker in data for marker in _DTD):
                    raise Refused("dtd", part=name)
                if extent is not None:
                    extent.feed(data)
                    if not measured["formula"] and _FORMULA.search(data):
                        measured["formula"] = True
                if is_strings:
                    measured["strings"] += len(_SI.findall(data))
                    if measured["strings"] > limits["max_strings"]:
                        raise Refused("strings")
            if extent is not None:
                measured["sheets"][name] = extent.result()
        return measured


class _Extent:
    """Where a sheet's rows and cells really are, from the `r` attributes (and the count where they are missing)."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits
        self.row = 0
        self.col = 0
        self.max_row = 0
        self.max_col = 0
        self.cells = 0
        self.dimension = ""

    def feed(self, data: bytes) -> None:
        if self._fast(data):
            return
        limits = self.limits
        for m in _TAG.finditer(data):
            tag, attrs = m.group(1), m.group(2)
            if tag == b"c":
                self.cells += 1
                r = _ATTR_R.search(attrs)
                if r and r.group(1) and r.group(2):
                    self.col = _col_number(r.group(1))
                    self.row = max(self.row, int(r.group(2)))
                else:
                    self.col += 1
                if self.col > self.max_col:
                    self.max_col = self.col
                    if self.col > limits["max_columns"]:
                        raise Refused("columns", columns=self.col)
                if self.row > self.max_row:
                    self.max_row = self.row
                if self.cells > limits["max_cells"]:
                    raise Refused("cells")
            elif tag == b"row":
                r = _ATTR_R.search(attrs)
                self.row = int(r.group(2)) if r and r.group(2) else self.row + 1
                self.col = 0
                self.max_row = max(self.max_row, self.row)
            else:
                ref = _ATTR_REF.search(attrs)
                self.dimension = ref.group(1).decode("ascii", "replace") if ref else ""
                self._check_dimension()
            if self.max_row > limits["max_rows"]:
                raise Refused("rows", rows=self.max_row)
            if self.max_row * self.max_col > limits["max_area"]:
                raise Refused("area")

    def _fast(self, data: bytes) -> bool:
        """The chunk measured with C-level scans when every row and cell in it names its position."""
        cells = len(_CELL_ANY.findall(data))
        rows_r = _ROW_R.findall(data)
        if len(rows_r) != len(_ROW_ANY.findall(data)):
            return False
        col_letters = set(_CELL_COL.findall(data))
        cell_rows = _CELL_ROW.findall(data)
        if len(cell_rows) != cells:
            return False
        limits = self.limits
        for m in _DIMENSION.finditer(data):
            ref = _ATTR_REF.search(m.group(0))
            self.dimension = ref.group(1).decode("ascii", "replace") if ref else ""
            self._check_dimension()
        self.cells += cells
        if self.cells > limits["max_cells"]:
            raise Refused("cells")
        if col_letters:
            self.max_col = max(self.max_col, max(_col_number(c) for c in col_letters))
        numbers = [*rows_r, *cell_rows]
        if numbers:
            self.max_row = max(self.max_row, max(map(int, numbers)))
            self.row = self.max_row
        self.col = 0
        if self.max_row > limits["max_rows"]:
            raise Refused("rows", rows=self.max_row)
        if self.max_col > limits["max_columns"]:
            raise Refused("columns", columns=self.max_col)
        if self.max_row * self.max_col > limits["max_area"]:
            raise Refused("area")
        return True

    def _check_dimension(self) -> None:
        end = self.dimension.split(":")[-1].replace("$", "")
        m = _CELLREF.match(end)
        if not m:
            return
        rows, cols = int(m.group(2)), _col_number(m.group(1))
        if rows > self.limits["max_rows"]:
            raise Refused("rows", rows=rows)
        if cols > self.limits["max_columns"]:
            raise Refused("columns", columns=cols)
        if rows * cols > self.limits["max_area"]:
            raise Refused("area")

    def result(self) -> dict[str, Any]:
        return {"rows": self.max_row, "columns": self.max_col, "cells": self.cells, "dimension": self.dimension}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$s": value.total_seconds()}
    return str(value)


def read(content: bytes, limits: dict[str, int], *, bounds: bool = True) -> dict[str, Any]:
    """Every sheet as rows (calamine, from the sheet's top-left corner), after the bounds check."""
    measured = check(content, limits) if bounds else {"formula": False}
    if measured["formula"]:
        raise Refused("formula")
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheets = []
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            sheets.append({"name": name, "start": list(sheet.start) if sheet.start else None,
                           "merged": [[list(a), list(b)] for a, b in (sheet.merged_cell_ranges or [])],
                           "rows": sheet.to_python(skip_empty_area=False)})
    except MemoryError:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise Refused("damaged") from exc
    return {"sheets": sheets}


def _set_limits(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main() -> int:
    """`python xlsx_worker.py MEMORY_MB CPU_SECONDS BOUNDS LIMITS_JSON` with the file on stdin, JSON on stdout."""
    memory_mb, cpu_seconds, bounds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    limits = {**LIMITS, **json.loads(sys.argv[4])}
    _set_limits(memory_mb, cpu_seconds)
    content = sys.stdin.buffer.read()
    try:
        out: dict[str, Any] = read(content, limits, bounds=bounds)
    except Refused as exc:
        out = {"refused": exc.code, **exc.numbers}
    except MemoryError:
        out = {"refused": "memory"}
    sys.stdout.write(json.dumps(out, default=_jsonable, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
