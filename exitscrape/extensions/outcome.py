"""What a run produced: one typed record, filled by the publish extension and read by the
``exitscrape crawl`` summary and the run report."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # readers of run reports (`exitscrape runs`) need neither pyarrow nor Scrapy
    from exitscrape.dataset.assemble import Disagreement
    from exitscrape.dataset.quality import GateResult
    from exitscrape.incremental.quickcheck import QuickCheckSummary


class Outcome(StrEnum):
    PUBLISHED = "published"  # a new version
    UNCHANGED = "unchanged"  # the data equals the latest version's
    GATE_FAILED = "gate_failed"  # a quality gate stopped publishing
    FAILED = "failed"  # nothing usable was crawled, or publishing failed
    LOCKED = "locked"  # another run holds the data dir's lock
    INTERRUPTED = "interrupted"  # stopped by a signal (Ctrl-C, SIGTERM) before it finished


#: Stats the outcome is also written to, for the stats dump at the end of a ``scrapy crawl`` or
#: scrapyd log (exitscrape itself reads :class:`RunOutcome`, never these).
OUTCOME_STAT = "exitscrape/outcome"
VERSION_STAT = "exitscrape/version"
#: Set on a log record (``extra={SUMMARISED: True}``) that says what the summary of
#: ``exitscrape crawl`` says anyway: that command leaves it out, ``scrapy crawl`` logs it.
SUMMARISED = "exitscrape_summarised"

#: Exit status of ``exitscrape crawl`` for each outcome (the CLI's epilog documents them); an
#: interrupted run exits as the shell reports a process ended by its signal, 128 + the signal's
#: number: 130 for SIGINT (Ctrl-C, also when the signal is unknown), 143 for SIGTERM.
EXIT_CODES = {
    Outcome.PUBLISHED: 0,
    Outcome.UNCHANGED: 0,
    Outcome.FAILED: 1,
    Outcome.GATE_FAILED: 3,
    Outcome.LOCKED: 4,
    Outcome.INTERRUPTED: 128 + signal.SIGINT,
}
_SIGNAL_NUMBERS = {member.name: member.value for member in signal.Signals}


@dataclass
class RunOutcome:
    run_id: str
    started: datetime
    data_dir: Path
    start_url: str | None = None
    outcome: Outcome = Outcome.FAILED
    reason: str | None = None  # why the run did not publish, in words
    version: str | None = None  # the version published, or the latest one the data equals
    first: bool = False  # the version published is the data dir's first
    finish_reason: str | None = None  # Scrapy's
    signal: str | None = None  # the signal that interrupted the run (``SIGINT``), when known
    # The crawl: URLs met (dataset pages), requests sent, responses got (robots.txt's too), of
    # which 304s and pages served from the HTTP cache without asking the site.
    pages: int = 0
    requests: int = 0
    responses: int = 0
    revalidated: int = 0
    from_cache: int = 0
    robots_txt: int = 0  # robots.txt requests (among the requests)
    failed_pages: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    programmes: int = 0
    warnings: list[str] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)  # copies whose texts differ
    problems: list[str] = field(default_factory=list)  # "<url>: <error>" for every page with one
    gates: list[GateResult] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)  # gates that failed and were overridden
    # What fails verification in the latest version this crawl was compared with ("<version>/
    # <file>: <problem>"); the crawl is then published past it.
    damaged_latest: list[str] = field(default_factory=list)
    quick_check: QuickCheckSummary | None = None
    # Crawled from a web archive: the time the site is seen as of, and the manifest's "source".
    as_of: datetime | None = None
    source: dict[str, object] | None = None
    report: Path | None = None  # where the run report was written

    @property
    def downloaded(self) -> int:
        """Responses downloaded in full: neither a 304 nor served from the cache."""
        return max(0, self.responses - self.revalidated - self.from_cache)

    @property
    def exit_code(self) -> int:
        if self.outcome is Outcome.INTERRUPTED:
            return 128 + _SIGNAL_NUMBERS.get(self.signal or "", signal.SIGINT)
        return EXIT_CODES[self.outcome]
