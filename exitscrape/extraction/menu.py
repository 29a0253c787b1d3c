"""The site menu read as a category tree: each menu URL and the category its label path names.

The site files programmes under ``Exit programmes in <setting> › <ideology> › <region>``. Category
page URLs are unknown and arbitrary (``islamist1.html``), so categories come from the labels only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from parsel import Selector

from exitscrape.extraction.links import base_url, resolve
from exitscrape.extraction.text import clean_text
from exitscrape.items import Category

_MENU_ROOTS = ("ul.wsite-menu-default", "nav ul", "#navigation ul", "header ul")
_IDEOLOGY_PATTERNS = (
    ("islamist", re.compile(r"islam|jihad")),
    ("far-right", re.compile(r"(far|extreme)[\s-]*right|right[\s-]*wing")),
    ("far-left", re.compile(r"(far|extreme)[\s-]*left|left[\s-]*wing")),
)


@dataclass(frozen=True, slots=True)
class MenuEntry:
    url: str
    path: tuple[str, ...]


def _classify(label: str) -> dict[str, str]:
    """The category parts one menu label names (setting, ideology, region)."""
    text = label.casefold()
    parts: dict[str, str] = {}
    if "prison" in text and "probation" in text:
        parts["setting"] = "prison and probation"
    elif "probation" in text:
        parts["setting"] = "probation"
    elif "prison" in text:
        parts["setting"] = "prison"
    for ideology, pattern in _IDEOLOGY_PATTERNS:
        if pattern.search(text):
            parts["ideology"] = ideology
            break
    if re.search(r"other\s+region|outside|rest of the world|beyond europe|non[\s-]*europ", text):
        parts["region"] = "other regions"
    elif "europe" in text:
        parts["region"] = "europe"
    return parts


def category_of(path: tuple[str, ...]) -> Category | None:
    """The category a label path names, or ``None`` when it names no setting or ideology."""
    parts: dict[str, str] = {}
    for label in path:
        parts.update(_classify(label))
    if "setting" not in parts and "ideology" not in parts:
        return None
    return Category(**parts)


def _label(link: etree._Element) -> str | None:
    titles = link.xpath(
        './/span[contains(concat(" ", normalize-space(@class), " "), " wsite-menu-title ")]'
    )
    if titles:
        return clean_text("".join(titles[0].itertext()))
    texts = link.xpath(".//text()[not(ancestor::span[contains(@class, 'wsite-menu-arrow')])]")
    return clean_text("".join(texts).strip().rstrip(">›»"))


def _child_items(element: etree._Element) -> Iterator[etree._Element]:
    """The ``li`` elements nested directly under *element* (through any wrappers)."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "li":
            yield child
        elif child.tag != "a":
            yield from _child_items(child)


def _walk(items: Iterator[etree._Element], path: tuple[str, ...], base: str) -> Iterator[MenuEntry]:
    for item in items:
        links = item.xpath("./a[@href] | ./*[not(self::li) and not(self::ul)]//a[@href][1]")
        link = links[0] if links else None
        label = _label(link) if link is not None else None
        here = (*path, label) if label else path
        if link is not None and label:
            url = resolve(base, link.get("href", ""))
            if url:
                yield MenuEntry(url=url, path=here)
        yield from _walk(_child_items(item), here, base)


def read_menu(selector: Selector, url: str) -> list[MenuEntry]:
    """Every menu entry of the page at *url* with its label path, deduplicated, in menu order."""
    base = base_url(selector, url)
    for css in _MENU_ROOTS:
        roots = selector.css(css)
        if roots:
            break
    else:
        return []
    seen: dict[tuple[str, tuple[str, ...]], MenuEntry] = {}
    for root in roots:
        if root.root.xpath("ancestor::ul"):
            continue  # a nested menu, reached from its top-level list
        for entry in _walk(_child_items(root.root), (), base):
            seen.setdefault((entry.url, entry.path), entry)
    return list(seen.values())
