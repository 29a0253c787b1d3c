"""``exitscrape verify [VERSION ...] [--all] [--rebuild]``: check versions against their manifests
and their evidence."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error, json_text, one_line
from exitscrape.dataset.files import open_regular, stream_sha256
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.dataset.wording import plural
from exitscrape.evidence.verify import check_evidence

_SHOWN_PROBLEMS = 20


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check versions' files and evidence (checksums, captures)",
        description="Check dataset versions:\n"
        "  - every file the manifest lists has its bytes and SHA-256;\n"
        "  - captures.warc.gz: every record's digests (as `warcio check`), and every pages row\n"
        "    with a status names a response in it, for its URL, with its status, whose body\n"
        "    hashes to its body_sha256;\n"
        "  - with --rebuild: the captures rebuild into the same programmes (exitscrape rebuild).",
        epilog="examples:\n"
        "  exitscrape verify                  # the latest version\n"
        "  exitscrape verify --all --rebuild\n"
        "\nexit codes: 0 every version checked is intact, 1 a problem was found (each is named),\n"
        "2 bad usage or no such version.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "versions", metavar="VERSION", nargs="*", help="versions to check (default: latest)"
    )
    parser.add_argument("--all", action="store_true", help="check every version")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="also rebuild each version from its captures and compare (slower)",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def manifest_problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file the manifest lists exists as a regular file with its bytes and SHA-256."""
    problems = []
    for name, listed in sorted((manifest.get("files") or {}).items()):
        try:
            with open_regular(folder / name) as file:  # not a symlink or a FIFO planted there
                size, digest = os.fstat(file.fileno()).st_size, stream_sha256(file)
        except OSError as error:
            problems.append(f"{name}: cannot read it: {error.strerror or error}")
            continue
        if size != listed.get("bytes") or digest != listed.get("sha256"):
            problems.append(
                f"{name}: SHA-256 {digest} ({size} bytes), the manifest lists "
                f"{listed.get('sha256')} ({listed.get('bytes')} bytes): changed after publishing"
            )
    return problems


def _rebuild_problems(store: DatasetStore, version: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "exitscrape", "rebuild", version, "--data-dir", str(store.root)],
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return []
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return ["rebuild: " + line for line in lines[-_SHOWN_PROBLEMS:]] or ["rebuild failed"]


def verify(store: DatasetStore, version: str, rebuild: bool) -> dict[str, Any]:
    """The checks of one version: its problems (none when intact) and notes."""
    folder = store.root / version
    try:
        manifest = store.manifest(version)
    except (OSError, ValueError) as error:
        return {"version": version, "problems": [f"manifest.json: {error}"], "notes": []}
    problems = manifest_problems(folder, manifest)
    notes = []
    try:
        pages = store.read("pages", version)
    except Exception as error:  # a damaged Parquet file: named above, nothing to check against
        problems.append(f"pages.parquet: cannot read it: {error}")
    else:
        evidence = check_evidence(folder, manifest, pages)
        problems += evidence.problems
        if evidence.note:
            notes.append(evidence.note)
        elif evidence.captures:
            notes.append(f"{evidence.responses} captured responses checked")
    if rebuild and not any(note.startswith(f"version {version} has no") for note in notes):
        problems += _rebuild_problems(store, version)
    return {"version": version, "problems": problems, "notes": notes}


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    if args.all and args.versions:
        echo_error("exitscrape verify: give versions or --all, not both")
        return 2
    if args.all:
        versions = store.versions()
        if not versions:
            raise DatasetError(f"no dataset in {store.root}: run `exitscrape crawl` first")
    else:
        versions = list(dict.fromkeys(store.resolve(v) for v in args.versions or ["latest"]))
    results = [verify(store, version, args.rebuild) for version in versions]
    if args.json:
        echo(json_text(results))
    for result in results if not args.json else []:
        problems = result["problems"]
        status = "ok" if not problems else f"FAILED ({plural(len(problems), 'problem')})"
        lines = [f"{result['version']}: {status}" + "".join(f"; {n}" for n in result["notes"])]
        lines += [f"  ! {one_line(problem)}" for problem in problems[:_SHOWN_PROBLEMS]]
        if len(problems) > _SHOWN_PROBLEMS:
            lines.append(
                f"  ! ... and {len(problems) - _SHOWN_PROBLEMS} more (--json lists them all)"
            )
        echo(*lines)
    return 1 if any(result["problems"] for result in results) else 0
