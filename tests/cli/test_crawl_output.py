"""What `exitscrape crawl` tells its operator: where the data went, what the responses were, which
copies of a programme disagree; and nothing a page or a server sends reaches the terminal as a
control sequence. Over real HTTP (the `edited_versions` crawls)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from exitscrape.cli.crawl import summary
from exitscrape.dataset.assemble import DifferingCopy, Disagreement
from exitscrape.dataset.load import load
from exitscrape.dataset.store import DatasetStore
from exitscrape.extensions.outcome import RunOutcome
from tests.conftest import report

MENTORING = "mentoring-programme-no"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_the_first_run_says_where_the_data_went_and_how_to_load_it(edited_versions):
    out = edited_versions.first.stdout
    data_dir = edited_versions.data_dir.resolve()
    (version,) = DatasetStore(data_dir).versions()[:1]
    assert f"published version {version}, the first, in {data_dir}" in out
    assert f"exitscrape.load(data_dir={str(data_dir)!r})" in out
    assert "responses: 38 (crawl, robots.txt included): 38 downloaded" in out
    # The second run publishes into a data dir that has versions: no tutorial again.
    assert "the first" not in edited_versions.second.stdout


def test_an_edit_to_one_copy_is_published_and_the_disagreement_shown(edited_versions):
    second = edited_versions.second
    new = DatasetStore(edited_versions.data_dir).versions()[-1]
    assert f"published version {new}" in second.stdout
    row = (
        load(version=new, data_dir=edited_versions.data_dir)
        .set_index("programme_id")
        .loc[MENTORING]
    )
    assert row["organisation"] == "Ministry of Justice and Public Security (Kriminalomsorgen)"
    (copy,) = row["differing_copies"]
    assert copy["url"].endswith("/mentoring-programme1.html")
    assert list(copy["fields"]) == ["organisation"]
    # Without -v, in the summary:
    lines = second.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("copies differ: Mentoring"))
    assert f"({MENTORING}): kept " in lines[start]
    assert lines[start].endswith("/mentoring-programme.html (changed since the previous version)")
    assert lines[start + 1].endswith("/mentoring-programme1.html differs in organisation")
    # ... and in the run report.
    (entry,) = report(edited_versions.data_dir)["differing_copies"]
    assert entry["programme_id"] == MENTORING
    assert entry["why"] == "changed since the previous version"
    assert entry["copies"][0]["fields"] == ["organisation"]


def test_the_summary_explains_every_response(edited_versions):
    second = edited_versions.second
    line = next(x for x in second.stdout.splitlines() if x.startswith("responses: "))
    run = report(edited_versions.data_dir)["pages"]
    total = int(
        re.match(r"responses: (\d+) \(quick check and crawl, robots.txt included\)", line)[1]
    )
    counts = {
        what: int(n)
        for n, what in re.findall(r"(\d+) (unchanged|from the HTTP cache|downloaded)", line)
    }
    assert total == run["responses"] > run["met"]
    assert sum(counts.values()) == total
    assert counts["unchanged"] == run["revalidated"] and counts["downloaded"] == run["downloaded"]
    assert counts.get("from the HTTP cache", 0) == run["from_cache"]
    # The pages the quick check confirmed were replayed, with no response at all: said apart.
    replayed = report(edited_versions.data_dir)["quick_check"]["replayed"]
    assert replayed > 0 and f"; {replayed} pages found unchanged replayed" in line


def test_page_text_and_headers_never_reach_the_terminal_as_control_sequences(edited_versions):
    for result in (edited_versions.first, edited_versions.second):
        assert result.stderr == ""  # as under cron: the summary only
        output = result.stdout
        assert not CONTROL.search(output), output
        # The redirect's target was shown, as the URL Scrapy made of the Location: its
        # control characters percent-encoded.
        assert "127.0.0.2/%1B%5D0;pwned%07%1B%5B2J%9B2J, off the site" in output
    # Page text holds none either: clean_text dropped them from the data.
    store = DatasetStore(edited_versions.data_dir)
    rows = store.read("programmes").to_pylist()
    texts = [str(value) for row in rows for value in row.values()]
    assert not [t for t in texts if CONTROL.search(t.replace("\n", ""))]
    assert any("]0;pwned" in t for t in texts)  # the rest of the sequence is there: it was read


def test_a_site_of_disagreeing_copies_does_not_flood_the_summary() -> None:
    run = RunOutcome("r", datetime.now(UTC), Path("d"))
    copy = DifferingCopy("http://x/b.html", ["description"], "0" * 64)
    run.disagreements = [
        Disagreement(f"p{i}", f"P{i}", "http://x/a.html", "the latest Last-Modified", [copy])
        for i in range(25)
    ]
    lines = summary(run).splitlines()
    assert len([line for line in lines if line.startswith("copies differ: P")]) == 10
    assert "copies differ: ... and 15 programmes more (see the run report)" in lines
