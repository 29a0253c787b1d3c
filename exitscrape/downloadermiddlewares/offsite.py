"""Nothing off the site is fetched: the site's scope, enforced on every request.

Links, redirects, meta refreshes and the quick check's plan all reach the downloader as
requests, so holding each request to :meth:`~exitscrape.spiders.scope.SiteScope.admit` here
covers every way of reaching a URL, present and future. The middleware comes first, before
robots.txt is asked for the request's host. It replaces Scrapy's OffsiteMiddleware, which
compares hosts without ports (a meta refresh to another port of the site's host got through)
and drops redirects off the site silently: a refused request fails with the reason, and the
spider records it (kind ``other``).
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler

from exitscrape.spiders.base import OffSiteRequest, scope_of

logger = logging.getLogger(__name__)


def _refusal(request: Request) -> str:
    reasons = request.meta.get("redirect_reasons")
    if not request.meta.get("redirect_urls") or not reasons:
        return f"{request.url} is off the site: not fetched"
    how = "meta refresh" if reasons[-1] == "meta refresh" else "redirect"
    return f"{how} to {request.url}, off the site: not followed"


class SiteScopeMiddleware:
    """Refuses every request whose URL is not on the site (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if scope_of(self.crawler).admit(request.url) is None:
            message = _refusal(request)
            logger.info("Refused %s", message)
            raise OffSiteRequest(message)
