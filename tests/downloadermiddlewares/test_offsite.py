"""Nothing off the site is ever fetched, however it is reached: a meta refresh to another host
or to another port of the site's host, a redirect there. Real crawls over HTTP on loopback, the
off-site servers counting every request they get."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

import exitscrape
from exitscrape.snapshot.server import SiteServer
from tests.conftest import FaultServer, crawl
from tests.weebly import Programme, page_html, programme_html, small_site, write_site

OFFSITE = Programme("Offsite Programme", "France", {"Name": "Offsite Programme"})


def refresh(url: str) -> str:
    return page_html("Moved", f'<p>moved</p><meta http-equiv="refresh" content="0; url={url}">')


def test_meta_refresh_and_redirects_off_the_site_reach_nothing(tmp_path: Path) -> None:
    offsite = write_site(tmp_path / "offsite", {"/index.html": programme_html(OFFSITE)})
    # Another host, and another port of the site's own host (the hole: hosts compared
    # without ports).
    with SiteServer(offsite, host="127.0.0.2") as other_host, SiteServer(offsite) as other_port:
        targets = {"host": other_host.url + "index.html", "port": other_port.url + "index.html"}
        pages = {f"/refresh-{k}.html": refresh(url) for k, url in targets.items()}
        pages["/refresh-file.html"] = refresh("file:///etc/passwd")  # another scheme
        site = small_site(tmp_path / "site", [*pages, "/redirect-port.html"], pages)
        server = FaultServer(site)
        moved = other_port.url + "moved.html"
        server.redirects["/redirect-port.html"] = moved
        with server:
            data = tmp_path / "data"
            result = crawl(server.url, data)
            assert result.returncode == 0, result.stderr
            rerun = crawl(server.url, data)  # the quick check asks for the same URLs again
            assert rerun.returncode == 0, rerun.stderr
            assert "nothing parsed, nothing published" in rerun.stdout  # the same answers
        assert other_host.requests == [] and other_port.requests == []  # not even robots.txt
    assert list(exitscrape.load(data_dir=data)["name"]) == ["Small Programme"]
    rows = exitscrape.load("pages", data_dir=data)
    by_path = {urlsplit(row.url).path: row for row in rows.itertuples()}
    for key, url in targets.items():
        row = by_path[f"/refresh-{key}.html"]
        assert row.kind == "other" and pd.isna(row.final_url)  # nothing came from there
        assert row.error == f"meta refresh to {url}, off the site: not followed"
    assert by_path["/refresh-file.html"].final_url.endswith("/refresh-file.html")  # not followed
    redirect = by_path["/redirect-port.html"]
    assert redirect.kind == "other"
    assert redirect.error == f"redirect to {moved}, off the site: not followed"
    assert not any(url.startswith((other_host.url, other_port.url)) for url in rows["url"])
