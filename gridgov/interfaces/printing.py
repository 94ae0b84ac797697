"""Printable documents: HTML templates rendered to PDF by WeasyPrint with Noto CJK fonts embedded,
QR codes by segno, grid outlines as SVG."""

from __future__ import annotations

import base64
import io
from typing import Any

import segno
from django.template.loader import render_to_string
from weasyprint import HTML

from gridgov.geo.geometry import parse_boundary


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def qr_data_uri(text: str, scale: int = 8) -> str:
    """A QR code as a PNG data URI (error correction M, a quiet zone of four modules)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def outline_svg(boundary: Any, width: int = 400, height: int = 300, pad: int = 10) -> str:
    """The boundary as an SVG drawing scaled to the box (north up), or "" without a boundary."""
    if not boundary:
        return ""
    geom = parse_boundary(boundary)
    minx, miny, maxx, maxy = geom.bounds
    span = max(maxx - minx, maxy - miny) or 1.0
    scale = min((width - 2 * pad) / (maxx - minx or span), (height - 2 * pad) / (maxy - miny or span))
    polygons = list(getattr(geom, "geoms", [geom]))
    paths = []
    for poly in polygons:
        rings = [poly.exterior, *poly.interiors]
        d = " ".join(
            "M " + " L ".join(f"{pad + (x - minx) * scale:.1f},{height - pad - (y - miny) * scale:.1f}"
                              for x, y in ring.coords) + " Z"
            for ring in rings
        )
        paths.append(f'<path d="{d}" fill="#fde8e8" stroke="#b71c1c" stroke-width="2" fill-rule="evenodd"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(paths)}</svg>')
