"""Assemble a crawl's records into the dataset's tables.

Pure and order-independent: the same pages (and the same previous version) give the same rows,
whatever order they came in. A programme found at several URLs (Weebly copies a page into each
category) becomes one row carrying every URL and every category of the pages that list it. When
its copies' texts differ (an editor changed one copy only), the row holds the newest text
(:func:`choose`) and names the other copies in ``differing_copies``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import itertools
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import pyarrow as pa

from exitscrape.dataset.records import CONTENT_FIELDS, CrawlRecords, ProgrammeStub
from exitscrape.dataset.schema import PAGES, PROGRAMMES, VOLATILE_COLUMNS
from exitscrape.items import HTML_MEDIA_TYPES, IDEOLOGIES, REGIONS, SETTINGS, Category

# Arrow's default allocator (mimalloc) keeps what it frees: a table built in one go from 10,000
# programme rows took 2.5 times its own size at its peak. Built a slice of rows at a time with the
# system allocator, the peak stays near the table's size (BENCHMARKS.md, "Memory").
_POOL = pa.system_memory_pool()
_BATCH_ROWS = 1000
UNRECOGNISED = "linked from a category page but no programme fields found"


@dataclass(frozen=True, slots=True)
class DifferingCopy:
    """A copy of a programme whose text differs from the one its row holds."""

    url: str
    fields: list[str]  # the content fields it differs on
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A programme whose copies' texts differ: the copy the row holds, why, and the others."""

    programme_id: str
    name: str
    kept: str  # the URL whose text the row holds
    why: str  # why that copy's text, in words
    copies: list[DifferingCopy]


@dataclass
class Tables:
    programmes: pa.Table
    pages: pa.Table
    digest: str
    warnings: list[str]
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def as_dict(self) -> dict[str, pa.Table]:
        return {"programmes": self.programmes, "pages": self.pages}


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


class RowsDigest:
    """SHA-256 of programme rows without volatile columns: equal digests, equal data.

    The hash of the JSON list of the rows, fed one row at a time: the whole document is never
    held in memory (at 10,000 programmes it would take 60 MB at the end of the crawl).
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self._rows = 0

    def update(self, row: dict[str, Any]) -> None:
        stable = {k: v for k, v in row.items() if k not in VOLATILE_COLUMNS}
        if self._rows:
            self._hash.update(b", ")
        self._hash.update(
            json.dumps(stable, sort_keys=True, default=str, ensure_ascii=False).encode()
        )
        self._rows += 1

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(b"]")
        return final.hexdigest()


def _ordered(values: set[str], order: tuple[str, ...]) -> list[str]:
    return [v for v in order if v in values] + sorted(values - set(order))


class LinkGraph:
    """The crawled pages as a graph: redirects, links, and the categories of the pages that
    stand for one (menu pages, and the pages continuing them)."""

    def __init__(self, records: CrawlRecords) -> None:
        self.final = {p.url: p.final_url for p in records.pages if p.final_url}
        menu = records.menu
        self.menu_urls = {self.resolve(u) for u in (menu.links if menu else [])}
        # Programme pages are listed by category pages, never in the menu: a menu page that
        # reads like one (a "Description" heading on an about page, say) is not a programme.
        self.programme_urls = {stub.url for stub in records.stubs} - self.menu_urls
        self.links: dict[str, set[str]] = defaultdict(set)
        for page in records.pages:
            if page.final_url:
                self.links[page.final_url].update(self.resolve(u) for u in page.links)
        self.categories: dict[str, list[Category]] = defaultdict(list)
        for url, category in (menu.categories if menu else {}).items():
            self.categories[self.resolve(url)].append(category)
        self._inherit()

    def resolve(self, url: str) -> str:
        return self.final.get(url, url)

    def _inherit(self) -> None:
        """Pages outside the menu that list programmes for a category page (its page 2, say)
        belong to that page's categories."""
        changed = True
        while changed:
            changed = False
            for source, targets in sorted(self.links.items()):
                if source not in self.categories or source in self.programme_urls:
                    continue
                for target in sorted(targets):
                    if (
                        target in self.menu_urls
                        or target in self.programme_urls
                        or target in self.categories
                        or not (self.links.get(target, set()) & self.programme_urls)
                    ):
                        continue
                    self.categories[target] = list(self.categories[source])
                    changed = True

    def listed_by(self) -> dict[str, list[Category]]:
        """For every programme URL, the categories of the pages linking to it."""
        found: dict[str, list[Category]] = defaultdict(list)
        for source, targets in self.links.items():
            if source in self.programme_urls:
                continue
            for target in targets & self.programme_urls:
                found[target].extend(self.categories.get(source, []))
        return found


@dataclass(frozen=True)
class PreviousCopies:
    """What the previous version held at each URL: the text (its content hash) of every copy,
    and the text its row held."""

    copy: dict[str, str]  # URL -> content_sha256 of the copy found there
    kept: dict[str, str]  # URL -> content_sha256 of the text the programme's row held

    @classmethod
    def of(cls, table: pa.Table | None) -> PreviousCopies | None:
        """From the previous version's programmes (any schema version); ``None`` without one."""
        if table is None:
            return None
        wanted = ("source_urls", "content_sha256", "differing_copies")
        names = [n for n in wanted if n in table.schema.names]
        copy: dict[str, str] = {}
        kept: dict[str, str] = {}
        for row in table.select(names).to_pylist():
            for url in row["source_urls"]:
                copy[url] = kept[url] = row["content_sha256"]
            for other in row.get("differing_copies") or []:
                copy[other["url"]] = other["content_sha256"]
        return cls(copy, kept)


def _timestamp(last_modified: str | None) -> float:
    """A ``Last-Modified`` header as a POSIX timestamp; -inf when missing or unreadable."""
    try:
        when = parsedate_to_datetime(last_modified or "")
    except (TypeError, ValueError, IndexError, OverflowError):
        return float("-inf")
    return when.replace(tzinfo=when.tzinfo or UTC).timestamp()


#: The rule's steps, in order, as :func:`choose` words them.
_WHY = (
    "changed since the previous version",
    "the text the previous version held",
    "the latest Last-Modified",
    "the first URL in sort order",
)


def choose(
    variants: list[ProgrammeStub],
    previous: PreviousCopies | None,
    last_modified: dict[str, str | None],
) -> tuple[ProgrammeStub, str]:
    """The copy whose text speaks for a programme, and why: the newest text. A copy that changed
    since the previous version (or is new in it) beats one that did not; then the copy whose
    text the previous version held; then the latest ``Last-Modified`` of its page; then the
    first URL in sort order."""

    def rank(stub: ProgrammeStub) -> tuple[bool, bool, float, str]:
        changed = previous is not None and previous.copy.get(stub.url) != stub.content_sha256
        held = previous is not None and previous.kept.get(stub.url) == stub.content_sha256
        return (not changed, not held, -_timestamp(last_modified.get(stub.url)), stub.url)

    ranked = sorted(variants, key=rank)
    chosen = ranked[0]
    others = [v for v in ranked if v.content_sha256 != chosen.content_sha256]
    if not others:
        return chosen, ""
    first, runner_up = rank(chosen), rank(others[0])
    step = next(i for i in range(len(first)) if first[i] != runner_up[i])
    return chosen, _WHY[step]


@dataclass(frozen=True, slots=True)
class _Programme:
    """One programme: its id, the copy that speaks for it, all its copies, and those whose text
    differs."""

    programme_id: str
    chosen: ProgrammeStub
    copies: list[ProgrammeStub]
    differing: list[DifferingCopy]


@dataclass
class ProgrammeRows:
    rows: Iterator[dict[str, Any]]  # in ``programme_id`` order, read from the spool
    disagreements: list[Disagreement]  # programmes whose copies differ


def _differing(
    records: CrawlRecords, chosen: ProgrammeStub, variants: list[ProgrammeStub]
) -> list[DifferingCopy]:
    """The copies whose text differs from *chosen*'s, with the fields they differ on."""
    kept = records.programme(chosen)
    copies = []
    for variant in sorted(variants, key=lambda v: v.url):
        if variant.content_sha256 == chosen.content_sha256:
            continue
        item = records.programme(variant)
        fields = [f for f in CONTENT_FIELDS if getattr(item, f) != getattr(kept, f)]
        copies.append(DifferingCopy(variant.url, fields, variant.content_sha256))
    return copies


def programme_rows(
    records: CrawlRecords, graph: LinkGraph, previous: PreviousCopies | None = None
) -> ProgrammeRows:
    """The programme rows, one per programme however many copies the site has of it."""
    groups: dict[tuple[str, str], list[ProgrammeStub]] = defaultdict(list)
    for stub in records.stubs:
        if stub.url in graph.programme_urls:
            groups[stub.key].append(stub)
    listed_by = graph.listed_by()
    last_modified = {p.final_url: p.last_modified for p in records.pages if p.final_url}
    programmes: list[_Programme] = []
    disagreements: list[Disagreement] = []
    ids: Counter[str] = Counter()
    for _, variants in sorted(groups.items()):
        chosen, why = choose(variants, previous, last_modified)
        country = chosen.country_code.lower() if chosen.country_code else slug(chosen.country or "")
        programme_id = f"{slug(chosen.name or '')}-{country}"
        ids[programme_id] += 1
        if ids[programme_id] > 1:
            programme_id += f"-{ids[programme_id]}"
        differing = _differing(records, chosen, variants) if why else []
        if differing:
            disagreements.append(
                Disagreement(programme_id, chosen.name or "", chosen.url, why, differing)
            )
        programmes.append(_Programme(programme_id, chosen, variants, differing))
    programmes.sort(key=lambda programme: programme.programme_id)
    disagreements.sort(key=lambda d: d.programme_id)

    def rows() -> Iterator[dict[str, Any]]:
        for programme in programmes:
            stub, variants = programme.chosen, programme.copies
            chosen = records.programme(stub)
            categories = [c for v in variants for c in listed_by.get(v.url, [])]
            yield {
                "programme_id": programme.programme_id,
                "name": chosen.name,
                "country": chosen.country,
                "country_code": chosen.country_code,
                "target_audience": chosen.target_audience,
                "organisation": chosen.organisation,
                "objectives": list(chosen.objectives or []),
                "description": chosen.description,
                "references": list(chosen.references),
                "settings": _ordered({c.setting for c in categories if c.setting}, SETTINGS),
                "ideologies": _ordered({c.ideology for c in categories if c.ideology}, IDEOLOGIES),
                "regions": _ordered({c.region for c in categories if c.region}, REGIONS),
                "source_urls": sorted({v.url for v in variants}),
                "differing_copies": [
                    {"url": c.url, "fields": c.fields, "content_sha256": c.content_sha256}
                    for c in programme.differing
                ],
                "content_sha256": stub.content_sha256,
                "crawled_at": max(v.fetched_at for v in variants),
            }

    return ProgrammeRows(rows(), disagreements)


def page_rows(records: CrawlRecords, graph: LinkGraph) -> list[dict[str, Any]]:
    linked_from_category = {
        target
        for source, targets in graph.links.items()
        if graph.categories.get(source) and source not in graph.programme_urls
        for target in targets
    }
    rows: dict[str, dict[str, Any]] = {}
    for page in records.pages:
        final = page.final_url
        error = page.error
        if error and not page.skipped:
            kind = "failed"
        elif page.skipped:
            kind = "other"
        elif final in graph.programme_urls:
            kind = "programme"
        elif final in graph.categories:
            kind = "listing"
        else:
            kind = "other"
            if (
                final in linked_from_category
                and final not in graph.menu_urls
                and (page.content_type is None or page.content_type in HTML_MEDIA_TYPES)
            ):
                error = UNRECOGNISED
        row = {
            "url": page.url,
            "final_url": final,
            "status": page.status,
            "kind": kind,
            "error": error,
            "fetched_at": page.fetched_at,
            "body_sha256": page.body_sha256,
            "content_type": page.content_type,
            "referer": page.referer,
            "captured_at": page.captured_at,
            "archive_url": page.archive_url,
            "warc_record_id": page.warc_record_id,
        }
        # A URL met twice (a HEAD after a redirect, say) keeps its most informative record.
        previous = rows.get(page.url)
        if previous is None or (previous["error"] and not row["error"]):
            rows[page.url] = row
    return [rows[url] for url in sorted(rows)]


class _NoPandas(importlib.abc.MetaPathFinder):
    """An import finder that says pandas is not installed."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is hidden while the tables are built", name=name)


@contextlib.contextmanager
def _pandas_hidden() -> Iterator[None]:
    """pyarrow imports pandas (0.25 s, 40 MiB: a tenth of a small crawl) the first time it
    converts Python objects, only to ask whether they are pandas objects; none are here. Hidden
    while the tables are built, pyarrow notes it has no pandas and never asks again; converting
    a table to pandas (``exitscrape.load``) still imports it as usual."""
    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def to_table(rows: Iterable[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """The rows as a table of *schema*, converted a slice of rows at a time (see ``_POOL``)."""
    rows = iter(rows)
    batches = []
    with _pandas_hidden():
        while chunk := list(itertools.islice(rows, _BATCH_ROWS)):
            arrays = [
                pa.array([row.get(f.name) for row in chunk], f.type, memory_pool=_POOL)
                for f in schema
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def assemble(records: CrawlRecords, previous: pa.Table | None = None) -> Tables:
    """The programmes and pages tables of one crawl, with the programmes' digest; *previous* is
    the latest version's programmes, which tell which copy of a programme changed since."""
    graph = LinkGraph(records)
    programmes = programme_rows(records, graph, PreviousCopies.of(previous))
    digest = RowsDigest()

    def digested(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            digest.update(row)
            yield row

    table = to_table(digested(programmes.rows), PROGRAMMES)
    pages = page_rows(records, graph)
    warnings = [f"{row['url']}: {UNRECOGNISED}" for row in pages if row["error"] == UNRECOGNISED]
    return Tables(
        programmes=table,
        pages=to_table(pages, PAGES),
        digest=digest.hexdigest(),
        warnings=warnings,
        disagreements=programmes.disagreements,
    )
