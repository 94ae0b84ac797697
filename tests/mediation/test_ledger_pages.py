"""The 调解台账 in pages: every row in the user's scope on exactly one page, page links in plain words,
the filters kept from page to page, and a fixed number of queries whatever the page."""

from __future__ import annotations

import re

import pytest

from gridgov.mediation import selectors
from tests.cases.test_query_counts import _count
from tests.mediation.conftest import register

pytestmark = pytest.mark.django_db

PER_PAGE = 3
# session, user, grants (scope), the units offered in the filter, how many rows match, the page's ids,
# those rows: none per row
MAX_LEDGER_PAGE = 7


@pytest.fixture
def ledger(mworld, monkeypatch):  # type: ignore[no-untyped-def]
    """Seven disputes in 吴城村's grid A1 (three pages) and two in the sibling township's grid C1."""
    monkeypatch.setattr(selectors, "PAGE_SIZE", PER_PAGE)
    ours = {register(mworld, title=f"邻里纠纷{i}", dispute_type="neighbour" if i % 2 else "land").number
            for i in range(7)}
    theirs = {register(mworld, title=f"驼峰纠纷{i}", unit_id=mworld.grid_c1.pk, presiding=mworld.ma.pk).number
              for i in range(2)}
    return ours, theirs


def walk(client, url: str = "/mediation/") -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Follow 下一页 from the first page; the numbers listed on each page."""
    pages = []
    while True:
        html = client.get(url).content.decode()
        pages.append(re.findall(r"<span>(\d{6}-\d{4}-TJ\d+)</span>", html))
        nxt = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', html)
        if not nxt:
            return pages
        url = "/mediation/" + nxt.group(1).replace("&amp;", "&")
        assert len(pages) < 10


@pytest.mark.parametrize(("who", "sees"), [
    ("xu", "ours"), ("zhang_wei", "ours"), ("li_qiang", "ours"), ("wang_fang", "ours"),
    ("chen_jing", "both"), ("ma", "theirs"), ("sun_li", "theirs"),
])
def test_the_pages_list_every_row_in_scope_once_and_nothing_else(mworld, login, ledger, who, sees):
    ours, theirs = ledger
    expected = {"ours": ours, "theirs": theirs, "both": ours | theirs}[sees]
    pages = walk(login(getattr(mworld, who)))
    listed = [n for p in pages for n in p]
    assert sorted(listed) == sorted(expected)  # each once
    assert len(pages) == -(-len(expected) // PER_PAGE) and all(len(p) <= PER_PAGE for p in pages)


def test_the_department_handler_has_no_ledger(mworld, login, ledger):
    assert login(mworld.liu_yang).get("/mediation/?page=2").status_code == 403


def test_page_links_are_plain_words_and_keep_the_filters(mworld, login, ledger):
    client = login(mworld.xu)
    html = client.get("/mediation/", {"page": "2"}).content.decode()
    assert "共 7 件，每页 3 件，这是第 2 页（共 3 页）" in html
    assert '<span aria-current="page">第 2 页</span>' in html
    assert 'href="?page=1" rel="prev">上一页</a>' in html and 'href="?page=3" rel="next">下一页</a>' in html
    assert 'href="?page=1">第 1 页</a>' in html and 'href="?page=3">第 3 页</a>' in html
    # Filtered: four land disputes, two pages, the filter carried by every page link.
    html = client.get("/mediation/", {"type": "land"}).content.decode()
    assert "共 4 件，每页 3 件，这是第 1 页（共 2 页）" in html
    assert 'href="?type=land&amp;page=2" rel="next">下一页</a>' in html
    assert [len(p) for p in walk(client, "/mediation/?type=land")] == [3, 1]
    # A page past the end shows the last page; nonsense shows the first; one page shows no page links.
    assert "这是第 3 页（共 3 页）" in client.get("/mediation/", {"page": "99"}).content.decode()
    assert "这是第 1 页（共 3 页）" in client.get("/mediation/", {"page": "x"}).content.decode()
    assert 'aria-label="翻页"' not in client.get("/mediation/", {"type": "family"}).content.decode()


def test_every_page_runs_the_same_number_of_queries(mworld, login, ledger):
    for who in (mworld.xu, mworld.chen_jing, mworld.wang_fang):
        client = login(who)
        counts = {page: _count(client, f"/mediation/?page={page}") for page in (1, 2, 3)}
        assert len(set(counts.values())) == 1, counts
        assert counts[1] <= MAX_LEDGER_PAGE, counts
        more = register(mworld, title="又一件纠纷").number  # rows added: still the same
        assert _count(client, "/mediation/?page=2") == counts[2]
        assert more
