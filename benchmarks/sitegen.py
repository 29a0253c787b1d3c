"""Generate a synthetic Exit Practices site of N programme pages in the real Weebly markup.

The page chrome (head, the menu printed twice, footer), the menu tree and its slugs, the category
listing styles and the programme field layouts follow the bundled snapshot
(``exitscrape/snapshot/site``, described in its README). Programme ``i`` has the same content at
every N, so sites of different sizes differ only in how many programmes they hold.

Every tenth programme page is a Weebly copy of the previous one (same text, another URL and
markup), about one programme in five is listed by a second category, and category lists are split
into pages chained by "Next page" links outside the menu: :data:`PER_PAGE` programmes a page in
the ``standard`` shape, 270 in the ``large-categories`` shape (:data:`SHAPES`).

:func:`generate_link_flood` writes another kind of site: a start page of several megabytes whose
content holds hundreds of thousands of on-site links (a hostile or broken page), for memory.
"""

from __future__ import annotations

import html
import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: A menu node: (label, slug, children); the slug is the page's file name without ``.html``.
MenuNode = tuple[str, str, Sequence["MenuNode"]]

#: Programme field layouts the extractor handles (see the snapshot README: V1, V2, V3 and the
#: field-less pages), cycled through in this order.
LAYOUTS = ("model", "separate", "inline", "plain", "none", "bold-description", "subheadings")
_FIELD_LAYOUTS = LAYOUTS[:4]
#: How a category page links its programmes (as the snapshot's category pages do).
LISTING_STYLES = ("images", "text", "buttons", "image-readmore", "sentence")
PER_PAGE = 24
#: Site shapes: programme links per category page. ``large-categories`` is the shape of the
#: independent measurement of issue 14 (about 270 programme links on each category page).
SHAPES = {"standard": PER_PAGE, "large-categories": 270}

_SETTINGS = (
    ("Exit programmes in prison", "exit-programmes-in-prison", ""),
    ("Exit programmes in probation", "exit-programmes-in-probation", "1"),
    ("Exit programmes in prison and probation", "exit-programmes-in-prison-and-probation", "2"),
)


def _menu_tree() -> list[MenuNode]:
    settings: list[MenuNode] = []
    for label, slug, suffix in _SETTINGS:
        islamist: MenuNode = (
            (
                "Islamist",
                "islamist",
                (("In Europe", "in-europe", ()), ("In other regions", "in-other-regions", ())),
            )
            if not suffix
            else ("Islamist", f"islamist{suffix}", ())
        )
        settings.append(
            (
                label,
                slug,
                (
                    islamist,
                    ("Far-Right", f"far-right{suffix}", ()),
                    ("Far-Left", f"far-left{suffix}", ()),
                ),
            )
        )
    return [
        ("Home", "index", ()),
        ("Exit programmes", "exit-programmes", tuple(settings)),
        (
            "Resources",
            "resources",
            (
                ("Radicalisation &amp; Terrorism", "radicalisation--terrorism", ()),
                ("Disengagement &amp; Deradicalisation", "disengagement--deradicalisation", ()),
                ("Reintegration &amp; Rehabilitation", "reintegration--rehabilitation", ()),
                ("Security", "security", ()),
            ),
        ),
        (
            "What Works",
            "what-works",
            (
                ("Methodological Conceptualisation", "methodological-conceptualisation", ()),
                ("Evaluation Framework", "evaluation-framework", ()),
                ("Peer Review Evaluation", "peer-review-evaluation", ()),
            ),
        ),
        ("Contact", "contact", ()),
    ]


MENU = _menu_tree()
#: The category pages that list programmes (menu leaves under "Exit programmes").
LEAVES = (
    "in-europe",
    "in-other-regions",
    "far-right",
    "far-left",
    "islamist1",
    "far-right1",
    "far-left1",
    "islamist2",
    "far-right2",
    "far-left2",
)

_COUNTRIES = (
    "Norway",
    "United Kingdom",
    "Denmark",
    "Germany",
    "France",
    "the Netherlands",
    "Belgium",
    "Sweden",
    "Finland",
    "Spain",
    "Portugal",
    "Italy",
    "Austria",
    "Switzerland",
    "Ireland",
    "Poland",
    "Czech Republic",
    "Slovenia",
    "Kosovo",
    "Germany (Hesse)",
    "Canada",
    "Australia",
    "Indonesia",
    "Singapore",
    "Saudi Arabia",
    "Morocco",
    "Nigeria",
    "Kenya",
    "United States",
)
_VOCABULARY = (
    "inmates offenders probation prison staff mentors families community reintegration "
    "disengagement deradicalisation extremist violent ideology network support counselling "
    "education training employment housing identity dialogue trust motivation risk assessment "
    "management supervision release sentence programme intervention voluntary individual group "
    "sessions psychologists theologians social workers case managers partners municipal police "
    "authorities evaluation outcomes approach method framework recruitment radicalisation "
    "terrorism offences young adults vulnerable hate crime responsibility conflict resolution "
    "self-reflection attitudes behaviour change relationships networks exit assistance"
)
_WORDS = tuple(_VOCABULARY.split())
_AUDIENCES = (
    "Inmates convicted of terrorism related offences",
    "Young offenders vulnerable to recruitment",
    "Probationers convicted of extremist offences",
    "Inmates convicted of hate crime and vulnerable to recruitment",
    "Prison staff and probation officers",
)
_ORGANISATIONS = (
    "Ministry of Justice and Public Security",
    "National Probation Service",
    "Violence Prevention Network",
    "Correctional Services",
    "Prison and Probation Service",
)


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- page chrome ----------------------------------------------------------------------------


def _menu_items(nodes: Sequence[MenuNode], top: bool) -> str:
    items = []
    for label, slug, children in nodes:
        href = "/" if slug == "index" else f"/{slug}.html"
        sub = ""
        if children:
            sub = (
                '<div class="wsite-menu-wrap" style="display:none">\n\t<ul class="wsite-menu">\n\t\t'
                + _menu_items(children, top=False)
                + "\n\t</ul>\n</div>"
            )
        if top:
            items.append(
                f'\t\t\t<li id="pg{zlib.crc32(slug.encode())}" class="wsite-menu-item-wrap">\n'
                f'\t\t\t\t<a\n\t\t\t\t\t\t\thref="{href}"\n\t\t\t\t\tclass="wsite-menu-item"\n'
                f"\t\t\t\t\t>\n\t\t\t\t\t{label}\n\t\t\t\t</a>\n\t\t\t\t{sub}\n\t\t\t</li>"
            )
        else:
            arrow = '<span class="wsite-menu-arrow">&gt;</span>' if children else ""
            items.append(
                f'<li id="wsite-nav-{zlib.crc32(slug.encode())}"\n\tclass="wsite-menu-subitem-wrap "\n\t>\n'
                f'\t<a\n\t\t\t\thref="{href}"\n\t\tclass="wsite-menu-subitem"\n\t\t>\n'
                f'\t\t<span class="wsite-menu-title">\n\t\t\t{label}\n\t\t</span>{arrow}\n\t</a>\n'
                f"\t{sub}\n</li>"
            )
    return "\n".join(items)


_MENU_HTML = '<ul class="wsite-menu-default">\n' + _menu_items(MENU, top=True) + "\n</ul>"
_FLYOUTS = ",".join(
    f'{{"id":"{i}","title":"{label}","url":"{slug}.html","target":"","nav_menu":false,'
    f'"nonclickable":false}}'
    for i, (label, slug, _) in enumerate(MENU)
)


def page_html(title: str, content: str, body_class: str = "no-header-page") -> str:
    """A whole page: Weebly head, the menu twice (mobile and desktop), content, footer."""
    return f"""<!DOCTYPE html>
<html lang="en">
	<head>
		<title>Exit Practices - {title}</title><meta property="og:site_name" content="Exit Practices" />
<meta property="og:title" content="{title}" />
<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>
	<meta name="viewport" content="width=device-width, initial-scale=1.0"/>
		<link id="wsite-base-style" rel="stylesheet" type="text/css" href="/files/main_style.css?1637748125" title="wsite-theme-css" />
<style type='text/css'>
#wsite-content div.paragraph, #wsite-content p, .blog-sidebar div.paragraph, .blog-sidebar p {{}}
.wsite-elements.wsite-footer div.paragraph, .wsite-elements.wsite-footer p {{}}
#wsite-content h2, .blog-sidebar h2 {{}}
.wsite-menu-default a {{}}
</style>
		<script>
var STATIC_BASE = '/';
var ASSETS_BASE = '/';
var STYLE_PREFIX = 'wsite';
</script>
<script type="text/javascript"><!--
	function initFlyouts(){{
		initPublishedFlyoutMenus(
			[{_FLYOUTS}],
			"563018742290617745", '', 'active', false,
			{{"navigation\\/item":"<li {{{{#id}}}}id=\\"{{{{id}}}}\\"{{{{\\/id}}}} class=\\"wsite-menu-item-wrap\\">"}},
			{{}}
		)
	}}
//-->
</script>
</head>
	<body class="{body_class}  wsite-theme-light">
	<div class="nav mobile-nav">
		<label class="hamburger"><span></span></label>
		{_MENU_HTML}
	</div>

	<div class="wrapper">
		<div class="header-wrap">
			<div class="container">
				<div class="logo"><span class="wsite-logo">
	<a href="/">
	<span id="wsite-title">Exit Practices</span>
	</a>
</span></div>
				<div class="nav desktop-nav">{_MENU_HTML}
</div>
			</div><!-- end .container -->
		</div><!-- end .header-wrap -->

		<div class="main-wrap">
			<div class="container">
				<div id="wsite-content" class="wsite-elements wsite-not-footer">
	<div class="wsite-section-wrap">
	<div class="wsite-section wsite-body-section wsite-background-4"  >
		<div class="wsite-section-content">
			<div class="container">
			<div class="wsite-section-elements">
				{content}
			</div>
		</div>
		</div>

	</div>
</div>

</div>
			</div><!-- end .container -->
		</div><!-- end .main-wrap -->

		<div class="footer-wrap">
			<div class="container">
				<div class="footer"><div class="wsite-footer-credit">Proudly powered by <a href="http://127.0.0.2/" target="_blank" rel="nofollow">Weebly</a></div></div>
			</div><!-- end .container -->
		</div><!-- end .footer-wrap -->
	</div><!-- end .wrapper -->

	<script type="text/javascript" src="/files/theme/plugins.js?1567026541"></script>
	<script type="text/javascript" src="/files/theme/custom.js?1567026541"></script>
	</body>
</html>
"""


def _heading(text: str, size: int = 5, align: str = "center") -> str:
    return (
        f'<h2 class="wsite-content-title" style="text-align:{align};">'
        f'<font size="{size}">{text}</font><br /></h2>'
    )


def _spacer(height: int = 10) -> str:
    return f'<div class="wsite-spacer" style="height:{height}px;"></div>'


def _paragraph(inner: str, align: str = "justify") -> str:
    return f'<div class="paragraph" style="text-align:{align};">{inner}</div>'


def _image(src: str, href: str | None = None, caption: str = "", align: str = "center") -> str:
    link = f'<a href="{href}">' if href else "<a>"
    return (
        '<div><div class="wsite-image wsite-image-border-none " style="padding-top:10px;'
        f'padding-bottom:10px;margin-left:0;margin-right:0;text-align:{align}">\n{link}\n'
        f'<img src="{src}" alt="Picture" style="width:auto;max-width:100%" />\n</a>\n'
        f'<div style="display:block;font-size:90%">{caption}</div>\n</div></div>'
    )


def _multicol(cells: Sequence[tuple[float, str]]) -> str:
    tds = "".join(
        f'<td class="wsite-multicol-col" style="width:{width}%; padding:0 15px;">\n'
        f"\t\t\t\t\t\n\t\t\t\t\t\t\n\n{inner}\n\n\n\t\t\t\t\t\n\t\t\t\t</td>"
        for width, inner in cells
    )
    return (
        '<div><div class="wsite-multicol"><div class="wsite-multicol-table-wrap" '
        'style="margin:0 -15px;">\n\t<table class="wsite-multicol-table">\n'
        '\t\t<tbody class="wsite-multicol-tbody">\n\t\t\t<tr class="wsite-multicol-tr">\n'
        f"\t\t\t\t{tds}\t\t\t</tr>\n\t\t</tbody>\n\t</table>\n</div></div></div>"
    )


def _button(href: str, label: str = "Read more") -> str:
    return (
        '<div style="text-align:left;"><div style="height: 10px; overflow: hidden;"></div>\n'
        f'<a class="wsite-button wsite-button-small wsite-button-normal" href="{href}" >\n'
        f'<span class="wsite-button-inner">{label}</span>\n</a>\n'
        '<div style="height: 10px; overflow: hidden;"></div></div>'
    )


def _rule() -> str:
    return (
        '<div><div style="height: 20px; overflow: hidden; width: 100%;"></div>\n'
        '<hr class="styled-hr" style="width:100%;"></hr>\n'
        '<div style="height: 20px; overflow: hidden; width: 100%;"></div></div>'
    )


# --- programmes -----------------------------------------------------------------------------


@dataclass
class Programme:
    """One programme's content; ``copy_of`` is set on a Weebly copy of another programme page."""

    index: int
    name: str
    country: str
    target_audience: str
    organisation: str
    objectives: list[str]
    paragraphs: list[str]
    items: list[str]
    layout: str
    slug: str
    copy_of: int | None = None
    categories: list[str] = field(default_factory=list)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def programme(index: int, seed: int = 0) -> Programme:
    """Programme *index*: the same content whatever the site's size."""
    rng = random.Random(f"{seed}-{index}")
    name = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()} Programme {index}"
    return Programme(
        index=index,
        name=name,
        country=rng.choice(_COUNTRIES),
        target_audience=rng.choice(_AUDIENCES),
        organisation=rng.choice(_ORGANISATIONS),
        objectives=[
            _sentence(rng, rng.randint(6, 14)).rstrip(".") for _ in range(rng.randint(2, 5))
        ],
        paragraphs=[
            " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 6)))
            for _ in range(rng.randint(3, 7))
        ],
        items=[_sentence(rng, rng.randint(4, 10)) for _ in range(rng.randint(0, 5))],
        layout=LAYOUTS[index % len(LAYOUTS)],
        slug=_slug(name),
    )


def _fields(p: Programme) -> list[tuple[str, str, str]]:
    """(label, icon, value html) of the labelled fields."""
    return [
        ("Name", "name-icon", _e(p.name)),
        ("Target audience", "target-icon", _e(p.target_audience)),
        ("Organisation", "organisation-icon", _e(p.organisation)),
        ("Objectives", "objectives-icon", _e("; ".join(p.objectives))),
    ]


def _icon(name: str) -> str:
    return _image(f"/uploads/8/4/2/7/84271965/{name}_orig.png")


def _field_section(p: Programme) -> str:
    fields = _fields(p)
    if p.layout == "model":  # V1: icon + <strong>Label</strong><br />value, two fields a row
        rows = []
        for i in range(0, len(fields), 2):
            cells: list[tuple[float, str]] = []
            for label, icon, value in fields[i : i + 2]:
                cells.append((8.69, _icon(icon)))
                if label == "Objectives":
                    text = (
                        _paragraph(f"<strong>{label}</strong>", "left")
                        + "\n\n"
                        + _paragraph(f"{value}&#8203;", "left")
                    )
                else:
                    text = _paragraph(
                        f'<strong>{label}&nbsp;</strong><br /><font color="#2a2a2a">{value}</font>',
                        "left",
                    )
                cells.append((41.3, text))
            rows.append(_multicol(cells))
        return "\n\n".join(rows)
    if p.layout == "separate":  # V2: one field a row; label and value in separate cells
        rows = []
        for n, (label, icon, value) in enumerate(fields):
            label_text = label.upper() + ":" if n % 2 == 0 else label.lower() + "&nbsp;:"
            cells = [
                (8.69, _icon(icon)),
                (26.08, _paragraph(f"<strong>{label_text}</strong>", "left")),
                (65.21, _paragraph(f'<font color="#2a2a2a">{value}</font>', "left")),
            ]
            if n == 2:
                cells.append((5.0, _spacer(50)))
            rows.append(_multicol(cells))
        return "\n\n".join(rows)
    if p.layout == "inline":  # V3: <strong>Label:</strong> value paragraphs, no table
        return "\n\n".join(
            _paragraph(f"<strong>{label}:</strong>&nbsp;{value}", "left")
            for label, _, value in fields
        )
    if p.layout == "plain":  # Label: value, no bold
        return "\n\n".join(_paragraph(f"{label}: {value}", "left") for label, _, value in fields)
    return ""  # field-less pages: title, country row and description only


def _description(p: Programme) -> str:
    paragraphs = [_e(text) for text in p.paragraphs]
    if p.layout == "bold-description":
        head = _paragraph("<strong>Description:</strong>", "left")
    else:
        head = _heading("Description", 4, "left") + "\n\n" + _spacer(10)
    if p.layout == "none" and paragraphs:  # BOM span, as on Team TER
        paragraphs[0] = "<span>&#65279;</span>" + paragraphs[0]
    body = []
    for n, text in enumerate(paragraphs):
        if p.layout == "subheadings" and n in (1, 3):
            body.append(
                _paragraph("<strong>Goal</strong>", "left")
                if n == 1
                else _heading("Method: Education of Responsibility", 3, "left")
            )
        if n == 1 and p.items:
            listed = "".join(f"<li>{_e(item)}</li>" for item in p.items)
            body.append(_paragraph(f"{text}<br /><ul>{listed}</ul>"))
        elif n % 3 == 2 and n + 1 < len(paragraphs):  # paragraphs split by <br /><br />
            body.append(_paragraph(f"{text}<br /><br />{paragraphs[n + 1]}"))
        else:
            body.append(_paragraph(text))
    return head + "\n\n" + "\n\n".join(body)


def programme_page(p: Programme) -> str:
    country = _multicol(
        [
            (13.04, _icon(_slug(p.country))),
            (86.95, _paragraph(f'<font size="5"><strong>{_e(p.country)}</strong></font>', "left")),
        ]
    )
    parts = [_heading(_e(p.name), 6), _spacer(20), country, _spacer(15)]
    if fields := _field_section(p):
        parts += [fields, _rule()]
    parts.append(_description(p))
    return page_html(_e(p.name), "\n\n".join(parts), "wsite-page-" + p.slug)


# --- category pages -------------------------------------------------------------------------


def _listing(programmes: Sequence[Programme], style: str) -> str:
    def href(p: Programme) -> str:
        return f"{p.slug}.html" if p.index % 2 else f"/{p.slug}.html"

    def caption(p: Programme) -> str:
        return f"{_e(p.name)} &ndash; {_e(p.country)}"

    if style == "images":
        rows = []
        for i in range(0, len(programmes), 3):
            cells = [
                (33.33, _image(f"/uploads/published/{p.slug}-thumb.png", href(p), caption(p)))
                for p in programmes[i : i + 3]
            ]
            rows.append(_multicol(cells))
        return "\n\n".join(rows)
    if style == "text":
        return _paragraph(
            "".join(
                f'<a href="{href(p)}">{_e(p.name)}</a> &ndash; {_e(p.country)}<br />'
                for p in programmes
            ),
            "left",
        )
    if style == "buttons":
        return "\n\n".join(
            _paragraph(f"<strong>{_e(p.name)}</strong><br />{_e(p.country)}", "left")
            + "\n\n"
            + _button(href(p))
            + "\n\n"
            + _spacer()
            for p in programmes
        )
    if style == "image-readmore":
        return "\n\n".join(
            _multicol(
                [
                    (30.0, _image(f"/uploads/published/{p.slug}-thumb.png", href(p))),
                    (
                        70.0,
                        _paragraph(
                            f"<strong>{_e(p.name)}</strong><br />{_e(p.organisation)}, "
                            f'{_e(p.country)}<br /><a href="{href(p)}">Read more</a>',
                            "left",
                        ),
                    ),
                ]
            )
            for p in programmes
        )
    if style == "sentence":
        return "\n\n".join(
            _paragraph(
                f'The {_e(p.organisation)}&rsquo;s <a href="{href(p)}">{_e(p.name)}</a> '
                f"works in {_e(p.country)}.&nbsp;",
                "left",
            )
            for p in programmes
        )
    raise ValueError(style)


def _category_pages(
    slug: str, title: str, style: str, listed: Sequence[Programme], per_page: int = PER_PAGE
) -> dict[str, str]:
    chunks = [listed[i : i + per_page] for i in range(0, len(listed), per_page)] or [[]]
    pages = {}
    for n, chunk in enumerate(chunks, start=1):
        name = f"{slug}.html" if n == 1 else f"{slug}-page-{n}.html"
        parts = [_heading(_e(title) + (f" (page {n})" if n > 1 else "")), _spacer()]
        parts.append(_paragraph("Programmes in this category, by country and name."))
        parts.append(_listing(chunk, style) if chunk else _paragraph("No programmes yet."))
        nav = []
        if n > 1:
            nav.append(f'<a href="{slug}.html" >&lsaquo; First page</a>')
        if n < len(chunks):
            nav.append(f'<a href="/{slug}-page-{n + 1}.html">Next page &rsaquo;</a>')
        if nav:
            parts.append(_paragraph(" | ".join(nav), "center"))
        pages[name] = page_html(_e(title), "\n\n".join(parts))
    return pages


# --- the site -------------------------------------------------------------------------------


@dataclass
class Site:
    """What :func:`generate` wrote."""

    root: Path
    programme_pages: int
    programmes: int  # distinct programmes: the rows a correct crawl publishes
    listing_pages: int
    html_pages: int
    files: int
    bytes: int
    shape: str = "standard"
    responses: int = 0  # responses a complete crawl gets (robots.txt aside)


def _labels() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(nodes: Sequence[MenuNode], parent: str) -> None:
        for label, slug, children in nodes:
            found[slug] = f"{parent}: {label}" if parent else label
            walk(children, label if label.startswith("Exit programmes in") else parent)

    walk(MENU, "")
    return found


def site_pages(
    n: int, seed: int = 0, shape: str = "standard"
) -> tuple[dict[str, str | bytes], int, int]:
    """``{path: body}`` of a site with *n* programme pages, its distinct programmes, listings."""
    per_page = SHAPES[shape]
    programmes = []
    for i in range(n):
        if i % 10 == 9:  # a Weebly copy of the previous page: same text, other URL and markup
            p = programme(i - 1, seed)
            p.copy_of, p.index = i - 1, i
            if p.layout in _FIELD_LAYOUTS:  # field-less copies keep their markup
                p.layout = _FIELD_LAYOUTS[(_FIELD_LAYOUTS.index(p.layout) + 1) % 4]
            p.slug += "-1"
        else:
            p = programme(i, seed)
        rng = random.Random(f"{seed}-listing-{i}")
        p.categories.append(LEAVES[rng.randrange(len(LEAVES))])
        if rng.random() < 0.2:
            p.categories.append(LEAVES[rng.randrange(len(LEAVES))])
        programmes.append(p)
    pages: dict[str, str | bytes] = {f"{p.slug}.html": programme_page(p) for p in programmes}
    labels = _labels()
    listings = 0
    for n_leaf, leaf in enumerate(LEAVES):
        listed = [p for p in programmes if leaf in p.categories]
        built = _category_pages(
            leaf, labels[leaf], LISTING_STYLES[n_leaf % len(LISTING_STYLES)], listed, per_page
        )
        listings += len(built)
        pages.update(built)

    def links(nodes: Sequence[MenuNode]) -> str:
        return "<br />".join(f'<a href="{slug}.html">{label}</a>' for label, slug, _ in nodes)

    def menu_pages(nodes: Sequence[MenuNode]) -> None:
        for label, slug, children in nodes:
            if f"{slug}.html" not in pages:
                text = links(children) or f"About {label}: " + _e(
                    _sentence(random.Random(slug), 40)
                )
                pages[f"{slug}.html"] = page_html(
                    label, _heading(label) + _spacer() + _paragraph(text)
                )
            menu_pages(children)

    pages["resources.html"] = page_html(
        "Resources",
        _heading("Resources")
        + _paragraph(links(MENU[2][2]))
        + _paragraph('The WayOut <a href="/uploads/wayout-report.pdf">final report</a> (PDF).'),
    )
    pages["contact.html"] = page_html(
        "Contact",
        _heading("Contact")
        + _paragraph(
            'Write to <a href="mailto:info@example.org">info@example.org</a> or see '
            '<a href="http://127.0.0.2/about">the project site</a>.'
        ),
    )
    first = programmes[0] if programmes else None
    pages["index.html"] = page_html(
        "Home",
        _heading("Home")
        + _image("/uploads/published/wayout-logo.png")
        + _paragraph(
            'Browse the <a href="exit-programmes.html">exit programmes</a> by setting and ideology'
            + (
                f', or start with the <a href="/{first.slug}.html">{_e(first.name)}</a>.'
                if first
                else "."
            )
        ),
        "home-page  wsite-page-index",
    )
    menu_pages(MENU)
    pages["uploads/wayout-report.pdf"] = b"%PDF-1.4\n% synthetic report\n%%EOF\n"
    pages["robots.txt"] = (
        "User-agent: NerdyBot\nDisallow: /\n\nUser-agent: *\nDisallow: /ajax/\nDisallow: /apps/\n"
    )
    distinct = sum(1 for p in programmes if p.copy_of is None)
    return pages, distinct, listings


def _write(root: Path, pages: dict[str, str | bytes]) -> int:
    size = 0
    for path, body in pages.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = body.encode("utf-8") if isinstance(body, str) else body
        target.write_bytes(data)
        size += len(data)
    return size


def generate(root: Path, n: int, seed: int = 0, shape: str = "standard") -> Site:
    """Write a site of *n* programme pages under *root* (created; existing files overwritten)."""
    pages, distinct, listings = site_pages(n, seed, shape)
    size = _write(root, pages)
    html_pages = sum(1 for path in pages if path.endswith(".html"))
    return Site(root, n, distinct, listings, html_pages, len(pages), size, shape, html_pages + 1)


#: The link-flood page's links: distinct URLs of one small page (the query differs), unquoted
#: and without text, one a line, as short as a link gets (300,000 of them make 7.7 MB).
_FLOOD_LINK = "<a href=s.htm?{}></a>\n"
_FLOOD_STUB = (
    "<!DOCTYPE html><html><head><title>Stub</title></head><body><p>Stub.</p></body></html>"
)


def generate_link_flood(root: Path, links: int = 300_000, n: int = 30, seed: int = 0) -> Site:
    """A site of *n* programme pages whose start page also holds *links* distinct on-site links
    in its content (``s.htm?1`` to ``s.htm?N``, all answered by one small page): one page of a
    few megabytes whose links the crawl follows. ``bytes`` is the start page's size."""
    pages, distinct, listings = site_pages(n, seed)
    flood = "".join(_FLOOD_LINK.format(i) for i in range(1, links + 1))
    home = str(pages["index.html"])
    marker = '<div id="wsite-content" class="wsite-elements wsite-not-footer">'
    assert home.count(marker) == 1
    pages["index.html"] = home.replace(marker, marker + "\n" + _paragraph(flood), 1)
    pages["s.htm"] = _FLOOD_STUB
    _write(root, pages)
    html_pages = sum(1 for path in pages if path.endswith(".html"))
    start_page = len(str(pages["index.html"]).encode("utf-8"))
    return Site(
        root, n, distinct, listings, html_pages, len(pages), start_page, "link-flood",
        html_pages + 1 + links,
    )  # fmt: skip
