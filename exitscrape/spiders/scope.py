"""What belongs to the site: the one rule every way of reaching a URL goes through.

A URL is on the site when it is http(s) and has the start URL's host (with or without
``www.``) and port: ``http://site/`` and ``https://www.site/`` are one site, another host or
port is another. Every request is held to it (:mod:`exitscrape.downloadermiddlewares.offsite`),
whether a link, a redirect, a meta refresh or the quick check's plan led to it. Plain URL logic
(no Scrapy): the command line checks start URLs with it before anything is loaded.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_START_URL = "https://www.exit-practices.eu/"
_SCHEMES = ("http", "https")
# Links whose extension says "not a web page" are checked with HEAD (recorded, never parsed).
_PAGE_EXTENSIONS = frozenset(("", ".html", ".htm", ".php", ".asp", ".aspx", ".jsp", "/"))


def check_start_url(url: str) -> str:
    """*url* if it can start a crawl, else :class:`ValueError` saying why."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as error:
        raise ValueError(f"the start URL must be an http(s) URL, got {url!r}: {error}") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(f"the start URL must be an http(s) URL, got {url!r}")
    if "@" in parts.netloc:
        raise ValueError(
            "the start URL must not hold credentials (user:password@): every URL of the "
            "dataset would carry them; pass -s HTTPAUTH_USER=... -s HTTPAUTH_PASS=... instead"
        )
    return url


def site_key(url: str) -> tuple[str, int | None] | None:
    """Host (without ``www.``) and explicit non-default port of an http(s) URL; ``None`` for
    anything else (another scheme, no host, a port out of range)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        return None
    return (parts.hostname.removeprefix("www."), port if port not in (None, 80, 443) else None)


def looks_like_page(url: str) -> bool:
    """Whether *url*'s extension is a web page's (else it is checked with HEAD, not parsed)."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    extension = "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""
    return extension in _PAGE_EXTENSIONS


class SiteScope:
    """The site a crawl stays on, from its start URL."""

    def __init__(self, start_url: str) -> None:
        self.start_url = check_start_url(start_url)
        self.site = site_key(start_url)
        self._origin = self._origin_of(start_url)

    @staticmethod
    def _origin_of(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def admit(self, url: str) -> str | None:
        """*url* on the start URL's scheme and host when it belongs to the site, else ``None``.

        Links to ``http://`` or a ``www.``-less host of an https site would only redirect.
        """
        if site_key(url) != self.site:
            return None
        return self._origin + url[len(self._origin_of(url)) :]

    def admit_all(self, urls: list[str]) -> list[str]:
        """The on-site URLs among *urls* (see :meth:`admit`), deduplicated, in order."""
        return list(dict.fromkeys(u for u in map(self.admit, urls) if u is not None))

    def follow_start_redirect(self, url: str) -> None:
        """The start URL redirected to *url* on the site (http to https, say): links are
        written on its scheme and host from now on."""
        if self.admit(url) is not None:
            self._origin = self._origin_of(url)
