"""Real crawls over HTTP on loopback: the bundled snapshot, and a site full of faults."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import exitscrape
from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import EXPECTED, FAST, REPO, FaultServer, crawl, run_cli
from tests.weebly import Programme, menu_html, page_html, programme_html, write_site

COMPARED = ("country", "target_audience", "organisation", "objectives", "description")


def stable(frame) -> list[dict]:
    """Programme rows without the crawl time, with URLs reduced to paths (ports differ)."""
    rows = frame.drop(columns=["crawled_at"]).to_dict("records")
    for row in rows:
        row["source_urls"] = [urlsplit(u).path for u in row["source_urls"]]
        for key, value in row.items():
            if isinstance(value, float):  # pandas' missing string
                row[key] = None
    return rows


def test_snapshot_crawl_matches_the_expected_dataset(snapshot_server, tmp_path) -> None:
    result = crawl(snapshot_server.url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "published version" in result.stdout
    assert "pages: 36, programmes: 7, failed pages: 0" in result.stdout
    frame = exitscrape.load(data_dir=tmp_path)
    assert sorted(frame["name"]) == [e["name"] for e in EXPECTED]
    rows = {row["name"]: row for row in stable(frame)}
    for expected in EXPECTED:
        row = rows[expected["name"]]
        for key in COMPARED:
            assert row[key] == expected[key], (expected["name"], key)
        for key in ("settings", "ideologies", "regions"):
            assert sorted(row[key]) == expected[key], (expected["name"], key)
        assert sorted(row["source_urls"]) == expected["paths"]
    pages = exitscrape.load("pages", data_dir=tmp_path)
    assert (pages["kind"] == "programme").sum() == 9
    assert pages["error"].isna().all()
    # Every page was requested once; robots.txt was asked for.
    paths = [path for _, path, _ in snapshot_server.requests]
    assert "/robots.txt" in paths
    assert len(paths) == len(set(paths))


def test_second_crawl_is_identical_and_publishes_nothing(snapshot_server, tmp_path) -> None:
    assert crawl(snapshot_server.url, tmp_path).returncode == 0
    first = stable(exitscrape.load(data_dir=tmp_path))
    result = crawl(snapshot_server.url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "unchanged" in result.stdout
    assert len(DatasetStore(tmp_path).versions()) == 1
    other = tmp_path / "other"
    assert crawl(snapshot_server.url, other).returncode == 0
    assert stable(exitscrape.load(data_dir=other)) == first


def test_scrapy_crawl_publishes_the_same_dataset(snapshot_server, tmp_path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True
    )
    assert listed.stdout.split() == ["exit_practices"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "exit_practices",
            "-a",
            f"start_url={snapshot_server.url}",
            "-s",
            f"EXITSCRAPE_DATA_DIR={tmp_path / 'a'}",
            *FAST,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert crawl(snapshot_server.url, tmp_path / "b").returncode == 0
    a, b = DatasetStore(tmp_path / "a"), DatasetStore(tmp_path / "b")
    assert a.manifest()["programmes_digest"] == b.manifest()["programmes_digest"]


# A site with other URLs than the snapshot, and every fault the crawler must survive.
SHARED = Programme(
    "Shared Programme",
    "Turkey",
    {
        "Name": "Shared Programme",
        "Target audience": "Inmates",
        "Organisation": "Org",
        "Objectives": "One; two",
    },
)
MENU = [
    ("Home", "/", []),
    (
        "Exit programmes",
        "/progs.html",
        [
            (
                "Exit programmes in prison",
                "/p.html",
                [
                    ("Islamist", "/cat-a.html", [("In Europe", "/cat-eu.html", [])]),
                    ("Far-Right", "/cat-b.html", []),
                ],
            ),
            ("Exit programmes in probation", "/q.html", [("Far-Left", "/cat-c.html", [])]),
        ],
    ),
    ("Contact", "/contact.html", []),
]


def listing(title: str, links: list[str]) -> str:
    anchors = "".join(
        f'<div><a href="{href}"><img src="/x.png" alt="Picture" /></a></div>'
        if i % 2
        else f'<a class="wsite-button" href="{href}"><span>Read more</span></a>'
        for i, href in enumerate(links)
    )
    return page_html(
        title, f"<h2 class='wsite-content-title'>{title}</h2>{anchors}", menu_html(MENU)
    )


@pytest.fixture
def fault_site(tmp_path):
    offsite = SiteServer(
        write_site(tmp_path / "offsite", {"/index.html": "<p>off</p>"}), host="127.0.0.2"
    )
    menu = menu_html(MENU)
    cp1252 = (
        programme_html(
            Programme(
                "Entré – Sweden",
                "Sweden",
                {"Name": "Entré – Sweden", "Organisation": "Kriminalvården"},
            ),
            "inline",
            menu,
        )
        .replace("charset=utf-8", "charset=windows-1252")
        .encode("cp1252")
    )
    root = write_site(
        tmp_path / "site",
        {
            "/index.html": page_html("Home", "<div class='paragraph'>Welcome</div>", menu),
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/progs.html": page_html("Exit programmes", "<p>All</p>", menu),
            "/p.html": page_html("In prison", "<p>Prison</p>", menu),
            "/q.html": page_html("In probation", "<p>Probation</p>", menu),
            "/contact.html": page_html("Contact", "<p>Mail us</p>", menu),
            "/cat-a.html": listing("Islamist", ["/shared.html", "/flaky.html", "/alias.html"]),
            "/cat-eu.html": listing("In Europe", ["/moved.html", "/private/secret.html"]),
            "/cat-b.html": listing(
                "Far-Right",
                [
                    "/shared.html",
                    "/missing.html",
                    "/report.pdf",
                    "/nofields.html",
                    f"http://127.0.0.2:{offsite.server_address[1]}/index.html",
                    "/away.html",
                ],
            ),
            "/cat-c.html": listing(
                "Far-Left",
                [
                    "/shared-copy.html",
                    "/sweden.html",
                    "/sweden-header.html",
                    "/sweden-declared.html",
                    "/sweden-undeclared.html",
                ],
            ),
            "/shared.html": programme_html(SHARED, "model", menu),
            "/shared-copy.html": programme_html(SHARED, "separate", menu),
            "/flaky.html": programme_html(
                Programme("Flaky", "Norway", {"Name": "Flaky"}), "plain", menu
            ),
            "/target.html": programme_html(Programme("Moved", "Netherlands", {}), "model", menu),
            "/private/secret.html": programme_html(
                Programme("Secret", "France", {}), "model", menu
            ),
            "/nofields.html": page_html("Odd page", "<h2>Odd</h2><p>No fields here.</p>", menu),
            "/sweden.html": cp1252,  # declared in <meta> only
            "/sweden-header.html": cp1252,  # the server's header says UTF-8: wrong
            "/sweden-declared.html": cp1252.replace(b"windows-1252", b"utf-8"),  # header only
            "/sweden-undeclared.html": cp1252.replace(b"charset=windows-1252", b""),  # none
            "/report.pdf": b"%PDF-1.4\n%%EOF\n",
        },
    )
    server = FaultServer(root)
    server.statuses["/flaky.html"] = [500]
    server.redirects["/moved.html"] = "/target.html"
    server.redirects["/alias.html"] = "/shared.html"  # a redirect to a page crawled anyway
    server.refuse_head.add("/report.pdf")
    server.redirects["/away.html"] = f"http://127.0.0.2:{offsite.server_address[1]}/index.html"
    server.raw["/sweden-header.html"] = ("text/html; charset=utf-8", cp1252)
    server.raw["/sweden-declared.html"] = (
        "text/html; charset=windows-1252",
        cp1252.replace(b"windows-1252", b"utf-8"),
    )
    with server, offsite:
        yield server, offsite


def test_faults_are_recorded_and_survived(fault_site, tmp_path) -> None:
    server, offsite = fault_site
    result = crawl(server.url, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "missing.html: HTTP 404" in result.stdout  # the summary names what failed
    programmes = exitscrape.load(data_dir=tmp_path / "data").set_index("name")
    assert sorted(programmes.index) == ["Entré – Sweden", "Flaky", "Moved", "Shared Programme"]
    shared = programmes.loc["Shared Programme"]
    assert [urlsplit(u).path for u in shared["source_urls"]] == [
        "/shared-copy.html",
        "/shared.html",
    ]
    assert shared["settings"] == ["prison", "probation"]
    assert shared["ideologies"] == ["islamist", "far-right", "far-left"]
    assert shared["country_code"] == "TR" and shared["objectives"] == ["One", "two"]
    assert programmes.loc["Flaky", "settings"] == ["prison"]  # 500, retried, then 200
    assert programmes.loc["Moved", "regions"] == ["europe"]  # reached through a redirect
    sweden = programmes.loc["Entré – Sweden"]
    assert sweden["organisation"] == "Kriminalvården"
    assert len(sweden["source_urls"]) == 4  # the same page in four encodings' disguises

    pages = exitscrape.load("pages", data_dir=tmp_path / "data").set_index("url")
    by_path = {urlsplit(url).path: row for url, row in pages.iterrows()}
    assert by_path["/missing.html"]["kind"] == "failed"
    assert by_path["/missing.html"]["status"] == 404
    assert urlsplit(by_path["/missing.html"]["referer"]).path == "/cat-b.html"
    assert by_path["/moved.html"]["kind"] == "programme"
    assert urlsplit(by_path["/moved.html"]["final_url"]).path == "/target.html"
    assert by_path["/alias.html"]["kind"] == "programme"
    assert urlsplit(by_path["/alias.html"]["final_url"]).path == "/shared.html"
    assert by_path["/report.pdf"]["kind"] == "other"
    assert by_path["/report.pdf"]["content_type"] == "application/pdf"
    assert by_path["/report.pdf"]["status"] == 200  # HEAD refused (405), fetched with GET
    assert by_path["/private/secret.html"]["error"] == "disallowed by robots.txt"
    assert by_path["/nofields.html"]["kind"] == "other"
    assert "no programme fields" in by_path["/nofields.html"]["error"]
    assert ("GET", "/flaky.html", 500) in server.requests
    assert ("GET", "/private/secret.html", 200) not in server.requests
    assert by_path["/away.html"]["kind"] == "other"  # a redirect off the site is not followed
    assert "off the site: not followed" in by_path["/away.html"]["error"]
    assert by_path["/private/secret.html"]["kind"] == "other"  # skipped, not failed
    assert offsite.requests == []  # the off-site host never got a request
    assert not any("127.0.0.2" in url for url in pages.index)


def test_no_programme_fails_loudly_and_keeps_the_last_good_version(fault_site, tmp_path) -> None:
    server, _ = fault_site
    data = tmp_path / "data"
    assert crawl(server.url, data).returncode == 0
    good = DatasetStore(data).latest()
    pages = exitscrape.load("pages", data_dir=data)
    programme_pages = pages.loc[pages["kind"] == "programme", "final_url"]
    assert len(programme_pages) == 9
    for path in {urlsplit(url).path for url in programme_pages}:
        server.statuses[path] = [503] * 10
    result = crawl(server.url, data)
    assert result.returncode == 1
    assert "FAILED, nothing published" in result.stderr
    assert "no programme page" in result.stderr
    assert "Traceback" not in result.stderr
    assert DatasetStore(data).latest() == good
    assert len(exitscrape.load(data_dir=data)) == 4


def test_diff_names_changed_fields(tmp_path) -> None:
    data, site = tmp_path / "data", tmp_path / "site"
    shutil.copytree(SNAPSHOT_DIR, site)
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        for name in ("mentoring-programme1.html", "mentoring-programme.html"):
            page = site / name
            page.write_text(page.read_text().replace("Justice and Public", "Justice and"))
        result = crawl(server.url, data)
    assert result.returncode == 0, result.stderr
    old, new = DatasetStore(data).versions()
    diff = run_cli("diff", old, new, "--data-dir", str(data))
    assert diff.returncode == 0
    assert "~ changed  mentoring-programme-no" in diff.stdout
    assert "organisation" in diff.stdout
    as_json = json.loads(run_cli("diff", old, "latest", "--data-dir", str(data), "--json").stdout)
    assert as_json["changed"] == {
        "mentoring-programme-no": {
            "organisation": {
                "old": "Ministry of Justice and Public Security",
                "new": "Ministry of Justice and Security",
            }
        }
    }
    assert as_json["added"] == [] and as_json["removed"] == []


def test_unreachable_start_page_is_named(tmp_path) -> None:
    with SiteServer(tmp_path) as server:  # bind a free port, then free it again
        url = server.url
    result = crawl(url, tmp_path / "data")
    assert result.returncode == 1
    assert f"the start page {url} failed" in result.stderr
    assert "Traceback" not in result.stderr  # the log says what failed, not where in Scrapy
    assert not (tmp_path / "data" / "LATEST").exists()


def test_cli_usage_errors_are_clear(tmp_path) -> None:
    result = run_cli("crawl", "--start-url", "ftp://example.invalid/", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "http(s) URL" in result.stderr
    result = run_cli("diff", "a", "b", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "run `exitscrape crawl` first" in result.stderr
    assert "Traceback" not in result.stderr
    bogus = run_cli("crawl", "--bogus")  # the command's usage, not the top level's
    assert bogus.returncode == 2
    assert bogus.stderr.startswith("usage: exitscrape crawl ")
    assert "exitscrape crawl: error: unrecognized arguments: --bogus" in bogus.stderr
    help_text = run_cli("crawl", "--help").stdout
    for option in ("--start-url", "--data-dir", "--snapshot", "-s NAME=VALUE"):
        assert option in help_text


def test_snapshot_demo_twice_publishes_once(tmp_path) -> None:
    first = run_cli("crawl", "--snapshot", "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    second = run_cli("crawl", "--snapshot", "--data-dir", str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "unchanged" in second.stdout
    assert len(DatasetStore(tmp_path).versions()) == 1


def test_quick_check_reproduces_every_kind_of_answer(fault_site, tmp_path) -> None:
    """404, robots.txt, redirects on and off the site, HEAD refused, a page without fields, a
    500 then 200: a rerun of the unchanged site gets the same answers and crawls nothing."""
    server, offsite = fault_site
    data = tmp_path / "data"
    assert crawl(server.url, data).returncode == 0
    server.requests.clear()
    rerun = crawl(server.url, data)
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing parsed, nothing published" in rerun.stdout
    assert "missing.html: HTTP 404" in rerun.stdout  # the last crawl's problems, still named
    assert ("GET", "/private/secret.html", 200) not in server.requests
    assert offsite.requests == []

    server.statuses["/missing.html"] = []
    (Path(server.root) / "missing.html").write_text("<p>found</p>")  # the dead link now works
    recovered = crawl(server.url, data)
    assert recovered.returncode == 0, recovered.stderr
    assert "missing.html now HTTP 200, was HTTP 404; crawled the site" in recovered.stdout
    assert "already holds this data" in recovered.stdout  # no programme there: same data
    # The plan now holds this crawl's answers, not the published version's: quick again.
    assert "nothing parsed" in crawl(server.url, data).stdout
