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
_STRUCTURE_TAGS = _CELL_TAGS | _LIST_TAGS | {"li"}


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


class _Flattener:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._pieces: list[tuple[str, bool]] = []
        self._visible = False  # whether a piece holds more than whitespace
        self._block = 0
        self._blank = False
        self._counter = 0
        self._bold = 0
        self._heading = 0
        self._cells: list[int] = []
        self._items: list[int] = []
        self._lists: list[int] = []

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter

    def _add(self, text: str) -> None:
        if text:
            self._pieces.append((text, self._bold > 0))
            if not self._visible and not text.isspace():
                self._visible = True

    def _flush(self) -> bool:
        """End the current line; return whether it held any text."""
        pieces, self._pieces = self._pieces, []
        if not self._visible:  # whitespace only (most flushes, between blocks): nothing to clean
            return False
        self._visible = False
        text = clean_text("".join(t for t, _ in pieces))
        if text is None:
            return False
        if self._blank:
            self._block = self._next_id()
            self._blank = False
        lead_parts = []
        for piece, bold in pieces:
            if not bold:
                if piece.strip():
                    break
                continue
            lead_parts.append(piece)
        self.lines.append(
            Line(
                text=text,
                lead=clean_text("".join(lead_parts)) if lead_parts else None,
                block=self._block,
                cell=self._cells[-1] if self._cells else None,
                heading=self._heading > 0,
                item=self._items[-1] if self._items else None,
                list=self._lists[-1] if self._lists else None,
            )
        )
        return True

    def _new_block(self) -> None:
        if self._pieces:
            self._flush()
        self._block = self._next_id()
        self._blank = False

    def _line_break(self) -> None:
        if not self._flush() and self.lines and self.lines[-1].block == self._block:
            # An empty line inside a block (<br /><br />) starts a new paragraph.
            self._blank = True

    def walk(self, element: etree._Element) -> None:
        # The hot loop of extraction (BENCHMARKS.md): few property reads, few calls.
        tag = element.tag
        if (
            not isinstance(tag, str)
            or (tag := tag.lower()) in _SKIP_TAGS
            or _NAVIGATION_CLASSES.search(element.get("class", ""))
        ):
            # comments, processing instructions, invisible elements, navigation: only the tail
            if tail := element.tail:
                self._add(tail)
            return
        if tag == "br":
            self._line_break()
            if tail := element.tail:
                self._add(tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            self._new_block()
        bold = tag in _BOLD_TAGS
        heading = bold and tag in _HEADING_TAGS
        structure = tag in _STRUCTURE_TAGS
        if bold:
            self._bold += 1
            self._heading += heading
        if structure:
            if tag in _CELL_TAGS:
                self._cells.append(self._next_id())
            elif tag == "li":
                self._items.append(self._next_id())
            else:
                self._lists.append(self._next_id())
        if text := element.text:
            self._add(text)
        for child in element:
            self.walk(child)
        if block:
            self._new_block()
        if structure:
            if tag in _CELL_TAGS:
                self._cells.pop()
            elif tag == "li":
                self._items.pop()
            else:
                self._lists.pop()
        if bold:
            self._heading -= heading
            self._bold -= 1
        if tail := element.tail:
            self._add(tail)


def flatten(element: etree._Element) -> list[Line]:
    """The visible lines of *element*'s subtree, in document order."""
    flattener = _Flattener()
    flattener._add(element.text or "")
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
