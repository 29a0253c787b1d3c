"""What one crawl met, gathered for assembly: the menu, every page, and the programme items
spooled to disk (as JSON lines: data that cannot execute anything when read back)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from exitscrape.items import PageItem, ProgrammeItem, SiteMenu, programme_key

#: The fields that say what a programme is; their hash tells copies and edits apart.
CONTENT_FIELDS = ("name", "country", "target_audience", "organisation", "objectives", "description")


#: A spooled item is the JSON list of these fields' values (``fetched_at`` in ISO 8601).
_SPOOLED = tuple(f.name for f in fields(ProgrammeItem))
_FETCHED_AT = _SPOOLED.index("fetched_at")
_TEXT = frozenset(_SPOOLED) - {"fetched_at", "objectives", "references"}


def programme_values(item: ProgrammeItem) -> list[Any]:
    """*item* as a JSON-ready list (the spool's lines, the quick-check plan's records)."""
    values = [getattr(item, name) for name in _SPOOLED]
    values[_FETCHED_AT] = item.fetched_at.isoformat()
    return values


def programme_from_values(values: Any) -> ProgrammeItem:
    """The item :func:`programme_values` gave *values* for; :class:`ValueError` when *values*
    (read from a file: untrusted) are not such a list."""
    if not isinstance(values, list) or len(values) != len(_SPOOLED):
        raise ValueError("not a programme record")
    named = dict(zip(_SPOOLED, values, strict=True))
    for name in _TEXT:
        if not isinstance(named[name], str | None):
            raise ValueError(f"a programme record's {name} is not text")
    if not isinstance(named["url"], str) or not isinstance(named["fetched_at"], str):
        raise ValueError("a programme record lacks its URL or date")
    if not all(isinstance(line, str) for line in _list(named["objectives"])):
        raise ValueError("a programme record's objectives are not text")
    for reference in _list(named["references"]):
        if not (
            isinstance(reference, dict)
            and set(reference) == {"author", "year"}
            and isinstance(reference["author"], str)
            and type(reference["year"]) is int
        ):
            raise ValueError("a programme record's references are malformed")
    fetched_at = datetime.fromisoformat(named.pop("fetched_at"))
    if fetched_at.tzinfo is None:
        raise ValueError("a programme record's date has no time zone")
    return ProgrammeItem(fetched_at=fetched_at, **named)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("a programme record holds a value where a list belongs")
    return value


def _spooled(item: ProgrammeItem) -> bytes:
    return json.dumps(programme_values(item)).encode() + b"\n"


def _unspooled(line: bytes) -> ProgrammeItem:
    values = json.loads(line)
    values[_FETCHED_AT] = datetime.fromisoformat(values[_FETCHED_AT])
    return ProgrammeItem(*values)


def content_sha256(item: ProgrammeItem) -> str:
    content = {name: getattr(item, name) for name in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ProgrammeStub:
    """What assembly needs of one programme page to group and choose; the item is on disk."""

    url: str
    name: str | None
    country: str | None
    country_code: str | None
    fetched_at: datetime
    content_sha256: str
    offset: int  # where the item starts in the spool

    @property
    def key(self) -> tuple[str, str]:
        """Programmes with equal keys are copies of one programme."""
        return programme_key(self.name, self.country, self.country_code)


class CrawlRecords:
    """Everything one crawl met, as the spider reported it.

    Programme items, the bulk of a crawl (their text), go to a temporary spool file as they
    arrive and are read back one at a time while the tables are built, so memory holds a small
    :class:`ProgrammeStub` per programme page rather than every description (BENCHMARKS.md).
    """

    def __init__(self) -> None:
        self.menu: SiteMenu | None = None
        self.pages: list[PageItem] = []
        self.page_urls: set[str] = set()  # the URLs met: one row each in the pages table
        self.stubs: list[ProgrammeStub] = []
        # Open as long as the records live: closed by close(), or when they are collected.
        self._spool = tempfile.TemporaryFile(prefix="exitscrape-records-")  # noqa: SIM115

    def add(self, item: object) -> None:
        if isinstance(item, ProgrammeItem):
            offset = self._spool.seek(0, os.SEEK_END)
            self._spool.write(_spooled(item))
            self.stubs.append(
                ProgrammeStub(
                    url=item.url,
                    name=item.name,
                    country=item.country,
                    country_code=item.country_code,
                    fetched_at=item.fetched_at,
                    content_sha256=content_sha256(item),
                    offset=offset,
                )
            )
        elif isinstance(item, PageItem):
            self.pages.append(item)
            self.page_urls.add(item.url)
        elif isinstance(item, SiteMenu) and self.menu is None:
            self.menu = item

    def programme(self, stub: ProgrammeStub) -> ProgrammeItem:
        """The item *stub* stands for, read back from the spool."""
        self._spool.seek(stub.offset)
        return _unspooled(self._spool.readline())

    @property
    def programmes(self) -> Iterator[ProgrammeItem]:
        """Every programme item, in arrival order, read back from the spool."""
        return (self.programme(stub) for stub in self.stubs)

    def close(self) -> None:
        """Delete the spool (also done when the records are garbage-collected)."""
        self._spool.close()
