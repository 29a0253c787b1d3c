"""Publish extension: turns a crawl into a dataset version, or says why it did not.

A run holds the data dir's lock (:mod:`exitscrape.extensions.runlock`) from the spider's opening
to the end of publishing; a second run on the same data dir closes at once with outcome
``locked``. When the spider closes (``spider_closed``, which knows the finish reason): the
collected records (:mod:`exitscrape.pipelines.collect`) are assembled into tables, the quality
gates (:mod:`exitscrape.dataset.quality`) judge them against the previous version, the store
publishes them (nothing new when the data equals the latest version's, unless that version fails
verification: then the crawl is published past it), and the quick-check plan for the next run is
written. A failing gate publishes nothing unless ``EXITSCRAPE_FORCE``.
A quick check that found every page as before (:mod:`exitscrape.incremental`) skips all that.

What the run produced is in :attr:`PublishExtension.outcome` (a :class:`RunOutcome`), which
``exitscrape crawl`` turns into its summary and exit status; every run, whatever its outcome,
leaves a report in ``<data-dir>/runs/``. A run stopped by a signal (finish reason ``shutdown``)
is ``interrupted``: nothing is assembled or published.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

import pyarrow as pa
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from exitscrape import __version__
from exitscrape.archive.addon import archive_source
from exitscrape.dataset.assemble import Tables, assemble
from exitscrape.dataset.identity import carry_ids
from exitscrape.dataset.quality import BOUNDS, Thresholds, check
from exitscrape.dataset.redact import redact_urls
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.dataset.wording import plural
from exitscrape.evidence.capture import RunEvidence, run_evidence
from exitscrape.evidence.writer import Span
from exitscrape.extensions import runreport
from exitscrape.extensions.outcome import (
    OUTCOME_STAT,
    SUMMARISED,
    VERSION_STAT,
    Outcome,
    RunOutcome,
)
from exitscrape.extensions.runlock import LockBusy, RunLock
from exitscrape.incremental import quickcheck, replay
from exitscrape.incremental.middleware import QuickCheckMiddleware
from exitscrape.pipelines.collect import CollectPipeline
from exitscrape.spiders.base import scope_of

logger = logging.getLogger(__name__)

#: Scrapy's finish reason for a crawl stopped from outside (a signal, ``Crawler.stop()``).
INTERRUPTED = "shutdown"


def failed_by_reason(tables: Tables) -> dict[str, int]:
    """Failed pages counted by the kind of error (``HTTP 503``, ``TimeoutError``, ...)."""
    errors = [
        error.split(":")[0]
        for kind, error in zip(
            tables.pages.column("kind").to_pylist(),
            tables.pages.column("error").to_pylist(),
            strict=True,
        )
        if kind == "failed" and error
    ]
    return dict(sorted(Counter(errors).items()))


class PublishExtension:
    def __init__(self, crawler: Crawler) -> None:
        # Arrow's default allocator (mimalloc) keeps what it frees: the tables, their casts and
        # the Parquet writer's buffers stacked up, and a 10,000-page crawl peaked at 283 MiB
        # against 265 with the system allocator, which hands freed memory back.
        pa.set_memory_pool(pa.system_memory_pool())
        self.crawler = crawler
        self.store = DatasetStore(resolve_data_dir(crawler.settings.get("EXITSCRAPE_DATA_DIR")))
        self.lock = RunLock(self.store.root)
        started = datetime.now(UTC)
        self.outcome = RunOutcome(runreport.run_id(started), started, self.store.root)
        self._holding_lock = False
        self.closed = False  # the spider closed (this run's outcome is final)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PublishExtension:
        return cls(crawler)

    def _set(self, outcome: Outcome, reason: str | None = None) -> None:
        self.outcome.outcome = outcome
        self.outcome.reason = reason

    def spider_opened(self, spider: Spider) -> None:
        self.outcome.start_url = scope_of(self.crawler).start_url
        try:
            self.lock.acquire()
        except LockBusy as error:
            self._set(Outcome.LOCKED, str(error))
            logger.error("%s", error, extra={SUMMARISED: True})
            raise CloseSpider("lock_busy") from None
        except OSError as error:
            why = f"{error.filename}: {error.strerror}" if error.filename else str(error)
            self._set(Outcome.FAILED, f"cannot use the data dir {self.store.root}: {why}")
            raise CloseSpider("data_dir_unusable") from None
        self._holding_lock = True

    def spider_closed(self, spider: Spider | None, reason: str) -> None:
        """Publish, or say why not; report; release the lock. ``exitscrape crawl`` calls it
        after a forced stop (a second Ctrl-C), which closes no spider."""
        self.closed = True
        self.outcome.finish_reason = reason
        evidence = run_evidence(self.crawler)
        try:
            if reason == INTERRUPTED:
                by = self.outcome.signal or "a signal"
                self._set(Outcome.INTERRUPTED, f"interrupted by {by}; nothing published")
            elif self._holding_lock:
                self._publish(reason, evidence)
        except Exception as error:  # the run must still end with an outcome and a report
            logger.exception("Publishing failed")
            self._set(Outcome.FAILED, f"internal error while publishing: {error!r}")
        finally:
            evidence.discard()  # published with the version, or removed: never left behind
            self._report()
            if self._holding_lock:
                self.lock.release()

    def _previous(self) -> pa.Table | None:
        """The latest version's programmes, to compare with; ``None`` when there is none, or it
        fails verification (recorded in the outcome: the crawl is then published past it)."""
        repaired = self.store.recover()  # a publish a killed run left half done
        if repaired:
            logger.warning("%s", repaired)
        latest = self.store.latest()
        if latest is None:
            return None
        self.outcome.damaged_latest = [str(p) for p in self.store.verify(latest)]
        if self.outcome.damaged_latest:
            logger.warning(
                "The latest version %s is damaged (%s): publishing this crawl past it",
                latest,
                "; ".join(self.outcome.damaged_latest),
            )
            return None
        try:
            return self.store.read("programmes", latest)
        except (OSError, DatasetError, pa.ArrowException) as error:
            logger.warning("Cannot read version %s to compare with: %s", latest, error)
            return None

    def _quick_check_verdict(self, reason: str) -> bool:
        """Record the quick check's findings; ``True`` when it found every page as before."""
        middleware = self.crawler.get_spider_middleware(QuickCheckMiddleware)
        quick_check = middleware.check if middleware else None
        if quick_check is None:
            return False
        run = self.outcome
        run.quick_check = quick_check.summary()
        if not (quick_check.unchanged and reason == "finished"):
            return False
        self._set(
            Outcome.UNCHANGED,
            f"quick check: all {plural(len(quick_check.pages), 'page')} answered as they did in "
            f"the last full crawl (version {quick_check.version})",
        )
        run.version = quick_check.version
        run.pages = len(quick_check.pages)
        run.programmes = quick_check.programmes
        run.failed_pages = quick_check.failed_pages
        run.problems = quick_check.problems
        return True

    def _publish(self, reason: str, evidence: RunEvidence) -> None:
        if self._quick_check_verdict(reason):
            return
        settings = self.crawler.settings
        collect = self.crawler.get_item_pipeline(CollectPipeline)
        if collect is None:
            raise RuntimeError("the publish extension needs the collect pipeline")
        run = self.outcome
        try:
            previous = self._previous()
        except OSError as error:
            self._set(Outcome.FAILED, f"could not use the data dir {self.store.root}: {error}")
            return
        tables = assemble(collect.records, previous)
        kinds = tables.pages.column("kind").to_pylist()
        errors = dict(
            zip(
                tables.pages.column("url").to_pylist(),
                tables.pages.column("error").to_pylist(),
                strict=True,
            )
        )
        run.pages = len(kinds)
        run.programmes = tables.programmes.num_rows
        run.failed_pages = kinds.count("failed")
        run.failed_by_reason = failed_by_reason(tables)
        run.warnings = tables.warnings
        run.disagreements = tables.disagreements
        run.problems = [f"{url}: {error}" for url, error in errors.items() if error]
        for warning in tables.warnings:
            logger.warning(warning)
        for disagreement in tables.disagreements:  # the summary and the run report list them
            logger.info("Copies of %r differ: kept %s", disagreement.name, disagreement.kept)
        # A programme renamed on the site keeps its id. The digest stays the crawl's own (before
        # the carry): the next crawl of the same site computes it again and finds it unchanged.
        tables.programmes = carry_ids(tables.programmes, previous)
        source = archive_source(self.crawler)
        if source is not None:
            captured = [t for t in tables.pages.column("captured_at").to_pylist() if t]
            run.as_of, run.source = source.manifest(captured)
        run.gates = check(tables, previous, reason, Thresholds.from_settings(settings))
        failed = [gate for gate in run.gates if not gate.passed]
        force = settings.getbool("EXITSCRAPE_FORCE")
        if tables.programmes.num_rows == 0 and (force or reason not in BOUNDS):
            start = run.start_url
            message = "no programme page was crawled successfully"
            if errors.get(start or "") or not kinds:
                message += (
                    f" (the start page {start} failed: {errors.get(start or '', 'no response')})"
                )
            self._set(Outcome.FAILED, message)
            return
        if failed and not force:
            self._set(
                Outcome.GATE_FAILED,
                "; ".join(f"quality gate {gate.gate} failed: {gate.message}" for gate in failed),
            )
            return
        if failed:
            run.forced = [gate.gate for gate in failed]
            for gate in failed:
                logger.warning("Publishing despite failed gate %s: %s", gate.gate, gate.message)
        assert self.crawler.stats is not None
        manifest = {
            "start_url": run.start_url,
            "exitscrape_version": __version__,
            "run_id": run.run_id,
            "crawl_stats": runreport.crawl_stats(self.crawler.stats.get_stats()),
            "pages_by_kind": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
            "quality_gates": [gate.as_dict() for gate in run.gates],
            "forced": run.forced or None,
            "replaces_damaged": run.damaged_latest or None,
        }
        if run.source is not None:
            manifest |= {
                "as_of": run.as_of.isoformat() if run.as_of else None,
                "source": run.source,
            }
        by_as_of = settings.getbool("EXITSCRAPE_NAME_BY_AS_OF")
        try:
            version = self.store.publish(
                tables.as_dict,
                tables.digest,
                redact_urls({**manifest, **evidence.manifest()}),
                past_damaged=bool(run.damaged_latest),
                named_at=run.as_of if by_as_of else None,
                files=evidence.files(),
            )
        except OSError as error:
            self._set(Outcome.FAILED, f"could not write the dataset to {self.store.root}: {error}")
            return
        except DatasetError as error:
            self._set(Outcome.FAILED, str(error))
            return
        # Written: the programmes tables (35 MB each at 10,000 programmes) go before what follows
        # builds up memory of its own (a 10,000-page crawl peaked 15 MB higher with them kept).
        pages, programmes = tables.pages, tables.programmes.num_rows
        del tables, previous
        if version is None:
            self._set(Outcome.UNCHANGED)
            run.version = self.store.latest()
        else:
            self._set(Outcome.PUBLISHED)
            run.version = version
            run.first = self.store.manifest(version).get("parent") is None
        if reason == "finished" and source is None:  # an archive's answers are not the site's
            quickcheck.write_plan(
                settings,
                version=str(self.store.latest()),
                start_url=run.start_url or "",
                rows=pages.select(list(quickcheck.PLAN_COLUMNS)).to_pylist(),
                page_items=collect.records.pages,
                programmes=programmes,
                records_sha256=self._write_replay_records(version, evidence),
            )
        logger.info("Dataset %s: %s", run.outcome, self.store.root)

    def _write_replay_records(self, version: str | None, evidence: RunEvidence) -> str | None:
        """Leave the records a rerun replays (:mod:`exitscrape.incremental.replay`), located in
        the latest version's captures; their SHA-256, or ``None``."""
        spans: Mapping[str, Span]
        if version is None:  # the latest version is an earlier run's: only pages replayed from it
            middleware = self.crawler.get_spider_middleware(QuickCheckMiddleware)
            replayed = middleware.replay if middleware else None
            spans = replayed.spans if replayed else {}
        else:
            spans = evidence.spans()
        collect = self.crawler.get_item_pipeline(CollectPipeline)
        assert collect is not None
        try:
            return replay.write_records(self.crawler.settings, collect.records, spans)
        except OSError as error:  # the next rerun crawls what changed pages link to: slower
            logger.warning("Cannot write the records for the next rerun: %s", error)
            return None

    def _report(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        values = stats.get_stats()
        run = self.outcome
        run.requests = values.get("downloader/request_count", 0)
        run.responses = values.get("downloader/response_count", 0)
        run.revalidated = values.get("httpcache/revalidate", 0)
        run.from_cache = values.get("httpcache/hit", 0)
        run.robots_txt = values.get("robotstxt/request_count", 0)
        stats.set_value(OUTCOME_STAT, str(run.outcome))
        stats.set_value(VERSION_STAT, run.version)
        report = runreport.build(run, self.crawler.settings, values, self.store.latest())
        try:
            run.report = runreport.write(self.store.root, report)
        except OSError as error:
            logger.error("Could not write the run report to %s: %s", self.store.root, error)
