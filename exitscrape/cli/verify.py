"""``exitscrape verify [VERSION ...] [--all]``: every file of a version against its manifest."""

from __future__ import annotations

import argparse

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error, json_text, one_line
from exitscrape.dataset.store import LATEST, DatasetStore, resolve_data_dir
from exitscrape.dataset.verify import Problem, listed_files

#: Exit status when something fails verification (0: all holds; 2: bad usage, no such version).
DAMAGED = 5


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check every file of dataset versions against their manifests",
        description="Check every file a version's manifest lists against the size and SHA-256\n"
        "recorded when it was published, and report files the manifest does not list.\n"
        "Without VERSION, the latest version; --all checks every version and LATEST, and\n"
        "lists folders that look like versions but are ignored.\n\n"
        "Readers (exitscrape.load, show, diff, versions) compare sizes only and name a file\n"
        "that cannot be read; a crawl verifies the version it compares with, and publishes\n"
        "past it when it is damaged; a release refuses a damaged version.",
        epilog="examples:\n"
        "  exitscrape verify                      # the latest version\n"
        "  exitscrape verify --all --data-dir /srv/exitscrape/datasets/exit_programmes\n"
        "  exitscrape verify 20261124T194512Z --json\n"
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
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def _size(nbytes: int) -> str:
    units = ("bytes", "KB", "MB", "GB", "TB")
    size, unit = float(nbytes), 0
    while size >= 1000 and unit < len(units) - 1:
        size, unit = size / 1000, unit + 1
    return f"{nbytes} bytes" if unit == 0 else f"{size:.1f} {units[unit]}"


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
        problems += found
        if args.json:
            continue
        if found:  # as each version is checked: the progress of a long --all
            echo(f"DAMAGED  {name}", *(f"  {one_line(problem)}" for problem in found))
        else:
            files = listed_files(store.manifest(name))
            total = sum(entry["bytes"] for entry in files.values())
            echo(f"ok       {name}  ({len(files)} files, {_size(total)})")
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
            f"exitscrape verify: {len(problems)} problem(s), {damaged} of {len(names)} "
            "version(s) damaged"
        )
        return DAMAGED
    echo(f"all {len(names)} version(s) hold")
    return 0
