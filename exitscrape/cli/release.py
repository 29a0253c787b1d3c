"""``exitscrape release [VERSION] --out DIR``: build a citable release of a dataset version."""

from __future__ import annotations

import argparse
import shlex

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.release import build_release
from exitscrape.release.changelog import LEVELS


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "release",
        help="build a citable release (Data Package, CSV, data card, changelog, zip)",
        description="Build a release folder from a dataset version:\n"
        "  data/*.parquet, data/*.csv   the tables, and CSV copies (lists as JSON arrays)\n"
        "  datapackage.json             Frictionless Data Package (schemas, hashes)\n"
        "  README.md                    data card: source, collection, dictionary, gaps,\n"
        "                               limitations, licence, how to cite\n"
        "  CHANGELOG.md, SHA256SUMS     changes since earlier releases; checksums\n"
        "and <DIR>.zip beside the folder, which unpacks into one folder <DIR>/. The CSV copies\n"
        "are UTF-8 with a byte-order mark (a double-click opens them right in Excel and\n"
        "LibreOffice), and a text that starts like a formula (=, +, -, @) gets a ' in front.\n\n"
        "The release number follows semantic versioning for data, from the diff against the\n"
        "previous release: a schema change is major, added or removed programmes minor,\n"
        "corrected values a patch; the first release is 1.0.0. Releases are recorded in\n"
        "<data-dir>/releases.json (see docs/releases.md).",
        epilog="examples:\n"
        "  exitscrape release --out releases/exit-programmes\n"
        "  exitscrape release 20261124T194846Z --out /tmp/r --data-dir datasets/exit_programmes\n"
        "  frictionless validate releases/exit-programmes/datapackage.json\n"
        "\nexit codes: 0 built, 2 refused (nothing written or recorded), 5 the version fails\n"
        "verification (exitscrape verify names the damaged file). A failed release leaves\n"
        "nothing half-built, and puts back the release --force was replacing.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "version",
        metavar="VERSION",
        nargs="?",
        default="latest",
        help="dataset version to release: a name, an unambiguous prefix or 'latest' (default)",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="release folder to create (new or empty, outside the data dir; DIR.zip must not "
        "exist)",
    )
    add_data_dir(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace --out and DIR.zip when they are an earlier release exitscrape built and "
        "nobody changed (anything else is refused and left alone)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    result = build_release(store, args.out, args.version, force=args.force)
    if result.rebuilt:
        why = "rebuilt: this dataset version was already released under this number"
    elif result.previous is None:
        why = "first release"
    else:
        why = f"since {result.previous['release']}: {LEVELS[result.level]}"
    lines = [f"release {result.release} of dataset version {result.version} ({why})"]
    if result.diff is not None:
        d = result.diff
        lines.append(
            f"  +{len(d.added)} added, -{len(d.removed)} removed, ~{len(d.changed)} changed "
            f"programmes; columns +{len(d.added_columns)} -{len(d.removed_columns)}"
        )
    lines += [
        f"  folder: {result.folder}",
        f"  zip:    {result.zip}",
        f"  check:  frictionless validate {result.folder / 'datapackage.json'}",
        # frictionless refuses a zip given by an absolute path ("not safe"): from its folder.
        f"          cd {shlex.quote(str(result.zip.parent))} && frictionless validate "
        f"{shlex.quote(result.zip.name)} --innerpath "
        f"{shlex.quote(result.folder.name + '/datapackage.json')}",
    ]
    echo(*lines)
    return 0
