"""The floor: a plain Scrapy spider following the links ``exitscrape crawl`` follows, no more.

The menu's links once (from the first page that has a menu), every page's ``#wsite-content``
links, on the start page's host; web pages with GET, other files with HEAD, as exitscrape does.
No extraction, no items, no pipelines. Run it with plain Scrapy::

    scrapy runspider benchmarks/floor_spider.py -a start_url=http://127.0.0.1:8000/ -s ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

_PAGE_EXTENSIONS = ("", ".html", ".htm", ".php", ".asp", ".aspx", ".jsp")


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, start_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_url = start_url
        self.host = urlsplit(start_url).netloc
        self.pages = 0
        self.menu_read = False

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        self.pages += 1
        if not isinstance(response, TextResponse):
            return
        hrefs = response.css("#wsite-content a::attr(href)").getall()
        if not self.menu_read:
            menu = response.css("ul.wsite-menu-default a::attr(href)").getall()
            self.menu_read = bool(menu)
            hrefs = menu + hrefs
        for href in hrefs:
            url = response.urljoin(href.strip()).split("#")[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != self.host:
                continue
            last = parts.path.rsplit("/", 1)[-1]
            extension = "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""
            method = "GET" if extension in _PAGE_EXTENSIONS else "HEAD"
            yield scrapy.Request(url, method=method)

    def closed(self, reason: str) -> None:
        print(f"floor: {self.pages} responses, finish reason {reason}")
