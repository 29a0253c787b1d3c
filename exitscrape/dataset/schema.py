"""The dataset's tables: one explicit pyarrow schema each, every field described in its metadata.

This is the single source of the data dictionary: the README table, the Parquet metadata and
release descriptors are all generated from it.
"""

from __future__ import annotations

import pyarrow as pa

#: Bump the major part for a breaking schema change, the minor part for an added column.
#: 1.1.0 added ``programmes.references``; 1.2.0 ``programmes.differing_copies``,
#: ``pages.captured_at`` and ``pages.archive_url``; 1.3.0 ``pages.warc_record_id``.
SCHEMA_VERSION = "1.3.0"

_TIMESTAMP = pa.timestamp("us", tz="UTC")


def _list(type_: pa.DataType) -> pa.DataType:
    """A list type named as Parquet files name it (``list<element: ...>``), so the data
    dictionary spells it as a reader of the files sees it."""
    return pa.list_(pa.field("element", type_))


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
            _list(pa.string()),
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
            _list(
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
            _list(pa.string()),
            "Settings of the category pages listing it: `prison`, `probation`, "
            "`prison and probation`.",
            nullable=False,
        ),
        _field(
            "ideologies",
            _list(pa.string()),
            "Ideologies of the category pages listing it: `islamist`, `far-right`, `far-left`.",
            nullable=False,
        ),
        _field(
            "regions",
            _list(pa.string()),
            "Regions of the category pages listing it (Islamist programmes in prison only): "
            "`europe`, `other regions`.",
            nullable=False,
        ),
        _field(
            "source_urls",
            _list(pa.string()),
            "Every URL the programme was found at (final URLs after redirects), sorted.",
            nullable=False,
        ),
        _field(
            "differing_copies",
            _list(
                pa.struct(
                    [
                        pa.field("url", pa.string(), nullable=False),
                        pa.field("fields", _list(pa.string()), nullable=False),
                        pa.field("content_sha256", pa.string(), nullable=False),
                    ]
                )
            ),
            "Copies of the programme (among `source_urls`) whose text differs from the one this "
            "row holds, as when an editor changed one copy only: each one's `url`, the content "
            "`fields` it differs on and its `content_sha256`; empty when all copies agree. The "
            "row holds the newest text: a copy that changed since the previous version, else the "
            "one the previous version held, else the one whose page has the latest "
            "`Last-Modified`, else the first URL in sort order. Added in schema 1.2.0.",
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
        _field(
            "fetched_at",
            _TIMESTAMP,
            "When the response (or the failure) came (UTC): for a response, the `WARC-Date` of "
            "its capture.",
        ),
        _field(
            "body_sha256",
            pa.string(),
            "SHA-256 of the response body as the crawl read it (after undoing any "
            "`Content-Encoding`); null when there was none (a file checked with HEAD).",
        ),
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
        _field(
            "warc_record_id",
            pa.string(),
            "`WARC-Record-ID` of the response this row's status and body come from, in the "
            "version's `captures.warc.gz` (the response at `final_url`, or the redirect at `url` "
            "for a redirect to a page met before); null when no response came. The evidence of a "
            "programme: its values were extracted from the response of the row whose `final_url` "
            "is one of its `source_urls` (`exitscrape show NAME --source`). Added in schema 1.3.0.",
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


def pandas_type(type_: pa.DataType) -> str:
    """The dtype a column of *type_* has in ``exitscrape.load()``'s DataFrames, whatever the
    data (:mod:`exitscrape.dataset.load`): nullable integers, pandas' ``string`` dtype,
    tz-aware timestamps, lists as Python lists."""
    if pa.types.is_string(type_):
        return "string"
    if pa.types.is_integer(type_):
        return f"Int{type_.bit_width}"
    if pa.types.is_timestamp(type_):
        return f"datetime64[{type_.unit}, {type_.tz}]"
    if pa.types.is_list(type_):
        return "object (lists)"
    raise TypeError(f"no pandas dtype for arrow type {type_}")


def describe(schema: pa.Schema) -> list[tuple[str, str, str]]:
    """(name, type, description) for every field: the data dictionary."""
    return [
        (f.name, str(f.type), (f.metadata or {}).get(b"description", b"").decode()) for f in schema
    ]


def markdown() -> str:
    """The data dictionary as Markdown tables (README.md embeds this; a test keeps them equal)."""
    parts = []
    for table, schema in TABLES.items():
        rows = [
            f"| `{name}` | `{type_}` | `{pandas_type(field.type)}` | {text} |"
            for field, (name, type_, text) in zip(schema, describe(schema), strict=True)
        ]
        header = "| column | type (Parquet) | pandas (`load()`) | description |\n|---|---|---|---|"
        parts.append(f"### {table}.parquet\n\n{header}\n" + "\n".join(rows))
    return "\n\n".join(parts) + "\n"
