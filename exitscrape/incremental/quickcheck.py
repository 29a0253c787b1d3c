"""Quick check: does every page still answer as it did in the last full crawl?

A crawl's output is a function of the answers it gets: the same answer at every URL gives the
same menu, links, pages and programmes. A full crawl whose data became the latest version
(published, or found equal to it) leaves a *plan* in the cache dir: every URL it met with its
answer (final URL after redirects, status, SHA-256 of the body, or the error) and the response's
validators (``ETag``, ``Last-Modified``). The next run first asks for exactly those URLs with
``If-None-Match`` / ``If-Modified-Since``, bypassing the cache, and compares answers without
parsing anything: ``304 Not Modified`` is the same answer, a full response is compared by its
body's hash. All the same: the data is the plan's version's, nothing is parsed or published.
One differs: the check still hears every page's answer (unless many differ: then the site
changed everywhere and the crawl begins at once), then the spider crawls the site from the start
URL, replaying the pages confirmed the same from what the last crawl derived from them
(:mod:`exitscrape.incremental.replay`) and crawling the others; a page confirmed the same but
crawled is served from the cache when the cached body has the confirmed hash
(:data:`~exitscrape.spiders.meta.CONFIRMED_SHA256`).

No usable plan (first run, a plan for another version than the latest, another start URL or
exitscrape version, the HTTP cache off, ``--full``), or a latest version that fails verification
(:meth:`~exitscrape.dataset.store.DatasetStore.verify`): a full crawl. The plan is read as
untrusted input: a malformed one is ignored, and one listing a URL off the site
(:meth:`~exitscrape.spiders.scope.SiteScope.admit`: another host, ``file:``) is ignored whole.

This module holds the plan and the check's verdict; :mod:`exitscrape.incremental.middleware`
sends the requests (most of them straight: :mod:`exitscrape.incremental.revalidation`), the
publish extension (:mod:`exitscrape.extensions.publish`) writes the plan.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from exitscrape import __version__
from exitscrape.dataset.files import atomic_write, make_dirs, read_regular
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.incremental.cache import cache_dir
from exitscrape.items import PageItem
from exitscrape.spiders.scope import SiteScope

logger = logging.getLogger(__name__)

PLAN_FILE = "quick-check.json"
#: The ``pages`` table columns a plan is made of.
PLAN_COLUMNS = ("url", "final_url", "status", "kind", "body_sha256", "content_type", "error")
_FORMAT = 2
_PLAN_LIMIT = 256 << 20  # a plan of 100,000 pages is about 25 MB


@dataclass(frozen=True, slots=True)
class Answer:
    """What one URL answered: equal answers make the crawl read the same thing."""

    final_url: str | None
    status: int | None
    body_sha256: str | None
    error: str | None = None  # only when no usable response came (HTTP 404, timeout, robots)

    @property
    def is_dropped_redirect(self) -> bool:
        """A redirect to a page the crawl had already met (recorded without a body)."""
        return (
            self.status is not None
            and 300 <= self.status < 400
            and self.body_sha256 is None
            and self.error is None
        )

    def same_as(self, observed: Answer) -> bool:
        if self.is_dropped_redirect:  # now answered by the page it leads to
            return observed.final_url == self.final_url
        return self == observed

    def difference(self, observed: Answer) -> str:
        """How *observed* differs, in words."""
        if observed.error != self.error:
            return f"now {observed.error or f'HTTP {observed.status}'}, was {self.error or 'fine'}"
        if observed.status != self.status:
            return f"status {self.status} -> {observed.status}"
        if observed.final_url != self.final_url:
            return f"now leads to {observed.final_url}, was {self.final_url}"
        return "content changed"


@dataclass(frozen=True, slots=True)
class PlannedPage:
    answer: Answer
    etag: str | None = None
    last_modified: str | None = None

    @property
    def validators(self) -> tuple[tuple[str, str], ...]:
        """The headers that make the request for this page conditional."""
        return tuple(
            (name, value)
            for name, value in (
                ("If-None-Match", self.etag),
                ("If-Modified-Since", self.last_modified),
            )
            if value
        )


def recorded_answer(row: dict[str, Any]) -> Answer:
    """The answer a ``pages`` table row records."""
    failure = row["body_sha256"] is None and row["content_type"] is None and row["error"]
    return Answer(
        final_url=row["final_url"],
        status=row["status"],
        body_sha256=row["body_sha256"],
        error=row["error"] if failure else None,
    )


def plan_path(settings: BaseSettings) -> Path:
    return cache_dir(settings) / PLAN_FILE


def write_plan(
    settings: BaseSettings,
    *,
    version: str,
    start_url: str,
    rows: list[dict[str, Any]],
    page_items: Iterable[PageItem],
    programmes: int,
    records_sha256: str | None = None,
) -> None:
    """Leave the plan for the next run: *rows* of this crawl's pages table (one per URL), with
    the validators of the responses in *page_items*, and the SHA-256 of the replay's records
    (:func:`exitscrape.incremental.replay.write_records`) when there are some."""
    validators = {p.url: (p.etag, p.last_modified) for p in page_items if p.etag or p.last_modified}
    pages = {}
    for row in rows:
        answer = recorded_answer(row)
        etag, last_modified = validators.get(row["url"], (None, None))
        pages[row["url"]] = [*_fields(answer), etag, last_modified]
    document = {
        "format": _FORMAT,
        "version": version,
        "start_url": start_url,
        "exitscrape_version": __version__,
        "programmes": programmes,
        "failed_pages": sum(1 for row in rows if row["kind"] == "failed"),
        "problems": [f"{row['url']}: {row['error']}" for row in rows if row["error"]],
        "pages": pages,
        "records_sha256": records_sha256,
    }
    path = plan_path(settings)
    try:
        make_dirs(path.parent)
        atomic_write(path, json.dumps(document))
    except OSError as error:  # the next run will crawl in full: slower, not wrong
        logger.warning("Cannot write the quick-check plan %s: %s", path, error)


def _of_type(value: Any, kind: Any) -> Any:
    """*value*, when it is of *kind* (a type or a union); else :class:`TypeError`."""
    if not isinstance(value, kind):
        raise TypeError(f"{type(value).__name__} where the plan needs {kind}")
    return value


def _fields(answer: Answer) -> list[Any]:
    return [answer.final_url, answer.status, answer.body_sha256, answer.error]


@dataclass
class QuickCheck:
    """The plan of the last full crawl, and what this run has seen of it."""

    version: str
    pages: dict[str, PlannedPage]
    programmes: int
    failed_pages: int
    problems: list[str]
    records_sha256: str | None = None  # the replay's records, when the last crawl left some
    confirmed: dict[str, str | None] = field(default_factory=dict)  # URL -> body hash
    not_modified: int = 0
    changed: str | None = None  # the first URL whose answer differs, and how
    differences: int = 0  # pages whose answer differs
    replayed: int = 0  # confirmed pages the crawl replayed (exitscrape.incremental.replay)
    not_replayed: str | None = None  # why the last crawl's records could not be replayed
    answered: set[str] = field(default_factory=set)  # the plan's URLs that answered
    direct: int = 0  # answers taken straight (exitscrape.incremental.revalidation)

    @classmethod
    def load(cls, settings: BaseSettings, scope: SiteScope) -> QuickCheck | None:
        """The check for a run of *scope*'s site, or ``None`` (the reason logged) when the run
        must crawl in full."""
        if not settings.getbool("EXITSCRAPE_QUICK_CHECK"):
            return None
        if not settings.getbool("HTTPCACHE_ENABLED"):
            logger.info("No quick check: the HTTP cache is off")
            return None
        path = plan_path(settings)
        try:
            document = json.loads(read_regular(path, _PLAN_LIMIT))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("No quick check: cannot read %s: %s", path, error)
            return None
        if not isinstance(document, dict):
            logger.warning("No quick check: %s is not a plan", path)
            return None
        store = DatasetStore(resolve_data_dir(settings.get("EXITSCRAPE_DATA_DIR")))
        latest = store.latest()
        why_not = (
            "the plan has another format"
            if document.get("format") != _FORMAT
            else f"the plan is for version {document.get('version')}, the latest is {latest}"
            if document.get("version") != latest
            else "the last full crawl started from another URL"
            if document.get("start_url") != scope.start_url
            else f"the last full crawl ran exitscrape {document.get('exitscrape_version')}"
            if document.get("exitscrape_version") != __version__
            else None
        )
        if why_not or latest is None:
            logger.info("No quick check: %s", why_not)
            return None
        try:
            check = cls._from_plan(document, scope)
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("No quick check: the plan %s is not usable: %s", path, error)
            return None
        damage = store.verify(latest)
        if damage:
            logger.warning("No quick check: the latest version is damaged: %s", damage[0])
            return None
        return check

    @classmethod
    def _from_plan(cls, document: dict[str, Any], scope: SiteScope) -> QuickCheck:
        """The check a plan describes; :class:`ValueError` (or ``KeyError``, ``TypeError``)
        when it is malformed or names a URL off the site."""
        pages = {}
        for url, values in _of_type(document["pages"], dict).items():
            if scope.admit(url) is None:
                raise ValueError(f"it lists {url[:200]!r}, which is not on the site")
            final_url, status, body, error, etag, modified = _of_type(values, list)
            pages[url] = PlannedPage(
                Answer(
                    _of_type(final_url, str | None),
                    _of_type(status, int | None),
                    _of_type(body, str | None),
                    _of_type(error, str | None),
                ),
                _of_type(etag, str | None),
                _of_type(modified, str | None),
            )
        problems = _of_type(document["problems"], list)
        return cls(
            _of_type(document["version"], str),
            pages,
            _of_type(document["programmes"], int),
            _of_type(document["failed_pages"], int),
            [_of_type(problem, str) for problem in problems],
            _of_type(document["records_sha256"], str | None),
        )

    def not_modified_answer(self, url: str, final_url: str) -> Answer:
        """The answer a ``304 Not Modified`` for *url* (reached at *final_url*) stands for."""
        self.not_modified += 1
        planned = self.pages[url].answer
        return Answer(final_url, planned.status, planned.body_sha256, planned.error)

    def observe(self, url: str, answer: Answer) -> bool:
        """Record *url*'s answer in this run; ``True`` when it is the first difference."""
        self.answered.add(url)
        planned = self.pages.get(url)
        if planned is not None and planned.answer.same_as(answer):
            self.confirmed[url] = answer.body_sha256
            return False
        self.differences += 1
        if self.changed is not None:
            return False
        self.changed = f"{url} {planned.answer.difference(answer) if planned else 'is new'}"
        return True

    @property
    def complete(self) -> bool:
        """Every page of the plan answered."""
        return len(self.answered) == len(self.pages)

    @property
    def unchanged(self) -> bool:
        """Every page answered as before."""
        return self.changed is None and len(self.confirmed) == len(self.pages)

    def summary(self) -> QuickCheckSummary:
        return QuickCheckSummary(
            self.version,
            len(self.pages),
            len(self.confirmed),
            self.not_modified,
            self.changed,
            self.replayed,
            self.not_replayed,
            self.direct,
        )


@dataclass(frozen=True, slots=True)
class QuickCheckSummary:
    """What a run's quick check found (in the run's outcome and report)."""

    version: str  # the version whose plan was checked
    pages: int  # pages in the plan
    confirmed: int  # pages that answered as before
    not_modified: int  # of which with a 304
    changed: str | None  # the first page that answered differently, and how
    replayed: int = 0  # pages the crawl replayed from the last crawl's records, not fetched
    not_replayed: str | None = None  # why the last crawl's records were not used, if they were not
    direct: int = 0  # answers taken from requests sent straight, not through Scrapy
