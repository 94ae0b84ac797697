"""Small inline SVG icons for the residents' category buttons (no icon font, no extra request)."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe


def _svg(body: str) -> SafeString:
    return mark_safe(  # noqa: S308 - constant markup written here, no user input
        '<svg class="ico" viewBox="0 0 32 32" aria-hidden="true" fill="none" stroke="currentColor" '
        f'stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round">{body}</svg>'
    )


CATEGORY_ICONS: dict[str, SafeString] = {
    # a rubbish bin
    "sanitation": _svg('<path d="M7 9h18M12 9V6h8v3M9 9l2 18h10l2-18"/>'),
    # a drop and a bolt
    "livelihood_water": _svg('<path d="M11 4C7 10 5 13 5 16a6 6 0 0 0 12 0c0-3-2-6-6-12z"/>'
                             '<path d="M24 4l-4 9h5l-4 11"/>'),
    # a warning triangle
    "hazard": _svg('<path d="M16 4L3 27h26z"/><path d="M16 12v7M16 23v1"/>'),
    # two people
    "dispute_neighbour": _svg('<circle cx="10" cy="10" r="4"/><circle cx="22" cy="10" r="4"/>'
                              '<path d="M3 27c0-5 3-8 7-8s7 3 7 8M15 27c0-5 3-8 7-8s7 3 7 8"/>'),
    # a shield
    "public_order": _svg('<path d="M16 3l11 4v8c0 7-5 12-11 14C10 27 5 22 5 15V7z"/>'),
    # a house with a crane hook
    "illegal_building": _svg('<path d="M4 28V15l9-7 9 7v13z"/><path d="M22 4h7M26 4v6"/>'),
    # a helping hand / heart
    "livelihood_hardship": _svg('<path d="M16 27S4 19 4 11a6 6 0 0 1 12-1 6 6 0 0 1 12 1c0 8-12 16-12 16z"/>'),
    # a coin
    "labour_wages": _svg('<circle cx="16" cy="16" r="12"/><path d="M11 10l5 6 5-6M16 16v9M11 18h10M11 22h10"/>'),
    # a speech bubble
    "other": _svg('<path d="M5 6h22v15H14l-6 6v-6H5z"/><path d="M10 13h12"/>'),
}
