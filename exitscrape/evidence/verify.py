"""Checks of a version's evidence: its captures are intact, and hold what its pages table says the
crawl read. Pure functions over the version's files; nothing here imports Scrapy.

* :func:`captures_path`: the version's ``captures.warc.gz``, a regular file listed in its
  manifest, or why not;
* :func:`check_evidence`: every record's digests (as ``warcio check`` verifies them), and every
  ``pages`` row with a status against the response record it names (``warc_record_id``): the
  record exists, is for the row's URL, has the row's status, and its body (without its
  ``Content-Encoding``) hashes to the row's ``body_sha256``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from exitscrape.dataset.verify import Problem
from exitscrape.evidence.reader import CapturesError, open_captures, read_index
from exitscrape.evidence.writer import CAPTURES_FILE


@dataclass
class EvidenceReport:
    """What :func:`check_evidence` found (problems named as ``exitscrape verify`` names them)."""

    captures: bool  # whether the version has captures to check
    responses: int = 0  # response records read
    problems: list[Problem] = field(default_factory=list)
    note: str | None = None  # why there was nothing to check


def captures_path(version_dir: Path, manifest: dict[str, Any]) -> Path:
    """The captures of the version in *version_dir*; :class:`CapturesError` says why there are
    none to use (never published, missing, not a regular file). Their bytes are the manifest
    check's (:mod:`exitscrape.dataset.verify`)."""
    listed = (manifest.get("files") or {}).get(CAPTURES_FILE)
    if not isinstance(listed, dict):
        why = "with captures off" if _has_ids(manifest) else "before captures were kept"
        raise CapturesError(
            f"version {version_dir.name} has no captures: it was published by exitscrape "
            f"{manifest.get('exitscrape_version', '?')} {why}"
        )
    path = version_dir / CAPTURES_FILE
    open_captures(path).close()  # exists, and is a regular file (not a symlink, not a FIFO)
    return path


def _has_ids(manifest: dict[str, Any]) -> bool:
    """Whether the version's schema has ``pages.warc_record_id`` (1.3.0 on)."""
    parts = str(manifest.get("schema_version", "0")).split(".")
    try:
        return (int(parts[0]), int(parts[1] if len(parts) > 1 else 0)) >= (1, 3)
    except ValueError:
        return False


def check_evidence(version_dir: Path, manifest: dict[str, Any], pages: pa.Table) -> EvidenceReport:
    """Check the captures of the version in *version_dir* against themselves and *pages*."""
    name = version_dir.name
    captures, table = f"{name}/{CAPTURES_FILE}", f"{name}/pages.parquet"
    try:
        path = captures_path(version_dir, manifest)
    except CapturesError as error:
        if CAPTURES_FILE in (manifest.get("files") or {}):
            return EvidenceReport(captures=True, problems=[Problem(captures, str(error))])
        return EvidenceReport(captures=False, note=str(error))
    index = read_index(path, check=True)
    report = EvidenceReport(
        captures=True,
        responses=len(index.responses),
        problems=[Problem(captures, problem) for problem in index.problems],
    )
    if index.info is None:
        report.problems.append(Problem(captures, "no warcinfo record (it cannot be rebuilt)"))
    by_id = index.by_id()
    answered = {(response.url, response.status) for response in index.responses}
    columns = ("url", "final_url", "status", "body_sha256", "warc_record_id")
    rows = pages.select([c for c in columns if c in pages.schema.names]).to_pylist()
    for row in rows:
        if row["status"] is None:
            continue
        problem = _row_problem(row, by_id, answered)
        if problem:
            report.problems.append(Problem(table, f"row {row['url']}: {problem}"))
    return report


def _row_problem(
    row: dict[str, Any], by_id: dict[str, Any], answered: set[tuple[str, int | None]]
) -> str | None:
    urls = {row["url"], row["final_url"]}
    record_id = row.get("warc_record_id")
    if not record_id:  # a redirect met again after several hops: its response, by URL
        if any((url, row["status"]) in answered for url in urls):
            return None
        return f"no response with status {row['status']} in {CAPTURES_FILE}"
    record = by_id.get(record_id)
    if record is None:
        return f"its response {record_id} is not in {CAPTURES_FILE}"
    if record.url not in urls:
        return f"its response {record_id} is for {record.url}"
    if record.status != row["status"]:
        return f"its response {record_id} has status {record.status}, the row {row['status']}"
    if row["body_sha256"] and record.payload_sha256 != row["body_sha256"]:
        return (
            f"the body of its response {record_id} has SHA-256 {record.payload_sha256}, "
            f"the row says {row['body_sha256']}"
        )
    return None
