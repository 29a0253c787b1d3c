"""``exitscrape show NAME-OR-ID``: one programme in full."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, json_text, one_line
from exitscrape.dataset.diff import item_text
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.dataset.wording import plural
from exitscrape.evidence.reader import CapturesError, read_index
from exitscrape.evidence.verify import captures_path
from exitscrape.evidence.writer import CAPTURES_FILE


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print one programme in full",
        description="Print every field of one programme.\n\n"
        "NAME-OR-ID is matched case-insensitively against programme_id and name: first\n"
        "exactly, then as a prefix, then as a part of the name. It must pick out one\n"
        "programme; when several match, they are listed.",
        epilog="examples:\n"
        "  exitscrape show mentoring-programme-no\n"
        '  exitscrape show "healthy identity"\n'
        "  exitscrape show team --version 20261124T194846Z --json\n"
        "  exitscrape show mentoring --source           # the captured pages it came from\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "query",
        metavar="NAME-OR-ID",
        help="programme_id or name (or its start, or a part of the name)",
    )
    parser.add_argument("--version", default="latest", help="dataset version (default: latest)")
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the programme as JSON")
    parser.add_argument(
        "--source",
        action="store_true",
        help="also say where its values came from: each page's URL, capture date and WARC "
        "record in the version's captures (with --json: under 'evidence')",
    )
    parser.set_defaults(func=run)


def find(rows: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """The one row *query* names; :class:`DatasetError` when none or several match."""
    wanted = query.strip().casefold()
    if not wanted:
        raise DatasetError("give a programme_id or a name")
    steps = (
        lambda r: r["programme_id"].casefold() == wanted or r["name"].casefold() == wanted,
        lambda r: (
            r["programme_id"].casefold().startswith(wanted)
            or r["name"].casefold().startswith(wanted)
        ),
        lambda r: wanted in r["name"].casefold(),
    )
    for step in steps:
        matches = [r for r in rows if step(r)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = "\n".join(f"  {r['programme_id']}  ({one_line(r['name'])})" for r in matches)
            raise DatasetError(f"{query!r} matches {plural(len(matches), 'programme')}:\n{names}")
    raise DatasetError(
        f"no programme matches {query!r} (try `exitscrape show` with part of its name)"
    )


def _value(value: Any) -> list[str]:
    if value is None or value == []:
        return ["  (none)"]
    if isinstance(value, list):
        return [f"  - {one_line(item_text(v))}" for v in value]
    lines = []
    for paragraph in str(value).split("\n"):
        # "terrorism-related" stays whole: a line never ends at a hyphen inside a word.
        lines += textwrap.wrap(
            one_line(paragraph),
            width=96,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        ) or [""]
    return lines


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    version = store.resolve(args.version)
    row = find(store.read("programmes", version).to_pylist(), args.query)
    evidence = sources(store, version, row) if args.source else None
    if args.json:
        echo(json_text({**row, "evidence": evidence} if evidence is not None else row))
        return 0
    lines = [f"{one_line(row['name'])}  [{row['programme_id']}]  (dataset version {version})"]
    for name, value in row.items():
        lines += ["", f"{name}:", *_value(value)]
    if evidence is not None:
        lines += ["", *source_lines(store.root / version, evidence)]
    echo(*lines)
    return 0


def sources(store: DatasetStore, version: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The captured responses *row*'s values were extracted from (its ``source_urls``), and the
    pages the crawl reached them from, with where each is in the version's captures."""
    pages = store.read("pages", version).to_pylist()
    by_final = {page["final_url"]: page for page in pages if page["final_url"]}
    by_url = {page["url"]: page for page in pages}
    folder = store.root / version
    try:
        path = captures_path(folder, store.manifest(version))
        offsets = {r.record_id: r.offset for r in read_index(path).responses}
    except CapturesError:
        offsets = {}
    found = []
    for url in row["source_urls"]:
        page = by_final.get(url) or by_url.get(url) or {}
        referer = by_url.get(page.get("referer") or "") or {}
        found.append(
            {
                "url": url,
                "captured_at": page.get("fetched_at"),
                "warc_record_id": page.get("warc_record_id"),
                "offset": offsets.get(page.get("warc_record_id") or ""),
                "reached_from": {
                    "url": referer.get("final_url") or referer.get("url"),
                    "captured_at": referer.get("fetched_at"),
                    "warc_record_id": referer.get("warc_record_id"),
                }
                if referer
                else None,
            }
        )
    return found


def source_lines(folder: Path, evidence: list[dict[str, Any]]) -> list[str]:
    captures = folder / CAPTURES_FILE
    lines = [
        "source (where the values come from):",
        "  name to description, country_code, references: extracted from its page"
        + (" (copies of one programme, at these URLs)" if len(evidence) > 1 else ""),
    ]
    for source in evidence:
        lines.append(f"    {one_line(source['url'])}")
        lines.append(f"      {_capture(source)}")
        if source["offset"] is not None:
            lines.append(f"      warcio extract --payload {captures} {source['offset']}")
    referers = [s["reached_from"] for s in evidence if s["reached_from"]]
    lines.append(
        "  settings, ideologies, regions: from the category pages that link to it (pages.parquet, "
        "kind listing)" + ("; the crawl first reached it from" if referers else "")
    )
    for referer in {r["url"]: r for r in referers}.values():
        lines.append(f"    {one_line(referer['url'])}")
        lines.append(f"      {_capture(referer)}")
    return lines


def _capture(page: dict[str, Any]) -> str:
    if not page.get("warc_record_id"):
        when = page.get("captured_at")
        return f"fetched {when:%Y-%m-%d %H:%M:%S} UTC; not in captures" if when else "not fetched"
    when = f"{page['captured_at']:%Y-%m-%d %H:%M:%S.%f} UTC"
    return f"captured {when}, record {one_line(page['warc_record_id'])}"
