"""The dataset's tables: one explicit pyarrow schema each, every field described in its metadata.

This is the single source of the data dictionary: the README table, the Parquet metadata and
release descriptors are all generated from it.
"""

from __future__ import annotations

import pyarrow as pa

#: Bump the major part for a breaking schema change, the minor part for an added column.
#: 1.1.0 added ``programmes.references``; 1.2.0 ``pages.captured_at`` and ``pages.archive_url``.
SCHEMA_VERSION = "1.2.0"

_TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


PROGRAMMES = pa.schema(
    [
        _field(
            "programme_id",
            pa.string(),
            "Stable identifier: the programme's name and country code, slugged "
            "(e.g. `mentoring-programme-no`), as they were when it first appeared. A programme "
            "renamed on the site (a new name at one of its URLs) keeps the id it had.",
            nullable=False,
        ),
        _field(
            "name",
            pa.string(),
            "Programme name (the Name field, else the page title).",
            nullable=False,
        ),
        _field("country", pa.string(), "Country as written on the page (e.g. `United Kingdom`)."),
        _field(
            "country_code",
            pa.string(),
            "ISO 3166-1 alpha-2 code of `country` (pycountry); null when it names no country.",
        ),
        _field("target_audience", pa.string(), "Who the programme works with (Target audience)."),
        _field("organisation", pa.string(), "Organisation running the programme."),
        _field(
            "objectives",
            pa.list_(pa.string()),
            "Objectives, one string each (the page separates them by `;` or line breaks).",
            nullable=False,
        ),
        _field(
            "description",
            pa.string(),
            "Description as plain text: paragraphs and sub-headings separated by a blank line, "
            "list items as `- item` lines.",
        ),
        _field(
            "references",
            pa.list_(
                pa.struct(
                    [
                        pa.field("author", pa.string(), nullable=False),
                        pa.field("year", pa.int16(), nullable=False),
                    ]
                )
            ),
            "Sources the description cites in parentheses, author–year style "
            "(`(Butt & Tuck, 2014)`, `(RAN, 2016; Smith, 2019)`): one `{author, year}` each, "
            "distinct, in order of first citation; the author as written "
            "(`Radicalisation Awareness Network [RAN]`). Added in schema 1.1.0.",
            nullable=False,
        ),
        _field(
            "settings",
            pa.list_(pa.string()),
            "Settings of the category pages listing it: `prison`, `probation`, "
            "`prison and probation`.",
            nullable=False,
        ),
        _field(
            "ideologies",
            pa.list_(pa.string()),
            "Ideologies of the category pages listing it: `islamist`, `far-right`, `far-left`.",
            nullable=False,
        ),
        _field(
            "regions",
            pa.list_(pa.string()),
            "Regions of the category pages listing it (Islamist programmes in prison only): "
            "`europe`, `other regions`.",
            nullable=False,
        ),
        _field(
            "source_urls",
            pa.list_(pa.string()),
            "Every URL the programme was found at (final URLs after redirects), sorted.",
            nullable=False,
        ),
        _field(
            "content_sha256",
            pa.string(),
            "SHA-256 of the programme's content fields (name to description), to spot edits.",
            nullable=False,
        ),
        _field("crawled_at", _TIMESTAMP, "When its page was fetched (UTC).", nullable=False),
    ]
)

PAGES = pa.schema(
    [
        _field("url", pa.string(), "URL the crawl requested (as linked).", nullable=False),
        _field("final_url", pa.string(), "URL after redirects; null when nothing was received."),
        _field("status", pa.int16(), "HTTP status of the final response; null when none came."),
        _field(
            "kind",
            pa.string(),
            "`programme`, `listing` (a category page), `failed` (404, 5xx after retries, "
            "timeout, too large, unreadable) or `other` (anything else, including links not "
            "fetched on purpose: forbidden by robots.txt, redirected off the site).",
            nullable=False,
        ),
        _field(
            "error",
            pa.string(),
            "Why the page failed, was not fetched or is suspect; null when fine.",
        ),
        _field("fetched_at", _TIMESTAMP, "When the response (or the failure) came (UTC)."),
        _field("body_sha256", pa.string(), "SHA-256 of the response body."),
        _field("content_type", pa.string(), "Media type of the response."),
        _field("referer", pa.string(), "The page whose link led here; null for the start URL."),
        _field(
            "captured_at",
            _TIMESTAMP,
            "Crawled from a web archive: when the archive captured the answer (its "
            "`Memento-Datetime`, UTC); null for the live site and for a page never captured. "
            "Added in schema 1.2.0.",
        ),
        _field(
            "archive_url",
            pa.string(),
            "Crawled from a web archive: the capture's raw replay URL (archive, capture time "
            "and `url`: `<archive><YYYYMMDDhhmmss>id_/<url>`); null for the live site. "
            "Added in schema 1.2.0.",
        ),
    ]
)

TABLES: dict[str, pa.Schema] = {"programmes": PROGRAMMES, "pages": PAGES}

#: Derived from a data dir's versions (:mod:`exitscrape.dataset.history`), never stored in one,
#: so not in TABLES: one row per programme per version in which it appeared, changed or went.
HISTORY = pa.schema(
    [
        _field(
            "programme_id",
            pa.string(),
            "The programme's identifier, kept across a rename (same URL, new name).",
            nullable=False,
        ),
        _field(
            "version", pa.string(), "The dataset version that shows the change.", nullable=False
        ),
        _field(
            "as_of",
            _TIMESTAMP,
            "When the site was as that version has it: the capture time for a version crawled "
            "from a web archive (`as_of` in its manifest), else when it was published (UTC).",
            nullable=False,
        ),
        _field(
            "change",
            pa.string(),
            "`added` (first seen, or seen again), `changed`, `renamed` (its name changed, its "
            "URL did not) or `removed` (gone from this version; the values are the last seen).",
            nullable=False,
        ),
        _field(
            "changed_columns",
            pa.list_(pa.string()),
            "Columns whose values differ from the version before (`changed`, `renamed`; "
            "`name` for a rename); empty for `added` and `removed`.",
            nullable=False,
        ),
        # The programme's values in that version; null where the version lacks the column.
        *(f.with_nullable(True) for f in PROGRAMMES if f.name != "programme_id"),
    ]
)

#: Columns that describe the crawl, not the programme: ignored when comparing versions.
VOLATILE_COLUMNS = frozenset({"crawled_at"})


def describe(schema: pa.Schema) -> list[tuple[str, str, str]]:
    """(name, type, description) for every field: the data dictionary."""
    return [
        (f.name, str(f.type), (f.metadata or {}).get(b"description", b"").decode()) for f in schema
    ]


def markdown() -> str:
    """The data dictionary as Markdown tables (README.md embeds this; a test keeps them equal)."""
    parts = []
    for table, schema in TABLES.items():
        rows = [f"| `{name}` | {type_} | {text} |" for name, type_, text in describe(schema)]
        parts.append(
            f"### {table}.parquet\n\n| column | type | description |\n|---|---|---|\n"
            + "\n".join(rows)
        )
    return "\n\n".join(parts) + "\n"
