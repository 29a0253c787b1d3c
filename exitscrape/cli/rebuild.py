"""``exitscrape rebuild VERSION [--publish]``: the version re-derived from its captures alone."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from exitscrape.cli import diff
from exitscrape.cli.crawl import crawl
from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error
from exitscrape.dataset.diff import diff_tables
from exitscrape.dataset.store import DatasetDamaged, DatasetError, DatasetStore, resolve_data_dir
from exitscrape.evidence.reader import CapturesError, read_info
from exitscrape.evidence.verify import captures_path
from exitscrape.extensions.outcome import Outcome, RunOutcome


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rebuild",
        help="re-derive a version from its captures, without the network",
        description="Replay VERSION's captures (captures.warc.gz: every response its crawl "
        "received) through the same spider, page objects and pipelines as a crawl, with no "
        "network and no HTTP cache, and say whether the programmes equal VERSION's. The site "
        "need not be up: the version's own files are all it needs. A request the captures lack "
        "is recorded as a failed page (not captured).\n\n"
        "With --publish the result is published as a new version (the latest), whose manifest "
        "names the version it was rebuilt from (rebuilt_from) and the exitscrape that rebuilt "
        "it (rebuilt_by), after the quality gates, as a crawl would be: the way to apply an "
        "extraction fix to a version already published.",
        epilog="examples:\n"
        "  exitscrape rebuild latest                 # does the latest version rebuild the same?\n"
        "  exitscrape rebuild 20261124T194846Z --publish\n"
        "\nexit codes: 0 the programmes equal VERSION's (with --publish: published, or equal to\n"
        "the latest version), 1 they differ (without --publish) or the rebuild produced nothing,\n"
        "2 bad usage, no such version, or no usable captures, 3 a quality gate failed\n"
        "(--publish; --force overrides), 4 another run holds the data dir's lock.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "version", metavar="VERSION", help="a name, an unambiguous prefix or 'latest'"
    )
    parser.add_argument(
        "--publish", action="store_true", help="publish the rebuilt data as a new version"
    )
    parser.add_argument(
        "--force", action="store_true", help="with --publish: publish even if a quality gate fails"
    )
    add_data_dir(parser)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log the replay (-vv: everything)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    parser.set_defaults(func=run)


def _replay(
    store: DatasetStore, version: str, data_dir: Path, args: argparse.Namespace
) -> RunOutcome:
    """Run the spider on *version*'s captures, publishing into *data_dir*."""
    folder = (store.root / version).resolve()
    manifest = store.manifest(version)
    damage = store.verify(version)  # every file against the manifest, the captures' bytes too
    if damage:
        raise DatasetDamaged(
            f"cannot rebuild version {version}: it fails verification: "
            + "; ".join(map(str, damage))
        )
    try:
        captures = captures_path(folder, manifest)
        info = read_info(captures)
    except CapturesError as error:
        raise DatasetError(f"cannot rebuild: {error}") from None
    if info is None:
        raise DatasetError(f"cannot rebuild: {captures} does not start with a warcinfo record")
    start_url = info.start_url or manifest.get("start_url")
    if not start_url:
        raise DatasetError(f"cannot rebuild: neither {captures} nor the manifest name a start URL")
    # Imports Scrapy: here, not at the top, so that every other command starts fast.
    from exitscrape.evidence.replay import replay_settings

    overrides = {
        **replay_settings(folder, info),
        "LOG_LEVEL": "ERROR" if not args.verbose else "INFO" if args.verbose == 1 else "DEBUG",
        "EXITSCRAPE_DATA_DIR": str(data_dir),
        "EXITSCRAPE_FORCE": args.force or not args.publish,
    }
    if args.quiet:
        overrides["EXITSCRAPE_PROGRESS"] = "off"
    if not args.publish:  # the quick-check plan of a scratch data dir stays in it
        overrides["EXITSCRAPE_CACHE_DIR"] = str(data_dir / "cache")
    return crawl(start_url, overrides)


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    version = store.resolve(args.version)
    if args.force and not args.publish:
        echo_error("exitscrape rebuild: --force only applies with --publish")
        return 2
    with tempfile.TemporaryDirectory(prefix="exitscrape-rebuild-") as scratch:
        target = DatasetStore(store.root if args.publish else Path(scratch) / "data")
        outcome = _replay(store, version, target.root, args)
        if outcome.outcome is Outcome.LOCKED:
            echo_error(f"exitscrape rebuild: not started: {outcome.reason}")
            return outcome.exit_code
        finished = store.manifest(version).get("crawl_stats", {}).get("finish_reason", "finished")
        if outcome.finish_reason != finished:  # stopped early (Ctrl-C, say): no verdict
            published = outcome.outcome is Outcome.PUBLISHED
            echo_error(
                f"exitscrape rebuild: the replay ended with {outcome.finish_reason}, the crawl "
                f"with {finished}: no verdict"
                + (f"; --force published version {outcome.version}" if published else "")
            )
            return 130 if outcome.finish_reason == "shutdown" else 1
        not_captured = outcome.failed_by_reason.get("NotCaptured", 0)
        if not args.quiet:
            echo(
                f"replayed the captures of version {version}: {outcome.pages} pages "
                f"({not_captured} not captured), {outcome.programmes} programmes; "
                "no network used"
            )
        if outcome.version is None:
            echo_error(f"exitscrape rebuild: FAILED: {outcome.reason or 'nothing was rebuilt'}")
            return outcome.exit_code or 1
        result = diff_tables(
            store.read("programmes", version), target.read("programmes", outcome.version)
        )
    if result.empty:
        echo(f"programmes: equal to version {version}'s")
    else:
        echo(
            f"programmes: DIFFER from version {version}'s: {len(result.added)} added, "
            f"{len(result.removed)} removed, {len(result.changed)} changed",
            *diff.lines(result),
        )
    if not args.publish:
        return 0 if result.empty else 1
    if outcome.outcome is Outcome.PUBLISHED:
        echo(f"published version {outcome.version} (rebuilt from {version})")
    elif outcome.outcome is Outcome.UNCHANGED:
        echo(
            f"nothing published: the rebuilt programmes equal the latest version "
            f"({outcome.version})"
        )
    return outcome.exit_code
