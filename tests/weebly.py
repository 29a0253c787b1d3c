"""Build small Weebly-like sites for tests: pages, menus, programme field layouts.

The markup follows what real Weebly output looks like (see exitscrape/snapshot/README.md):
the menu printed twice, content in ``#wsite-content``, fields in multi-column tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: A menu node: (label, href, children).
MenuNode = tuple[str, str, Sequence["MenuNode"]]


def menu_html(nodes: Sequence[MenuNode], top: bool = True) -> str:
    items = []
    for label, href, children in nodes:
        sub = ""
        if children:
            sub = (
                '<div class="wsite-menu-wrap" style="display:none">\n<ul class="wsite-menu">'
                + menu_html(children, top=False)
                + "</ul></div>"
            )
        if top:
            items.append(
                f'<li class="wsite-menu-item-wrap">\n\t<a href="{href}" class="wsite-menu-item">'
                f"\n\t\t{label}\n\t</a>{sub}</li>"
            )
        else:
            arrow = '<span class="wsite-menu-arrow">&gt;</span>' if children else ""
            items.append(
                f'<li class="wsite-menu-subitem-wrap ">\n<a href="{href}" class="wsite-menu-subitem">'
                f'\n\t<span class="wsite-menu-title">\n\t\t{label}\n\t</span>{arrow}</a>{sub}</li>'
            )
    body = "\n".join(items)
    return f'<ul class="wsite-menu-default">{body}</ul>' if top else body


def page_html(title: str, content: str, menu: str = "", charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><title>{title} - Exit Practices</title>
<meta http-equiv="Content-Type" content="text/html; charset={charset}"/>
<meta property="og:site_name" content="Exit Practices" /></head>
<body class="header-page">
<div class="nav mobile-nav">{menu}</div>
<div class="wrapper"><div class="header-wrap"><div class="nav desktop-nav">{menu}</div>
<div class="paragraph">Header text that is not content</div></div>
<div class="main-wrap"><div class="container">
<div id="wsite-content" class="wsite-elements wsite-not-footer">
<div class="wsite-section-wrap"><div class="wsite-section-elements">
{content}
</div></div></div></div></div>
<div class="footer-wrap"><div class="footer"><div class="paragraph">Footer paragraph</div>
<div class="wsite-footer-credit">Proudly powered by <a href="http://127.0.0.2/">Weebly</a></div>
</div></div></div></body></html>
"""


def _icon() -> str:
    return (
        '<div><div class="wsite-image wsite-image-border-none"><a>'
        '<img src="/uploads/icon.png" alt="Picture" /></a></div></div>'
    )


def multicol(*cells: str) -> str:
    tds = "".join(f'<td class="wsite-multicol-col" style="padding:0 15px;">{c}</td>' for c in cells)
    return (
        '<div><div class="wsite-multicol"><div class="wsite-multicol-table-wrap">'
        '<table class="wsite-multicol-table"><tbody class="wsite-multicol-tbody">'
        f'<tr class="wsite-multicol-tr">{tds}</tr></tbody></table></div></div></div>'
    )


@dataclass
class Programme:
    title: str
    country: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # label -> value
    description: str = '<div class="paragraph">A description.</div>'


def field_section(fields: dict[str, str], layout: str) -> str:
    """The labelled fields in one of the layouts real pages use.

    ``model``: icon + ``<strong>Label</strong><br />value``, two fields per row;
    ``separate``: one field per row, label and value in separate paragraphs;
    ``inline``: ``<strong>Label:</strong> value`` paragraphs, no table;
    ``plain``: ``Label: value`` without any bold.
    """
    items = list(fields.items())
    if layout == "model":
        rows = []
        for i in range(0, len(items), 2):
            cells = []
            for label, value in items[i : i + 2]:
                cells += [
                    _icon(),
                    f'<div class="paragraph"><strong>{label}&nbsp;</strong><br />'
                    f'<font color="#2a2a2a">{value}</font>&#8203;</div>',
                ]
            rows.append(multicol(*cells))
        return "\n".join(rows)
    if layout == "separate":
        return "\n".join(
            multicol(
                _icon(),
                f'<div class="paragraph"><strong>{label}</strong></div>'
                f'<div class="paragraph"><span style="color:rgb(42,42,42)">{value}</span></div>',
                "",
            )
            for label, value in items
        )
    if layout == "inline":
        return "\n".join(
            f'<div class="paragraph"><strong>{label}:</strong> {value}</div>'
            for label, value in items
        )
    if layout == "plain":
        return "\n".join(f'<div class="paragraph">{label}: {value}</div>' for label, value in items)
    raise ValueError(layout)


def programme_html(programme: Programme, layout: str = "model", menu: str = "") -> str:
    parts = [
        f'<h2 class="wsite-content-title"><font size="6">{programme.title}</font><br /></h2>',
        '<div class="wsite-spacer" style="height:20px;"></div>',
    ]
    if programme.country:
        parts.append(
            multicol(
                _icon(),
                f'<div class="paragraph"><font size="5"><strong>{programme.country}'
                "</strong></font></div>",
            )
        )
    parts.append(field_section(programme.fields, layout))
    parts.append(
        '<h2 class="wsite-content-title"><font size="4">Description</font><br /></h2>'
        + programme.description
    )
    return page_html(programme.title, "\n".join(parts), menu)


def write_site(root: Path, pages: dict[str, str | bytes]) -> Path:
    """Write ``{path: html}`` under *root*; paths are URL paths like ``/a.html``."""
    for path, body in pages.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            target.write_bytes(body)
        else:
            target.write_text(body, encoding="utf-8")
    return root


#: The programme of :func:`small_site`.
SMALL = Programme("Small Programme", "Norway", {"Name": "Small Programme", "Organisation": "Org"})


def small_site(
    root: Path, links: Sequence[str] = (), pages: dict[str, str | bytes] | None = None
) -> Path:
    """A site of two pages (a home page linking one programme page, ``/small.html``) plus
    *links* from the home page and *pages*: the least a crawl publishes, for tests about
    something else."""
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in ("/small.html", *links))
    return write_site(
        root,
        {
            "/index.html": page_html("Home", f"<div class='paragraph'>{anchors}</div>"),
            "/small.html": programme_html(SMALL),
            **(pages or {}),
        },
    )
