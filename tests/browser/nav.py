"""Reaching a page through the top bar's menus, as a person would, on a desktop or a phone."""

from __future__ import annotations

from typing import Any


def go_to(page: Any, label: str) -> None:
    """Open the page named `label` from the menus: 菜单 first on a phone, then the page's menu if it
    is closed, then the page's link."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    # By its text, not its role: a link inside a closed menu is hidden from the accessibility tree.
    link = page.locator(f'nav.nav a:text-is("{label}")')
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    link.click()
