"""The hostile-file corpus: uploads that try to take the server down, built here (nothing big is kept in
the repository). Each builder returns the bytes a person could upload; HOSTILE_XLSX and HOSTILE_IMAGES
list them with the name they are uploaded under."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

from openpyxl import Workbook

from tests.residents.excel_files import HEADERS

BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def _workbook(cells: dict[str, str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "户情台账"
    ws.append(HEADERS)
    for ref, value in (cells or {}).items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite(content: bytes, edit: dict[str, bytes | None], add: dict[str, bytes] | None = None,
             compresslevel: int = 6) -> bytes:
    """The workbook with some parts replaced (None drops a part) and some added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                      compresslevel=compresslevel) as dst:
        for info in src.infolist():
            if info.filename in edit:
                data = edit[info.filename]
                if data is not None:
                    dst.writestr(info.filename, data)
            else:
                dst.writestr(info.filename, src.read(info.filename))
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def sparse_range() -> bytes:
    """A header row and one cell at XFD1048576: 5 KB that asks calamine for 549 GB."""
    return _workbook({"XFD1048576": "x"})


def sparse_range_without_dimension() -> bytes:
    """The same with the sheet's <dimension> removed: the real extent of the cells must be measured."""
    content = sparse_range()
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    return _rewrite(content, {"xl/worksheets/sheet1.xml": re.sub(rb"<dimension[^>]*/>", b"", sheet)})


def zip_bomb() -> bytes:
    """A small workbook carrying a part that inflates to 64 MB of nothing (ratio over 1,000)."""
    out = io.BytesIO(_workbook())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, zf.open("xl/media/pad.xml", "w") as fh:
        block = b" " * (1 << 20)
        for _ in range(64):
            fh.write(block)
    return out.getvalue()


def billion_laughs(part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """Entity expansion (billion laughs) in one XML part of the workbook."""
    content = _workbook({"A2": "x"})
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        xml = zf.read(part).decode("utf-8")
    head, body = xml.split("?>", 1) if xml.startswith("<?xml") else ("", xml)
    body = body.replace("<t>x</t>", "<t>&lol9;</t>").replace(">x<", ">&lol9;<")
    return _rewrite(content, {part: ((head + "?>" if head else "") + BILLION_LAUGHS + body).encode("utf-8")})


def png_bytes(width: int = 4, height: int = 4, *, idat: bytes | None = None) -> bytes:
    """A grey PNG of the given size (its pixel data all zero, so any size compresses to little)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    if idat is None:
        comp = zlib.compressobj(9)
        row = b"\x00" * (width + 1)
        idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def huge_dimensions_png() -> bytes:
    """A PNG whose header claims 100,000 × 100,000 pixels, with almost no data."""
    return png_bytes(100_000, 100_000, idat=zlib.compress(b"\x00" * 1024))


def decompression_bomb_png() -> bytes:
    """A real 8,000 × 8,000 PNG of zeros: about 60 KB that decodes to 64 million pixels."""
    return png_bytes(8000, 8000)


HTML_AS_JPG = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

# (label, upload name, builder): what the household import must refuse without dying.
HOSTILE_XLSX = (
    ("sparse_range", "台账.xlsx", sparse_range),
    ("sparse_range_without_dimension", "台账.xlsx", sparse_range_without_dimension),
    ("sparse_columns", "台账.xlsx", lambda: _workbook({"XFD2": "x"})),
    ("zip_bomb", "台账.xlsx", zip_bomb),
    ("billion_laughs_in_sheet", "台账.xlsx", billion_laughs),
    ("billion_laughs_in_content_types", "台账.xlsx", lambda: billion_laughs("[Content_Types].xml")),
    ("billion_laughs_in_workbook", "台账.xlsx", lambda: billion_laughs("xl/workbook.xml")),
    ("png_named_xlsx", "台账.xlsx", png_bytes),
    ("html_named_xlsx", "台账.xlsx", lambda: HTML_AS_JPG),
)
# (label, upload name, builder): what every photo and attachment upload must refuse.
HOSTILE_IMAGES = (
    ("html_named_jpg", "photo.jpg", lambda: HTML_AS_JPG),
    ("huge_dimensions_png", "photo.png", huge_dimensions_png),
    ("decompression_bomb_png", "photo.png", decompression_bomb_png),
    ("xlsx_named_jpg", "photo.jpg", sparse_range),
)
