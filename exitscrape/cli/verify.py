"""``exitscrape verify [VERSION ...] [--all] [--rebuild]``: every file of a version against its
manifest, and its evidence: the captures against themselves and its pages table."""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error, json_text, one_line
from exitscrape.dataset.store import LATEST, DatasetStore, resolve_data_dir
from exitscrape.dataset.verify import Problem, listed_files
from exitscrape.dataset.wording import plural
from exitscrape.evidence.verify import check_evidence
from exitscrape.evidence.writer import CAPTURES_FILE

#: Exit status when something fails verification (0: all holds; 2: bad usage, no such version).
DAMAGED = 5


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check dataset versions: every file against its manifest, and their captures",
        description="Check every file a version's manifest lists against the size and SHA-256\n"
        "recorded when it was published, and report files the manifest does not list.\n"
        "Then its evidence (captures.warc.gz): every record's digests (as `warcio check`),\n"
        "and every pages row with a status against the response it names: the record exists,\n"
        "is for the row's URL, has its status, and its body hashes to the row's body_sha256.\n"
        "--rebuild also rebuilds each version from its captures (exitscrape rebuild) and\n"
        "checks the programmes are the same.\n"
        "Without VERSION, the latest version; --all checks every version and LATEST, and\n"
        "lists folders that look like versions but are ignored.\n\n"
        "Readers (exitscrape.load, show, diff, versions) compare sizes only and name a file\n"
        "that cannot be read; a crawl verifies the version it compares with, and publishes\n"
        "past it when it is damaged; a release refuses a damaged version.",
        epilog="examples:\n"
        "  exitscrape verify                      # the latest version\n"
        "  exitscrape verify --all --data-dir /srv/exitscrape/datasets/exit_programmes\n"
        "  exitscrape verify 20261124T194512Z --json\n"
        "  exitscrape verify --all --rebuild                 # slower: replays every version\n"
        f"\nexit codes: 0 every file holds, {DAMAGED} something is damaged (each bad file is\n"
        "named), 2 bad usage or no such version.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "versions",
        metavar="VERSION",
        nargs="*",
        help="versions to check: names, unambiguous prefixes or 'latest' (default: latest)",
    )
    parser.add_argument("--all", action="store_true", help="check every version and LATEST")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="also rebuild each version from its captures and compare the programmes",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def _size(nbytes: int) -> str:
    units = ("bytes", "KB", "MB", "GB", "TB")
    size, unit = float(nbytes), 0
    while size >= 1000 and unit < len(units) - 1:
        size, unit = size / 1000, unit + 1
    return f"{nbytes} bytes" if unit == 0 else f"{size:.1f} {units[unit]}"


def _is_regular(path: os.PathLike[str]) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def evidence_problems(store: DatasetStore, name: str) -> tuple[list[Problem], str | None]:
    """The problems of version *name*'s captures against themselves and its pages, and what
    was checked (``None``: nothing, when the version has no captures or a file they need is
    unusable: missing, not a regular file, a damaged table, which the manifest check names)."""
    folder = store.root / name
    if not all(_is_regular(folder / file) for file in (CAPTURES_FILE, "pages.parquet")):
        return [], None
    try:
        pages = store.read("pages", name)
    except Exception:  # a damaged table: the manifest check names it
        return [], None
    report = check_evidence(folder, store.manifest(name), pages)
    return report.problems, f"{report.responses} captured responses checked"


def rebuild_problems(store: DatasetStore, name: str) -> list[Problem]:
    """``exitscrape rebuild NAME`` in a process of its own (each replay is a crawl): its verdict
    as a problem unless the programmes are the same."""
    command = ["rebuild", name, "-q", "--data-dir", str(store.root)]
    result = subprocess.run(
        [sys.executable, "-m", "exitscrape", *command],
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return []
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return [Problem(name, f"rebuild: {line}") for line in said[-10:]] or [
        Problem(name, f"rebuild: failed (exit status {result.returncode})")
    ]


def run(args: argparse.Namespace) -> int:
    if args.all and args.versions:
        echo_error("exitscrape verify: give versions or --all, not both")
        return 2
    store = DatasetStore(resolve_data_dir(args.data_dir))
    problems: list[Problem] = []
    if args.all:
        names = store.versions()
        if not names:
            store.resolve()  # says why there is no dataset
        latest_problem = store.latest_problem()
        if latest_problem:
            problems.append(Problem(LATEST, latest_problem))
    elif args.versions:
        names = list(dict.fromkeys(store.resolve(v) for v in args.versions))
    else:
        names = [store.resolve()]
    findings: dict[str, list[Problem]] = {}
    for name in names:
        findings[name] = found = store.verify(name)
        # Against a damaged pages table the captures would only add noise; damaged captures
        # are still read, to name the records that changed.
        if not any(problem.path == f"{name}/pages.parquet" for problem in found):
            evidence, checked = evidence_problems(store, name)
            found += evidence
        else:
            checked = None
        if args.rebuild and checked and not found:
            found += rebuild_problems(store, name)
            checked += ", rebuilt the same"
        problems += found
        if args.json:
            continue
        if found:  # as each version is checked: the progress of a long --all
            echo(f"DAMAGED  {name}", *(f"  {one_line(problem)}" for problem in found))
        else:
            files = listed_files(store.manifest(name))
            total = sum(entry["bytes"] for entry in files.values())
            checked = checked or ("no captures" if CAPTURES_FILE not in files else None)
            what = f"{len(files)} files, {_size(total)}" + (f"; {checked}" if checked else "")
            echo(f"ok       {name}  ({what})")
    ignored = store.strays() if args.all else []
    if args.json:
        document = {
            "versions": {name: [str(p) for p in found] for name, found in findings.items()},
            "problems": [str(p) for p in problems],
            "ignored": [str(p) for p in ignored],
        }
        echo(json_text(document))
        return DAMAGED if problems else 0
    for problem in problems:
        if problem.path == LATEST:
            echo(f"DAMAGED  {one_line(problem)}")
    for stray in ignored:
        echo(f"note: {one_line(stray)}")
    damaged = sum(1 for found in findings.values() if found)
    if problems:
        echo_error(
            f"exitscrape verify: {plural(len(problems), 'problem')}, {damaged} of "
            f"{plural(len(names), 'version')} damaged"
        )
        return DAMAGED
    echo("the version holds" if len(names) == 1 else f"all {len(names)} versions hold")
    return 0
