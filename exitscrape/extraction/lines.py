"""Flatten an HTML subtree into lines of text that remember their block, table cell and list.

Weebly content is a soup of ``div.paragraph`` elements whose text is split by ``<br />``, with
lists, bold labels and multi-column tables mixed in. Extraction by label text in document order
needs exactly what this module keeps: each visible line, the bold run it starts with (a label
candidate), the block and table cell it belongs to, and whether it is a heading or a list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from exitscrape.extraction.text import clean_text

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "iframe", "svg", "select", "option", "head"]
)
# Weebly widgets that navigate or share, never content: buttons ("Read more", "Back").
_NAVIGATION_CLASSES = re.compile(r"\bwsite-(?:button|social|menu)\b")
_BOLD_TAGS = frozenset(["strong", "b", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "th"])
_HEADING_TAGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_CELL_TAGS = frozenset(("td", "th"))
_LIST_TAGS = frozenset(("ul", "ol"))


@dataclass(frozen=True, slots=True)
class Line:
    """One visible line of text.

    ``block`` changes at every block element and at a blank line (``<br /><br />``);
    ``cell`` is the enclosing table cell (or ``None``); ``item`` is the enclosing ``li``'s
    number and ``list`` its list's (``None`` outside lists); ``lead`` is the bold text the line
    starts with, if any.
    """

    text: str
    lead: str | None
    block: int
    cell: int | None
    heading: bool
    item: int | None
    list: int | None

    @property
    def unit(self) -> tuple[str, int]:
        """The table cell holding the line, or its block outside tables."""
        return ("cell", self.cell) if self.cell is not None else ("block", self.block)


# What a tag does to the lines, as bits: one dictionary look-up per element in the hot loop.
_BLOCK, _BOLD, _HEADING, _CELL, _ITEM, _LIST, _SKIP, _BR = (1 << i for i in range(8))
_STRUCTURE = _CELL | _ITEM | _LIST
_FLAGGED: tuple[tuple[frozenset[str], int], ...] = (
    (_BLOCK_TAGS, _BLOCK),
    (_BOLD_TAGS, _BOLD),
    (_HEADING_TAGS, _HEADING),
    (_CELL_TAGS, _CELL),
    (frozenset(("li",)), _ITEM),
    (_LIST_TAGS, _LIST),
    (_SKIP_TAGS, _SKIP),
    (frozenset(("br",)), _BR),
)
_TAG_FLAGS = {
    tag: sum(flag for tags, flag in _FLAGGED if tag in tags) for tags, _ in _FLAGGED for tag in tags
}


class _Flattener:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._pieces: list[tuple[str, bool]] = []  # of the current line; cleared, never replaced
        self._visible = False  # whether a piece holds more than whitespace
        self._block = 0
        self._blank = False
        self._counter = 0
        self._bold = 0
        self._heading = 0
        self._cells: list[int] = []
        self._items: list[int] = []
        self._lists: list[int] = []

    def _add(self, text: str) -> None:
        self._pieces.append((text, self._bold > 0))
        if not self._visible and not text.isspace():
            self._visible = True

    def _flush(self) -> bool:
        """End the current line; return whether it held any text."""
        pieces = self._pieces
        if not self._visible:  # whitespace only (most flushes, between blocks): nothing to clean
            pieces.clear()
            return False
        self._visible = False
        text = clean_text("".join([t for t, _ in pieces]))
        if text is None:
            pieces.clear()
            return False
        if self._blank:
            self._counter += 1
            self._block = self._counter
            self._blank = False
        lead_parts = []
        for piece, bold in pieces:
            if not bold:
                if piece.strip():
                    break
                continue
            lead_parts.append(piece)
        pieces.clear()
        self.lines.append(
            Line(
                text,
                clean_text("".join(lead_parts)) if lead_parts else None,
                self._block,
                self._cells[-1] if self._cells else None,
                self._heading > 0,
                self._items[-1] if self._items else None,
                self._lists[-1] if self._lists else None,
            )
        )
        return True

    def _new_block(self) -> None:
        if self._pieces:
            self._flush()
        self._counter += 1
        self._block = self._counter
        self._blank = False

    def walk(self, element: etree._Element) -> None:
        # The hot loop of extraction (BENCHMARKS.md): one flag look-up, few calls per element.
        tag = element.tag
        flags = _TAG_FLAGS.get(tag.lower(), 0) if isinstance(tag, str) else _SKIP
        css = element.get("class") if not flags & _SKIP else None
        if css and "wsite-" in css and _NAVIGATION_CLASSES.search(css):
            flags = _SKIP
        if flags & (_SKIP | _BR):
            lines = self.lines
            if flags & _BR and not self._flush() and lines and lines[-1].block == self._block:
                self._blank = True  # an empty line in a block (<br /><br />): a new paragraph
            # comments, processing instructions, invisible elements, navigation: only the tail
            if tail := element.tail:
                self._add(tail)
            return
        if flags & _BLOCK:
            self._new_block()
        if flags & _BOLD:
            self._bold += 1
            if flags & _HEADING:
                self._heading += 1
        if flags & _STRUCTURE:
            self._counter += 1
            (
                self._cells if flags & _CELL else self._items if flags & _ITEM else self._lists
            ).append(self._counter)
        if text := element.text:
            self._add(text)
        for child in element:
            self.walk(child)
        if flags & _BLOCK:
            self._new_block()
        if flags & _STRUCTURE:
            (self._cells if flags & _CELL else self._items if flags & _ITEM else self._lists).pop()
        if flags & _BOLD:
            self._bold -= 1
            if flags & _HEADING:
                self._heading -= 1
        if tail := element.tail:
            self._add(tail)


def flatten(element: etree._Element) -> list[Line]:
    """The visible lines of *element*'s subtree, in document order."""
    flattener = _Flattener()
    if text := element.text:
        flattener._add(text)
    for child in element:
        flattener.walk(child)
    flattener._flush()
    return flattener.lines


def _is_subheading(line: Line) -> bool:
    """A line set wholly in bold (``<strong>Goal</strong><br />...``) heads what follows."""
    return line.lead == line.text


def render_blocks(lines: list[Line]) -> str | None:
    """Plain text: blocks separated by a blank line, list items as ``- item`` lines, headings
    and wholly bold lines as blocks of their own."""
    blocks: list[list[str]] = []
    previous: Line | None = None
    for line in lines:
        if line.item is not None:
            same_item = previous is not None and previous.item == line.item
            same_list = previous is not None and previous.list == line.list
            if same_item and previous is not None and previous.block == line.block:
                blocks[-1][-1] += " " + line.text
            elif same_list:
                blocks[-1].append("- " + line.text)
            else:
                blocks.append(["- " + line.text])
        elif (
            previous is not None
            and previous.item is None
            and previous.block == line.block
            and not line.heading
            and not _is_subheading(previous)
            and not _is_subheading(line)
        ):
            blocks[-1].append(line.text)
        else:
            blocks.append([line.text])
        previous = line
    return "\n\n".join("\n".join(block) for block in blocks) or None
