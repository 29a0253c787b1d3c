"""Everything the crawl reads from one web page, in one pure call.

:func:`read_page` takes the page's text and returns its :class:`PageReading`: the menu's entries
(when asked for), the programme (when the page is one) and the links of its content. It parses
the text itself, so that it can run in another process (:mod:`exitscrape.extraction.reader`):
what crosses is text in, plain dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from parsel import Selector
from w3lib.html import get_base_url

from exitscrape.extraction.links import content_links
from exitscrape.extraction.menu import MenuEntry, read_menu
from exitscrape.extraction.programme import ProgrammePage
from exitscrape.items import ProgrammeItem

#: How the text is parsed, as Scrapy's ``response.selector`` would parse it (``None``: parsel
#: decides from the text, as for a response served without an HTML media type).
SelectorType = Literal["html", "xml", "json"] | None


@dataclass(frozen=True, slots=True)
class Page:
    """A web page to read: its final URL, decoded text and encoding, and when it was fetched."""

    url: str
    text: str
    encoding: str
    selector_type: SelectorType
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class PageReading:
    """What the crawl takes from a page."""

    menu: list[MenuEntry]  # the menu's entries; empty when not asked for, or none
    programme: ProgrammeItem | None  # when the page is a programme page
    links: list[str]  # the content's links, resolved, deduplicated, in order (any host)


def read_page(page: Page, with_menu: bool) -> PageReading:
    """*page* read: its menu's entries too when *with_menu*."""
    # As Scrapy's response.selector: the same text, type and base URL (<base href>, if any).
    base = get_base_url(page.text[0:4096], page.url, page.encoding)
    selector = Selector(text=page.text, type=page.selector_type, base_url=base)
    menu = read_menu(selector, page.url) if with_menu else []
    programme = ProgrammePage(selector)
    links = content_links(selector, page.url)
    if not programme.is_programme:
        return PageReading(menu, None, links)
    return PageReading(menu, programme.to_item(url=page.url, fetched_at=page.fetched_at), links)
