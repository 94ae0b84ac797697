"""Numbered pages of a long list (翻页: 上一页 / 第 N 页 / 下一页), shared by the staff pages that page by
number (the work queues, the mediation ledger)."""

from __future__ import annotations


class NumberedPage:
    """What the page links need from a page: `number` (1-based, clamped to the pages there are) and `pages`
    (at least 1), set by the dataclass that inherits this."""

    number: int
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def nearby(self, spread: int = 2) -> list[int | None]:
        """The page numbers to offer as links: the first, the last and those around this one; None
        where numbers are left out (shown as …)."""
        shown = sorted({1, self.pages}
                       | set(range(max(1, self.number - spread), min(self.pages, self.number + spread) + 1)))
        out: list[int | None] = []
        for n in shown:
            if out and out[-1] is not None and n - out[-1] > 1:  # type: ignore[operator]
                out.append(None)
            out.append(n)
        return out
