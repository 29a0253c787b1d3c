"""Extraction of a programme page: labelled fields and description, by label text in document order.

Pure and crawl-free: build a :class:`ProgrammePage` from any :class:`~scrapy.http.HtmlResponse`
(or a parsel ``Selector``), read its properties, or let :meth:`ProgrammePage.to_item` build the
:class:`~exitscrape.items.ProgrammeItem`. Every value comes out cleaned (see
:mod:`exitscrape.extraction.text`); nothing downstream cleans it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from lxml import etree
from parsel import Selector

from exitscrape.extraction.lines import Line, flatten, render_blocks
from exitscrape.extraction.links import content_scope
from exitscrape.extraction.text import clean_text, label_key
from exitscrape.items import ProgrammeItem

#: Label texts (compared case-folded, without a trailing colon) and the field each one names.
LABELS: dict[str, str] = {
    **dict.fromkeys(
        ["name", "programme name", "program name", "name of the programme", "name of programme"],
        "name",
    ),
    **dict.fromkeys(["country", "countries", "country of implementation"], "country"),
    **dict.fromkeys(
        ["target audience", "target audiences", "target group", "target groups", "audience"],
        "target_audience",
    ),
    **dict.fromkeys(
        [
            "organisation",
            "organization",
            "organisations",
            "organizations",
            "organisation(s)",
            "organization(s)",
            "implementing organisation",
            "implementing organization",
        ],
        "organisation",
    ),
    **dict.fromkeys(["objectives", "objective", "aims", "aims and objectives"], "objectives"),
    **dict.fromkeys(["description", "programme description", "program description"], "description"),
}
FIELDS = ("name", "target_audience", "organisation", "objectives")

_INLINE_LABEL = re.compile(
    r"^(?P<label>" + "|".join(re.escape(k) for k in sorted(LABELS, key=len, reverse=True)) + r")"
    r"\s*[:：]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# A country line is a short name, not a sentence.
_MAX_COUNTRY_CHARS = 60
_MAX_COUNTRY_WORDS = 6
_OBJECTIVE_SPLIT = re.compile(r"\s*[;\n]\s*")
_BULLET = re.compile(r"^(?:[-–—•·*]|\d+[.)])\s+")
# ``h1, h2`` and their text, compiled once (parsel compiles its queries on every call).
_HEADINGS = etree.XPath("descendant-or-self::h1 | descendant-or-self::h2")
_STRING = etree.XPath("string()", smart_strings=False)


def split_objectives(value: str | None) -> list[str]:
    """Objectives as a list: split on ``;`` and line breaks, bullets and end punctuation dropped."""
    if not value:
        return []
    items = (clean_text(_BULLET.sub("", part.strip())) for part in _OBJECTIVE_SPLIT.split(value))
    return [item.rstrip(" ;,") for item in items if item and item.rstrip(" ;,.")]


@dataclass(frozen=True, slots=True)
class _Label:
    field: str
    rest: str | None


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A page read label by label."""

    values: dict[str, list[str]]  # the lines of each field's value
    description_at: int | None  # index of the first line after the Description label
    first_label: int | None  # index of the first labelled line


def _match_label(line: Line) -> _Label | None:
    """The label a line starts with: the whole line, a bold lead, or ``Label: value``."""
    field = LABELS.get(label_key(line.text))
    if field:
        return _Label(field, None)
    if line.lead and (field := LABELS.get(label_key(line.lead))):
        rest = line.text[len(line.lead) :] if line.text.startswith(line.lead) else ""
        return _Label(field, clean_text(rest.lstrip(" :：-–—")))
    if match := _INLINE_LABEL.match(line.text):
        return _Label(LABELS[label_key(match["label"])], clean_text(match["rest"]))
    return None


class ProgrammePage:
    """A page of the site read as a programme page; ``is_programme`` says whether it is one."""

    def __init__(self, selector: Selector) -> None:
        self._selector = selector

    @classmethod
    def from_html(cls, html: str) -> ProgrammePage:
        return cls(Selector(text=html))

    @cached_property
    def _content(self) -> Selector:
        """The page body: ``#wsite-content`` (see :func:`content_scope`)."""
        return content_scope(self._selector)

    @cached_property
    def _lines(self) -> list[Line]:
        return flatten(self._content.root)

    @cached_property
    def _parsed(self) -> _Parsed:
        """Field values, the index of the first description line, the first label's index."""
        lines = self._lines
        matched: dict[int, _Label | None] = {}  # each line is looked at up to twice

        def label_at(k: int) -> _Label | None:
            if k not in matched:
                matched[k] = _match_label(lines[k])
            return matched[k]

        values: dict[str, list[str]] = {}
        first_label: int | None = None
        i = 0
        while i < len(lines):
            label = label_at(i)
            if label is None:
                i += 1
                continue
            if first_label is None:
                first_label = i
            if label.field == "description":
                values.setdefault("description", [label.rest] if label.rest else [])
                return _Parsed(values, i + 1, first_label)
            found = [label.rest] if label.rest else []
            unit = lines[i].unit
            j = i + 1
            # The value follows in the label's own cell or block ...
            while j < len(lines) and lines[j].unit == unit and label_at(j) is None:
                found.append(lines[j].text)
                j += 1
            # ... or, when that holds nothing more, in the next cell, block or whole list.
            if not found and j < len(lines) and label_at(j) is None:
                unit, in_list = lines[j].unit, lines[j].list
                while (
                    j < len(lines)
                    and (lines[j].unit == unit or (in_list and lines[j].list == in_list))
                    and label_at(j) is None
                ):
                    found.append(lines[j].text)
                    j += 1
            values.setdefault(label.field, found)
            i = j
        return _Parsed(values, None, first_label)

    def _value(self, field: str) -> str | None:
        found = self._parsed.values.get(field)
        return clean_text(" ".join(found)) if found else None

    @cached_property
    def is_programme(self) -> bool:
        """A programme page carries at least one labelled field or a Description."""
        parsed = self._parsed
        return parsed.description_at is not None or any(f in parsed.values for f in FIELDS)

    @cached_property
    def title(self) -> str | None:
        """The page's ``h2`` title, else ``<title>`` without the site name."""
        for heading in _HEADINGS(self._content.root):
            text = clean_text(_STRING(heading))
            if text and label_key(text) not in LABELS:
                return text
        title = clean_text(self._selector.xpath("string(//title)").get())
        if not title:
            return None
        site = clean_text(self._selector.css('meta[property="og:site_name"]::attr(content)').get())
        parts = [p for p in re.split(r"\s+[-–|]\s+", title) if p != (site or "Exit Practices")]
        return clean_text(" - ".join(parts)) or title

    @property
    def name(self) -> str | None:
        """The Name field, else the page title."""
        return self._value("name") or self.title

    @property
    def target_audience(self) -> str | None:
        return self._value("target_audience")

    @property
    def organisation(self) -> str | None:
        return self._value("organisation")

    @property
    def objectives_text(self) -> str | None:
        """Objectives as the page writes them: items separated by ``;`` or line breaks (kept)."""
        found = self._parsed.values.get("objectives")
        return "\n".join(found) if found else None

    @property
    def objectives(self) -> list[str]:
        """One string per objective (see :func:`split_objectives`)."""
        return split_objectives(self.objectives_text)

    @property
    def country(self) -> str | None:
        """The Country field, else the short line (beside the flag) before the first label."""
        if value := self._value("country"):
            return value
        parsed = self._parsed
        end = parsed.first_label if parsed.first_label is not None else parsed.description_at
        title = self.title
        for line in self._lines[: end or 0]:
            text = line.text
            if text == title or line.item is not None:
                continue
            if len(text) <= _MAX_COUNTRY_CHARS and len(text.split()) <= _MAX_COUNTRY_WORDS:
                return text
        return None

    @property
    def description(self) -> str | None:
        """Plain text after the Description label: paragraphs, ``- item`` lists, sub-headings."""
        parsed = self._parsed
        if parsed.description_at is None:
            return None
        lines = self._lines[parsed.description_at :]
        head = parsed.values.get("description") or []
        text = render_blocks(lines)
        if head:
            return "\n\n".join(filter(None, [head[0], text]))
        return text

    def to_item(self, url: str, fetched_at: datetime) -> ProgrammeItem:
        """The page's programme, as found at *url* (fetched at *fetched_at*)."""
        return ProgrammeItem(
            url=url,
            fetched_at=fetched_at,
            title=self.title,
            name=self.name,
            country=self.country,
            target_audience=self.target_audience,
            organisation=self.organisation,
            objectives=self.objectives,
            description=self.description,
        )
