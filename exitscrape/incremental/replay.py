"""Replay: a rerun uses again what the last crawl derived from the pages that did not change.

A crawl's output is a function of the answers it gets (:mod:`exitscrape.incremental.quickcheck`),
so a page that answers with the same body yields the same records: its page record (with its
links), its programme item, the menu if it came from there. Beside the quick-check plan, the
crawl that publishes a version leaves those records (:data:`RECORDS_FILE`), for every page that
answered ``200`` at the URL asked for, was parsed without error, and whose exchange is in the
version's captures (with where it is: its :data:`~exitscrape.evidence.writer.Span`).

When the quick check finds a difference, the crawl that follows replays every page the check
confirmed (same body hash) from these records: no request, no cache read, no parsing; their
captures are copied from the latest version's (same record, same date), so the new version's
captures still hold every body it was built from. Pages that changed, are new, or answered
anything but a plain ``200`` are crawled as usual; links are followed from replayed pages as
from crawled ones, so only pages reachable from the start URL are in the output, as in a full
crawl. :class:`~exitscrape.incremental.middleware.QuickCheckMiddleware` does the replaying.

The records are read as untrusted input (they live in the cache dir): they are used only when
each agrees with the latest version, which the quick check verified: its row in the pages table
(final URL, status, body hash, media type, WARC record), its programme's text (the
``content_sha256`` of its row, or of a differing copy at that URL), and its span in the
captures (a response record with its record ID, ending where a record starts). Anything else:
no replay, the crawl proceeds as before (slower, never wrong). The links of a page cannot be
checked against the version (the pages table does not hold them): a page's links come from its
records as they were written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from scrapy.settings import BaseSettings

from exitscrape.dataset.files import atomic_write, make_dirs, open_regular, read_regular
from exitscrape.dataset.records import (
    CrawlRecords,
    content_sha256,
    programme_from_values,
    programme_values,
)
from exitscrape.dataset.store import DatasetError, DatasetStore
from exitscrape.evidence.writer import CAPTURES_FILE, Span
from exitscrape.incremental.cache import cache_dir
from exitscrape.items import HTML_MEDIA_TYPES, Category, PageItem, ProgrammeItem, SiteMenu

logger = logging.getLogger(__name__)

RECORDS_FILE = "quick-check-records.json"
_RECORDS_LIMIT = 1 << 30
_FORMAT = 1
#: The page record's fields kept (its referer is this run's; error and archive fields are empty).
_PAGE_FIELDS = (
    "url",
    "final_url",
    "status",
    "fetched_at",
    "content_type",
    "body_sha256",
    "is_programme",
    "links",
    "etag",
    "last_modified",
    "warc_record_id",
)
#: The pages table's columns a page record must agree with.
_CHECKED = ("final_url", "status", "body_sha256", "content_type", "warc_record_id")


@dataclass(frozen=True, slots=True)
class Derived:
    """What the last crawl derived from one page's response."""

    page: PageItem  # referer unset: the page that links to it in this run
    programme: ProgrammeItem | None
    menu: SiteMenu | None  # when the crawl read the menu from this page
    span: Span  # its exchange in the latest version's captures


def replayable(page: PageItem) -> bool:
    """A page whose records can stand for its answer: a plain ``200`` for a web page, parsed."""
    return (
        page.status == 200
        and page.final_url == page.url
        and page.error is None
        and not page.skipped
        and page.body_sha256 is not None
        and page.warc_record_id is not None
        and page.captured_at is None  # the live site's answer, not an archive's
        and (page.content_type is None or page.content_type in HTML_MEDIA_TYPES)
    )


def records_path(settings: BaseSettings) -> Path:
    return cache_dir(settings) / RECORDS_FILE


def write_records(
    settings: BaseSettings, records: CrawlRecords, spans: Mapping[str, Span]
) -> str | None:
    """Write the replayable pages' records of *records*, whose exchanges *spans* locates in the
    latest version's captures; their file's SHA-256 (for the plan), or ``None`` when none.

    Written one page at a time (a programme's text read back from the spool, dumped, written):
    memory holds one page's records, not the catalogue's (BENCHMARKS.md, "Memory")."""
    programmes = {stub.url: stub for stub in records.stubs}
    met = Counter(page.url for page in records.pages)
    menu = records.menu
    digest = hashlib.sha256()
    written = 0

    def write(file: BinaryIO) -> None:
        nonlocal written

        def put(data: bytes) -> None:
            digest.update(data)
            file.write(data)

        put(b'{"format": %d, "pages": {' % _FORMAT)
        for page in records.pages:
            span = spans.get(page.warc_record_id or "")
            stub = programmes.get(page.url)
            if (
                met[page.url] > 1  # met twice (a redirect to it, say): not a plain answer
                or span is None
                or not replayable(page)
                or page.is_programme != (stub is not None)
            ):
                continue
            entry = {
                "page": [_json_value(getattr(page, name)) for name in _PAGE_FIELDS],
                "programme": programme_values(records.programme(stub)) if stub else None,
                "menu": _menu_values(menu) if menu and menu.url == page.url else None,
                "span": list(span),
            }
            put(b", " if written else b"")
            put(json.dumps(page.url).encode() + b": " + json.dumps(entry).encode())
            written += 1
        put(b"}}")

    path = records_path(settings)
    make_dirs(path.parent)  # a crawl without the HTTP cache has no cache dir yet
    atomic_write(path, write)
    return digest.hexdigest() if written else None


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _menu_values(menu: SiteMenu) -> dict[str, Any]:
    return {
        "categories": {
            url: [c.setting, c.ideology, c.region] for url, c in menu.categories.items()
        },
        "links": menu.links,
    }


class ReplayRefused(ValueError):
    """The records cannot stand for the pages: why, in words."""


class Replay:
    """The confirmed pages' records, checked against the latest version (see the module
    docstring); :meth:`take` hands each out once."""

    def __init__(self, pages: dict[str, Derived], captures: Path) -> None:
        self.pages = pages
        self.captures = captures
        #: Response record ID -> span, of every page replayed (in the latest version's captures).
        self.spans: dict[str, Span] = {}

    def take(self, url: str) -> Derived | None:
        derived = self.pages.pop(url, None)
        if derived is not None and derived.page.warc_record_id:
            self.spans[derived.page.warc_record_id] = derived.span
        return derived

    @classmethod
    def load(
        cls,
        settings: BaseSettings,
        records_sha256: str,
        confirmed: Mapping[str, str | None],
        store: DatasetStore,
        version: str,
    ) -> Replay:
        """The records of the pages *confirmed* (URL -> body hash found this run) for the
        latest *version*; :class:`ReplayRefused` when they cannot be used."""
        path = records_path(settings)
        try:
            data = read_regular(path, _RECORDS_LIMIT)
        except OSError as error:
            raise ReplayRefused(f"cannot read {path}: {error}") from None
        if hashlib.sha256(data).hexdigest() != records_sha256:
            raise ReplayRefused(f"{path} is not the one the plan was written with")
        try:
            document = json.loads(data)
            if not isinstance(document, dict) or document.get("format") != _FORMAT:
                raise ReplayRefused(f"{path} has another format")
            pages = {
                url: _derived(url, values)
                for url, values in document["pages"].items()
                if url in confirmed
            }
        except (KeyError, TypeError, ValueError) as error:
            raise ReplayRefused(f"{path} is malformed: {error}") from None
        pages = {url: d for url, d in pages.items() if d.page.body_sha256 == confirmed[url]}
        captures = store.root / version / CAPTURES_FILE
        _agree(pages, store, version)
        _check_spans(pages.values(), captures)
        return cls(pages, captures)


def _derived(url: str, values: Any) -> Derived:
    if not isinstance(values, dict):
        raise ValueError("a page's records are not an object")
    fields = values["page"]
    if not isinstance(fields, list) or len(fields) != len(_PAGE_FIELDS):
        raise ValueError("a page record is malformed")
    named = dict(zip(_PAGE_FIELDS, fields, strict=True))
    if named["url"] != url or not isinstance(named["fetched_at"], str):
        raise ValueError("a page record is malformed")
    links = named["links"]
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        raise ValueError("a page's links are not URLs")
    for name in ("etag", "last_modified"):
        if not isinstance(named[name], str | None):
            raise ValueError(f"a page's {name} is not text")
    if not isinstance(named["is_programme"], bool):
        raise ValueError("a page record is malformed")
    named["fetched_at"] = datetime.fromisoformat(named["fetched_at"])
    page = PageItem(**named)
    programme = programme_from_values(values["programme"]) if values["programme"] else None
    if programme is not None and (programme.url != url or not page.is_programme):
        raise ValueError("a programme record is not its page's")
    span = values["span"]
    if not (
        isinstance(span, list) and len(span) == 2 and all(type(n) is int and n >= 0 for n in span)
    ):
        raise ValueError("a capture's place is malformed")
    menu = _menu(url, values["menu"]) if values["menu"] is not None else None
    return Derived(page, programme, menu, (span[0], span[1]))


def _menu(url: str, values: Any) -> SiteMenu:
    categories = {}
    for link, names in values["categories"].items():
        if not (isinstance(names, list) and len(names) == 3):
            raise ValueError("a menu category is malformed")
        if not all(isinstance(name, str | None) for name in names):
            raise ValueError("a menu category is malformed")
        categories[link] = Category(*names)
    links = values["links"]
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        raise ValueError("the menu's links are not URLs")
    return SiteMenu(url=url, categories=categories, links=links)


def _agree(pages: dict[str, Derived], store: DatasetStore, version: str) -> None:
    """:class:`ReplayRefused` unless every record agrees with *version*'s tables. A programme
    page that no programme row holds (a menu page that reads like one, say) cannot be checked:
    it is left out of *pages*, to be crawled."""
    try:
        rows = store.read("pages", version, ["url", *_CHECKED]).to_pylist()
        programmes = store.read(
            "programmes", version, ["source_urls", "content_sha256", "differing_copies"]
        )
    except (OSError, DatasetError) as error:
        raise ReplayRefused(f"cannot read version {version}: {error}") from None
    answers = {row.pop("url"): row for row in rows}
    texts: dict[str, set[str]] = {}
    for row in programmes.to_pylist():
        for url in row["source_urls"]:
            texts.setdefault(url, set()).add(row["content_sha256"])
        for copy in row.get("differing_copies") or []:
            texts.setdefault(copy["url"], set()).add(copy["content_sha256"])
    for url, derived in list(pages.items()):
        recorded = {name: getattr(derived.page, name) for name in _CHECKED}
        if answers.get(url) != recorded:
            raise ReplayRefused(f"the records of {url} disagree with version {version}")
        programme = derived.programme
        if programme is None:
            continue
        if url not in texts:
            del pages[url]
        elif content_sha256(programme) not in texts[url]:
            raise ReplayRefused(f"the programme at {url} disagrees with version {version}")


_GZIP_MAGIC = b"\x1f\x8b"


def _check_spans(pages: Iterable[Derived], captures: Path) -> None:
    """:class:`ReplayRefused` unless each span starts with its response record and ends where a
    record starts (or the file ends)."""
    try:
        with open_regular(captures) as file:
            for derived in pages:
                offset, length = derived.span
                file.seek(offset)
                head = file.read(min(length, 4096))
                file.seek(offset + length)
                after = file.read(2)
                try:
                    header = zlib.decompressobj(31).decompress(head, 2048)
                except zlib.error:
                    header = b""
                record_id = f"WARC-Record-ID: {derived.page.warc_record_id}\r\n".encode()
                if not (
                    head.startswith(_GZIP_MAGIC)
                    and after in (b"", _GZIP_MAGIC)
                    and header.startswith(b"WARC/")
                    and b"\r\nWARC-Type: response\r\n" in header.split(b"\r\n\r\n")[0]
                    and record_id in header
                ):
                    raise ReplayRefused(f"{captures} does not hold {derived.page.url} where said")
    except OSError as error:
        raise ReplayRefused(f"cannot read {captures}: {error}") from None
