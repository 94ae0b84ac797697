"""Charts for printed reports as SVG (WeasyPrint draws them; no browser needed)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f")


def hbar_svg(labels: Sequence[str], values: Sequence[float | None], *, suffix: str = "", width: int = 640,
             bar: int = 22, gap: int = 8, label_width: int = 150, color: str = PALETTE[0],
             fmt: str = "{:.0f}") -> str:
    """Horizontal bars with the value at the end; None is drawn as "—" with no bar."""
    if not labels:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" viewBox="0 0 {width} 40">'
                '<text x="10" y="25" font-size="14" fill="#888" font-family="Noto Sans CJK SC">本期无数据</text></svg>')
    present = [v for v in values if v is not None]
    top = max(present) if present and max(present) > 0 else 1.0
    plot = width - label_width - 70
    height = len(labels) * (bar + gap) + gap
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = gap + i * (bar + gap)
        out.append(f'<text x="{label_width - 6}" y="{y + bar * 0.72:.1f}" font-size="13" text-anchor="end" '
                   f'fill="#222">{escape(label[:12])}</text>')
        if value is None:
            out.append(f'<text x="{label_width + 4}" y="{y + bar * 0.72:.1f}" font-size="13" fill="#888">—</text>')
            continue
        w = max(1.0, plot * value / top)
        out.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}" rx="2"/>')
        out.append(f'<text x="{label_width + w + 4:.1f}" y="{y + bar * 0.72:.1f}" font-size="13" '
                   f'fill="#222">{escape(fmt.format(value))}{escape(suffix)}</text>')
    out.append("</svg>")
    return "".join(out)


def columns_svg(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, width: int = 640,
                height: int = 220) -> str:
    """Grouped columns per label (e.g. reported and closed per day), with a legend."""
    n = max(1, len(labels))
    top = max([max(vals, default=0) for _, vals in series] + [1])
    left, bottom, legend = 30, 24, 22
    plot_w, plot_h = width - left - 10, height - bottom - legend - 6
    group = plot_w / n
    bw = max(1.0, group * 0.8 / max(1, len(series)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC">']
    for k, (name, _) in enumerate(series):
        out.append(f'<rect x="{left + k * 90}" y="4" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>'
                   f'<text x="{left + k * 90 + 16}" y="15" font-size="12">{escape(name)}</text>')
    base = legend + plot_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>')
    out.append(f'<text x="{left - 4}" y="{legend + 10}" font-size="11" text-anchor="end">{top}</text>')
    step = max(1, n // 12)
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for k, (_, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else 0
            h = plot_h * v / top
            out.append(f'<rect x="{x0 + k * bw:.1f}" y="{base - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[k % len(PALETTE)]}"/>')
        if i % step == 0:
            out.append(f'<text x="{left + i * group + group / 2:.1f}" y="{height - 6}" font-size="10" '
                       f'text-anchor="middle">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
