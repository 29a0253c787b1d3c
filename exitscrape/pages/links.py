"""Links of a page: resolved against the page's base URL, web pages only, fragments dropped."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

from parsel import Selector


def base_url(selector: Selector, url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if any, else the page URL."""
    base = selector.xpath("//base/@href").get()
    return urljoin(url, base.strip()) if base else url


def resolve(base: str, href: str) -> str | None:
    """The absolute http(s) URL *href* points to, without fragment; ``None`` for other schemes."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = urldefrag(urljoin(base, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def content_links(selector: Selector, url: str) -> list[str]:
    """Links in the page body (``#wsite-content``, else ``<body>``), deduplicated, in order."""
    scope = selector.css("#wsite-content") or selector.css("body")
    base = base_url(selector, url)
    found = (resolve(base, href) for href in scope.xpath(".//a/@href").getall())
    return list(dict.fromkeys(u for u in found if u))
