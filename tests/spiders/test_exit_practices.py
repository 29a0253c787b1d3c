"""Navigation: the category tree from menu labels, whatever the URLs are; staying on the site."""

from __future__ import annotations

import asyncio
from typing import Any

from parsel import Selector

from exitscrape.extraction.menu import category_of, read_menu
from exitscrape.items import Category
from tests.weebly import menu_html, page_html

MENU = [
    ("Home", "/", []),
    (
        "Exit programmes",
        "/a.html",
        [
            (
                "Exit programmes in prison",
                "/b.html",
                [
                    (
                        "Islamist",
                        "/c.html",
                        [
                            ("In Europe", "/d.html", []),
                            ("In other regions", "http://127.0.0.1/e.html", []),
                        ],
                    ),
                    ("Far-Right", "f.html", []),
                ],
            ),
            ("Exit programmes in probation", "/g.html", [("Far-Left", "/h.html#top", [])]),
            ("Exit programmes in prison and probation", "/i.html", [("Islamist", "/j.html", [])]),
        ],
    ),
    ("Resources", "/k.html", [("Radicalisation &amp; Terrorism", "/l.html", [])]),
]


def parsed(spider: Any, response: Any) -> list[Any]:
    """Everything ``spider.parse(response)`` yields (an async generator), outside a crawl."""

    async def collect() -> list[Any]:
        return [output async for output in spider.parse(response)]

    return asyncio.run(collect())


def categories() -> dict[str, Category | None]:
    html = page_html("Home", "<p>x</p>", menu_html(MENU))
    entries = read_menu(Selector(text=html), "http://127.0.0.1/sub/page.html")
    return {e.url: category_of(e.path) for e in entries}


def test_categories_from_labels() -> None:
    found = categories()
    assert found["http://127.0.0.1/d.html"] == Category("prison", "islamist", "europe")
    assert found["http://127.0.0.1/e.html"] == Category("prison", "islamist", "other regions")
    assert found["http://127.0.0.1/sub/f.html"] == Category("prison", "far-right")
    assert found["http://127.0.0.1/h.html"] == Category("probation", "far-left")
    assert found["http://127.0.0.1/j.html"] == Category("prison and probation", "islamist")
    assert found["http://127.0.0.1/b.html"] == Category("prison")
    assert found["http://127.0.0.1/l.html"] is None
    assert found["http://127.0.0.1/"] is None


def test_menu_printed_twice_is_read_once() -> None:
    html = page_html("Home", "<p>x</p>", menu_html(MENU))
    entries = read_menu(Selector(text=html), "http://127.0.0.1/")
    assert len(entries) == len({(e.url, e.path) for e in entries}) == 13


def test_links_normalised_to_the_start_site() -> None:
    from exitscrape.spiders.exit_practices import ExitPracticesSpider

    spider = ExitPracticesSpider(start_url="https://www.exit-practices.eu/")
    assert (
        spider.scope.admit("http://exit-practices.eu/a.html?x=1")
        == "https://www.exit-practices.eu/a.html?x=1"
    )
    assert (
        spider.scope.admit("https://www.exit-practices.eu/b.html")
        == "https://www.exit-practices.eu/b.html"
    )
    assert spider.scope.admit("https://www.weebly.com/") is None
    assert spider.scope.admit("https://www.exit-practices.eu:8443/") is None
    local = ExitPracticesSpider(start_url="http://127.0.0.1:8000/")
    assert local.scope.admit("http://127.0.0.2:8000/") is None
    assert local.scope.admit("http://127.0.0.1:8001/") is None


def test_start_url_redirect_within_the_site_sets_the_origin() -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from exitscrape.spiders import meta
    from exitscrape.spiders.exit_practices import ExitPracticesSpider

    spider = ExitPracticesSpider(start_url="http://exit-practices.eu/")
    request = Request("http://exit-practices.eu/", meta={meta.START: True})
    html = page_html("Home", '<a href="http://exit-practices.eu/a.html">a</a>', menu_html(MENU))
    response = HtmlResponse("https://www.exit-practices.eu/", body=html.encode(), request=request)
    followed = [r.url for r in parsed(spider, response) if isinstance(r, Request)]
    assert "https://www.exit-practices.eu/a.html" in followed
    assert "https://www.exit-practices.eu/d.html" in followed  # from the menu
    assert not [url for url in followed if url.startswith("http://")]


def test_menu_of_a_page_that_fails_to_parse_is_read_again(monkeypatch) -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from exitscrape.extraction import reading
    from exitscrape.items import PageItem, SiteMenu
    from exitscrape.spiders import exit_practices

    spider = exit_practices.ExitPracticesSpider(start_url="http://127.0.0.1/")
    html = page_html("Home", "<p>x</p>", menu_html(MENU)).encode()

    class Broken:
        def __init__(self, selector) -> None:
            raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(reading, "ProgrammePage", Broken)
    start = HtmlResponse("http://127.0.0.1/", body=html, request=Request("http://127.0.0.1/"))
    out = parsed(spider, start)
    assert [type(o) for o in out] == [PageItem] and out[0].error.startswith("cannot parse")
    monkeypatch.undo()
    other = Request("http://127.0.0.1/a.html")
    out = parsed(spider, HtmlResponse(other.url, body=html, request=other))
    assert any(isinstance(o, SiteMenu) for o in out)  # the categories are not lost
