"""The data card (a release's README.md): what the data is, where it comes from, how far to trust
it, how to cite it. Every fact comes from the version's manifest, its tables and the schema;
everything taken from the data is Markdown-escaped (:mod:`exitscrape.release.markdown`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from exitscrape.dataset.schema import describe, pandas_type
from exitscrape.dataset.wording import plural
from exitscrape.release.datapackage import field_type
from exitscrape.release.markdown import code, text
from exitscrape.snapshot.gaps import WHY, archive_gaps

SITE_URL = "https://www.exit-practices.eu/"
SITE_HOST = "www.exit-practices.eu"
TITLE = "Exit programmes in prison and probation (from the Exit Practices catalogue)"
#: Who published the source texts: the BibTeX entry's (corporate) author.
PUBLISHER = "WayOut project (Exit Practices)"


@dataclass
class CardFacts:
    """What the card is written from."""

    release: str
    date: str
    name: str
    manifest: dict[str, Any]
    tables: dict[str, pa.Table]
    files: list[tuple[str, int]]  # (path, bytes) of every data file
    evidence: str | None = None  # path of the captures' WACZ, if any


def _counts(values: list[Any]) -> str:
    counts = Counter(v for v in values if v is not None)
    return ", ".join(
        f"{text(k)} ({n})" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _dictionary(table: str, schema: pa.Schema) -> list[str]:
    lines = [
        f"#### `{table}`",
        "",
        "| field | type (Parquet) | type (CSV) | pandas (`exitscrape.load()`) | description |",
        "|---|---|---|---|---|",
    ]
    for field, (name, arrow_type, description) in zip(schema, describe(schema), strict=True):
        required = "" if field.nullable else ", required"
        description = description.replace("|", r"\|")
        lines.append(
            f"| `{name}` | `{arrow_type}` | {field_type(field.type)}{required} | "
            f"`{pandas_type(field.type)}` | {description} |"
        )
    return [*lines, ""]


def _missing(programmes: pa.Table) -> list[str]:
    """One line per field that some programmes lack."""
    lines = []
    total = programmes.num_rows
    for name in programmes.schema.names:
        values = programmes.column(name).to_pylist()
        missing = sum(1 for v in values if v is None or v == [])
        if missing:
            lines.append(f"- `{name}`: empty for {missing} of {plural(total, 'programme')}")
    return lines


def _gaps(pages: pa.Table) -> list[str]:
    rows = [r for r in pages.to_pylist() if r["error"]]
    if not rows:
        return [
            "- Every page the crawl met was fetched and recognised (no failed or suspect page)."
        ]
    failed = f"{plural(len(rows), 'page')} failed or {'is' if len(rows) == 1 else 'are'} suspect"
    lines = [f"- {failed} (`pages` rows with an `error`):"]
    for row in rows[:25]:
        status = f"HTTP {row['status']}" if row["status"] else "no response"
        lines.append(f"  - {text(row['url'])} ({row['kind']}, {status}): {text(row['error'])}")
    if len(rows) > 25:
        lines.append(f"  - … and {len(rows) - 25} more: see `pages.csv`")
    return lines


def _checking(facts: CardFacts) -> list[str]:
    """The section that tells a reader how to see the page a value was extracted from."""
    lines = ["## Checking a value against its source", ""]
    if facts.evidence is None:
        return [
            *lines,
            "This dataset version was crawled by exitscrape "
            f"{text(facts.manifest.get('exitscrape_version', '?'))}, before the pages a crawl "
            "fetched were kept: the release holds no captures to check values against.",
            "",
        ]
    path = facts.evidence
    return [
        *lines,
        f"Every value was extracted from a page the crawl received, and `{path}` holds every "
        "HTTP response it received, unchanged (a web archive: the WARC file "
        "`archive/captures.warc.gz` with its index, in a WACZ package).",
        "",
        "1. **Find the page.** A programme's `source_urls` are the pages its values were read "
        "from. The `pages` row whose `final_url` is one of them gives the capture's date "
        "(`fetched_at`) and its WARC record (`warc_record_id`); its `body_sha256` is the SHA-256 "
        "of the page as received. Categories (`settings`, `ideologies`, `regions`) come from the "
        "category pages (`kind` `listing`) that link to it.",
        f"2. **Open it in a browser.** Go to <https://replayweb.page>, choose `{path}`, then "
        "the page in its list of pages (or type its URL): it is shown as the crawler received "
        "it, on that date. Nothing is uploaded: ReplayWeb.page reads the file in the browser.",
        "3. **Or with pywb**, the Webrecorder archive server, on your machine: "
        "`pip install pywb`, then `wb-manager init exit-programmes`, "
        f"`wb-manager add --unpack-wacz exit-programmes {path}`, `wayback -p 8080`, and open "
        "`http://localhost:8080/exit-programmes/<timestamp>id_/<url>` (`<timestamp>` is "
        "`fetched_at` as `YYYYMMDDhhmmss`; `id_` serves the page exactly as captured).",
        "4. **Or read the record itself**: unzip `archive/captures.warc.gz` from the package; "
        "`warcio index -f warc-record-id,offset,warc-target-uri captures.warc.gz` finds the "
        "record's offset, and `warcio extract --payload captures.warc.gz OFFSET` prints the "
        "page. `warcio check captures.warc.gz` verifies every record's SHA-256 digests.",
        "",
    ]


def _disagreements(rows: list[dict[str, Any]]) -> list[str]:
    """One item per programme whose copies' texts differ (``differing_copies``)."""
    found = [row for row in rows if row.get("differing_copies")]
    if not found:
        return []
    lines = [
        f"- Copies disagree: {plural(len(found), 'programme')} published at several URLs "
        "(Weebly copies a page into each category it belongs to) had copies whose texts differ, "
        "as when an editor changed one copy only. Each row holds the newest text (see "
        "`differing_copies` in the data dictionary); the other copies differ as follows:"
    ]
    for row in found:
        for copy in row["differing_copies"]:
            fields = ", ".join(f"`{name}`" for name in copy["fields"])
            lines.append(
                f"  - {code(row['programme_id'])} ({text(row['name'])}): "
                f"{text(copy['url'])} differs in {fields}"
            )
    return lines


def _archive_gaps(start_url: str | None, rows: list[dict[str, Any]]) -> list[str]:
    """The bundled snapshot's texts that its source had already cut short, when this is it."""
    gaps = archive_gaps(start_url, rows)
    if not gaps:
        return []
    lines = [f"- **Incomplete in the source.** Some texts read as cut short because {WHY}:"]
    for row, gap in gaps:
        lines.append(f"  - {code(row['programme_id'])} ({text(row['name'])}): {text(gap.what)}")
    return lines


def citation(facts: CardFacts) -> tuple[str, str]:
    """The citation as text and as BibTeX."""
    year = facts.date[:4]
    text = (
        f"{TITLE}. Release {facts.release} ({facts.date}), compiled with exitscrape "
        f"{facts.manifest.get('exitscrape_version', '?')} from Exit Practices "
        f"({SITE_URL}), EU WayOut project; crawled {facts.manifest['created_at'][:10]}. "
        f"Dataset version {facts.manifest['version']}."
    )
    key = f"exitprogrammes{facts.release.replace('.', '_')}"
    bibtex = "\n".join(
        [
            f"@misc{{{key},",
            f"  author       = {{{{{PUBLISHER}}}}},",
            f"  title        = {{{TITLE}}},",
            f"  year         = {{{year}}},",
            f"  version      = {{{facts.release}}},",
            f"  date         = {{{facts.date}}},",
            f"  howpublished = {{Data package {facts.name}, compiled with exitscrape}},",
            f"  url          = {{{SITE_URL}}},",
            f"  note         = {{Source: Exit Practices ({SITE_URL}), EU WayOut project. "
            f"Crawled {facts.manifest['created_at'][:10]}, dataset version "
            f"{facts.manifest['version']}}},",
            "}",
        ]
    )
    return text, bibtex


def data_card(facts: CardFacts) -> str:
    manifest = facts.manifest
    programmes, pages = facts.tables["programmes"], facts.tables["pages"]
    start_url = manifest.get("start_url") or "unknown"
    live = urlsplit(start_url).hostname == SITE_HOST
    stats = manifest.get("crawl_stats", {})
    text_citation, bibtex = citation(facts)
    kinds = pages.column("kind").to_pylist()
    rows = programmes.to_pylist()
    lines = [
        f"# {TITLE}",
        "",
        f"Release **{facts.release}** ({facts.date}) · dataset version `{manifest['version']}` · "
        f"schema {manifest.get('schema_version', '?')} · "
        f"{plural(programmes.num_rows, 'programme')}",
        "",
        "## What this is",
        "",
        "A table of **exit programmes**: disengagement, deradicalisation and rehabilitation work "
        "with people convicted of, or drawn to, violent extremism, run in prisons and in "
        "probation. One row per programme: its name, country, target audience, organisation, "
        "objectives, description, the sources its description cites, and the categories "
        "(setting, ideology, region) under which the source lists it. A second table lists every "
        "web page the crawl met and what became of it.",
        "",
        "**Source.** Everything here was collected from the *Exit Practices* website "
        f"({SITE_URL}), a catalogue of exit programmes built by the EU-funded **WayOut** project. "
        "The programme texts are theirs; this package only extracts and restructures them. It is "
        "not an official publication of the WayOut project.",
        "",
        "## How it was collected",
        "",
        f"- Crawled by exitscrape "
        f"{text(manifest.get('exitscrape_version', 'unknown'))} (a Scrapy crawler), starting "
        f"from {code(start_url)}, on {text(manifest['created_at'])} (crawl started "
        f"{text(stats.get('start_time', 'unknown'))}, finish reason "
        f"{code(stats.get('finish_reason', 'unknown'))}).",
        "- The crawler reads the site's menu to learn its categories, follows the category "
        "pages to the programme pages, and recognises a programme page by its labelled fields. "
        "A programme published under several URLs is one row listing all of them.",
        f"- Pages met: {len(kinds)} ({_counts(kinds)}).",
        "- Text is normalised: Unicode NFC, whitespace collapsed, invisible characters removed, "
        "missing values as nulls; `country_code` is derived with pycountry; `references` are "
        "read from the description by pattern (see Limitations).",
    ]
    if manifest.get("rebuilt_from"):
        lines.append(
            f"- **Rebuilt** by exitscrape {text(manifest.get('rebuilt_by', '?'))} from the "
            f"captures of dataset version {code(manifest['rebuilt_from'])}, with no new crawl: "
            "the pages are the ones that crawl received (their dates are `pages.fetched_at`), "
            "read again by this version's extraction."
        )
    source = manifest.get("source")
    if isinstance(source, dict):
        captures = source.get("captures") or {}
        lines.append(
            f"- **Read from a web archive**, not the live site: `{source.get('archive')}`, the "
            f"site as archived on {manifest.get('as_of')} (the pages' captures date from "
            f"{captures.get('first')} to {captures.get('last')}; each page's capture time and "
            "replay URL are in the pages table, `captured_at` and `archive_url`)."
        )
    if not live:
        lines.append(
            f"- **Not the live site.** This crawl started at {code(start_url)}, not at {SITE_URL}: "
            "it was made from a copy (such as exitscrape's bundled offline snapshot, whose "
            "category pages are synthetic). Do not use it as a record of the live site."
        )
    lines += [
        "",
        "## Files",
        "",
        "| file | rows | bytes | what |",
        "|---|---|---|---|",
    ]
    for path, size in facts.files:
        rows_in = facts.tables[path.rsplit("/", 1)[-1].split(".")[0]].num_rows
        what = "Parquet (typed, lists as lists)" if path.endswith(".parquet") else "CSV copy"
        lines.append(f"| `{path}` | {rows_in} | {size} | {what} |")
    if facts.evidence:
        lines.append(
            f"| `{facts.evidence}` | | | every HTTP response the crawl received (web archive): "
            "the evidence, see *Checking a value against its source* |"
        )
    lines += [
        "| `exit_programmes.db` | | | SQLite edition of both tables, for Datasette (below) |",
        "| `metadata.json` | | | Datasette metadata: titles, column descriptions, facets |",
        "| `datapackage.json` | | | Frictionless Data Package descriptor: schemas, hashes |",
        "| `CHANGELOG.md` | | | what changed since earlier releases |",
        "| `SHA256SUMS` | | | checksums of every other file: `sha256sum -c SHA256SUMS` |",
        "",
        "CSV copies: UTF-8 with a byte-order mark (Excel and LibreOffice open them as UTF-8 "
        "with a double-click), comma-separated, a header row; an **empty cell is null**; list "
        'columns hold **JSON arrays** (`["prison", "probation"]`, '
        '`[{"author": "RAN", "year": 2016}]`); timestamps are ISO 8601 in UTC. A text that '
        "starts with `=`, `+`, `-`, `@`, a tab or a carriage return (a description opening with "
        "a `- item` list, say) is prefixed with an apostrophe `'` in the CSV copies, so that no "
        "spreadsheet runs it as a formula (OWASP's advice against CSV injection); spreadsheets "
        "show the text without it, and the Parquet files hold the exact text. "
        "Check the package with `frictionless validate datapackage.json`.",
        "",
        "## Browse it",
        "",
        "`exit_programmes.db` holds both tables in SQLite: list columns as JSON arrays, "
        "timestamps as in the CSV copies, full-text search over the programmes' name, "
        "organisation, target audience, objectives and description (`programmes_fts`), and a "
        "view `programme_pages` joining each programme to the pages it was found at. Open it "
        "in [Datasette](https://datasette.io/) with this folder's metadata (column "
        "descriptions, facets on country and category):",
        "",
        "```sh",
        "pip install datasette",
        "datasette exit_programmes.db -m metadata.json   # then open http://127.0.0.1:8001/",
        "```",
        "",
        "or query it with any SQLite client "
        "(`sqlite3 exit_programmes.db 'SELECT name, country FROM programmes'`).",
        "",
        "## Data dictionary",
        "",
        *_dictionary("programmes", programmes.schema),
        *_dictionary("pages", pages.schema),
        "## Coverage and known gaps",
        "",
        f"- {plural(programmes.num_rows, 'programme')}. Countries: "
        f"{_counts([r['country'] for r in rows]) or 'none'}.",
        f"- Settings: {_counts([s for r in rows for s in r['settings']]) or 'none'}; "
        f"ideologies: {_counts([s for r in rows for s in r['ideologies']]) or 'none'}.",
        "- The catalogue is not a census of exit programmes: it holds the programmes the WayOut "
        "project chose to document, mostly European. Counts describe the catalogue, not the "
        "world.",
        "- Fields the source pages leave out are null (or empty lists), never guessed:",
        *[f"  {line}" for line in _missing(programmes)],
        *_gaps(pages),
        *_disagreements(rows),
        *_archive_gaps(manifest.get("start_url"), rows),
        "",
        *_checking(facts),
        "## Limitations",
        "",
        "- Texts are the programmes' own descriptions as published on the site: claims about "
        "aims and effects are not independently evaluated here.",
        "- Categories (`settings`, `ideologies`, `regions`) come from which category pages list "
        "a programme; a programme missing from a category page is missing that category.",
        "- `programme_id` is derived from name and country: it changes if either is renamed.",
        "- `references` are found by pattern (author–year in parentheses, e.g. "
        '`(Butt & Tuck, 2014)`). Narrative citations ("Butt and Tuck (2014) found") and '
        "footnotes are not captured, and an unusual parenthesis may be misread. They name "
        "sources; they are not a bibliography.",
        "- A snapshot in time: the site may have changed since the crawl date above.",
        "",
        "## Sensitivity",
        "",
        "The subject is violent extremism, terrorism offences and imprisonment. The data describes "
        "programmes and the organisations running them, not individuals, and holds no personal "
        "data about participants, though texts may name public figures (founders, former "
        "extremists who speak publicly). Do not use it to profile or identify individuals, and "
        "describe programmes, ideologies and participants with care: labels like `islamist` are "
        "the source's categories of programmes, not statements about any person or faith.",
        "",
        "## Licence",
        "",
        "- **The data's terms are not known.** No licence statement for the Exit Practices site "
        "was found; its texts remain the work of their authors (the WayOut project and the "
        "organisations described). Before republishing the texts or this package, **check the "
        "terms with the site's owners** (the WayOut project, via the site's Contact page), and "
        "always attribute the source as in *How to cite*.",
        "- The exitscrape code that built this package is MIT-licensed.",
        "",
        "## How to cite",
        "",
        "Cite the release you used (its version and date), and the source:",
        "",
        f"> {text_citation}",
        "",
        "```bibtex",
        bibtex,
        "```",
        "",
    ]
    return "\n".join(lines)
