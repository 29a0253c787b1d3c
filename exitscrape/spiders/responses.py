"""How the crawl reads what a request got: a response's media type, body hash and text, or
why it failed. Shared by the spider and the quick check, so both record the same answer."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, JsonResponse, Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from exitscrape.archive.replay import ArchiveError, Memento
from exitscrape.extraction.encoding import page_encoding
from exitscrape.extraction.reading import SelectorType
from exitscrape.items import HTML_MEDIA_TYPES
from exitscrape.spiders.base import OffSiteRequest
from exitscrape.spiders.meta import MEMENTO

#: The message of Scrapy's RobotsTxtMiddleware for a URL robots.txt forbids.
_ROBOTS_FORBIDDEN = "Forbidden by robots.txt"


def header(response: Response, name: bytes) -> str | None:
    """A response header's value as text (latin-1, as HTTP defines it), or ``None``."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def media_type(response: Response) -> str | None:
    """The ``Content-Type`` without parameters, lower case."""
    value = header(response, b"Content-Type")
    return value.split(";")[0].strip().lower() if value else None


def is_html(response: Response) -> bool:
    """A web page to parse: text, served as HTML or without a ``Content-Type``."""
    if not isinstance(response, TextResponse):
        return False
    content_type = (header(response, b"Content-Type") or "").lower()
    return not content_type or any(t in content_type for t in HTML_MEDIA_TYPES)


def body_sha256(response: Response, html: bool) -> str | None:
    """The body's hash as the crawl records it: a web page's always, another file's when it has
    a body (a HEAD request gets none)."""
    return hashlib.sha256(response.body).hexdigest() if html or response.body else None


def selector_type(response: TextResponse) -> SelectorType:
    """How Scrapy's ``response.selector`` parses *response* (``None``: parsel decides)."""
    if isinstance(response, XmlResponse):
        return "xml"
    if isinstance(response, JsonResponse):
        return "json"
    if isinstance(response, HtmlResponse):
        return "html"
    return None


def decoded(response: TextResponse) -> TextResponse:
    """The response decoded with the first encoding that fits its bytes
    (:func:`~exitscrape.extraction.encoding.page_encoding`)."""
    name = page_encoding(response.body, response.headers.get(b"Content-Type"))
    if name is None or name == codecs.lookup(response.encoding).name:
        return response
    return response.replace(encoding=name)


def capture_fields(request_meta: dict[str, Any]) -> dict[str, Any]:
    """The :class:`~exitscrape.items.PageItem` fields of the archived capture a request was read
    from (:data:`~exitscrape.spiders.meta.MEMENTO`); none for the live site."""
    memento = request_meta.get(MEMENTO)
    if not isinstance(memento, Memento):
        return {}
    return {"captured_at": memento.captured_at, "archive_url": memento.url}


@dataclass(frozen=True, slots=True)
class FailureInfo:
    """What a failed request tells the dataset."""

    status: int | None  # the HTTP status, when a response came
    error: str  # in words
    skipped: bool  # not sent on purpose (robots.txt forbids it, it redirects off the site)
    final_url: str | None  # where redirects led, when the request was sent there


def describe_failure(failure: Failure) -> FailureInfo:
    error = failure.value
    request = failure.request  # type: ignore[attr-defined]
    # A redirect off the site was refused, not followed: nothing came from where it led.
    redirected = request.meta.get("redirect_urls") and not isinstance(error, OffSiteRequest)
    final_url = request.url if redirected else None
    if isinstance(error, HttpError):  # a subclass of IgnoreRequest, but a real failure
        status = error.response.status
        return FailureInfo(status, f"HTTP {status}", skipped=False, final_url=final_url)
    message = str(error).strip() or type(error).__name__
    if isinstance(error, ArchiveError):  # "not archived", the archive's answer: said in words
        return FailureInfo(None, message, skipped=False, final_url=final_url)
    if isinstance(error, IgnoreRequest):  # robots.txt, off the site: the message says which
        robots = message == _ROBOTS_FORBIDDEN
        error_text = "disallowed by robots.txt" if robots else message
        return FailureInfo(None, error_text, skipped=True, final_url=final_url)
    return FailureInfo(None, f"{type(error).__name__}: {message}", False, final_url)
