"""Links of a page: resolved against the page's base URL, web pages only, fragments dropped."""

from __future__ import annotations

import re
from itertools import islice
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from parsel import Selector

# The start tag of a link (not <abbr>, <area>, <aside>, ...; but <a/href=...>, which HTML
# parsers read as a link too).
_ANCHOR = re.compile(r"<a[\s/>]", re.IGNORECASE)
# Compiled once: parsel compiles its queries on every call and wraps every result.
_BASE_HREF = etree.XPath("//base/@href", smart_strings=False)


def base_url(selector: Selector, url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if any, else the page URL."""
    found = _BASE_HREF(selector.root)
    base = str(found[0]) if found else None
    return urljoin(url, base.strip()) if base else url


def resolve(base: str, href: str) -> str | None:
    """The absolute http(s) URL *href* points to, without fragment; ``None`` for other schemes."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = urldefrag(urljoin(base, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def content_scope(selector: Selector) -> Selector:
    """``#wsite-content``, where Weebly puts the page body (menu, header and footer excluded),
    else ``<body>``, else the whole page."""
    # Weebly's content element is a div: a look at the divs' ids takes a quarter of the time of
    # the CSS query, on every page (BENCHMARKS.md); the query still finds any other element. (A
    # compiled XPath query for the div costs more than this loop: it reads the whole page.)
    for div in selector.root.iter("div"):
        if div.get("id") == "wsite-content":
            return Selector(root=div, type="html")
    found = selector.css("#wsite-content") or selector.css("body")
    return found[0] if found else selector


def content_links(selector: Selector, url: str) -> list[str]:
    """Links in the page body (see :func:`content_scope`), deduplicated, in order."""
    base = base_url(selector, url)
    hrefs = content_scope(selector).xpath(".//a/@href").getall()
    found = (resolve(base, href) for href in hrefs)
    return list(dict.fromkeys(u for u in found if u))


def more_links_than(html: str, limit: int) -> bool:
    """Whether the page *html* holds more than *limit* links (``<a>`` start tags), counted in its
    text before anything is parsed: a page of 300,000 links parses into a tree of 170 MB."""
    if html.count("<a") + html.count("<A") <= limit:  # at most that many: no pattern search
        return False
    return next(islice(_ANCHOR.finditer(html), limit, None), None) is not None
