"""``exitscrape browse``: Datasette on loopback, driven in headless Chromium (Debian's chromium and
chromium-driver; ``.ci/run`` installs them), and its refusals.

One server for the module, started as a user would (``exitscrape browse``, a subprocess, port 0)
on a crawl of the bundled snapshot; the last test stops it with Ctrl-C.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from exitscrape.dataset.schema import PROGRAMMES
from exitscrape.dataset.store import DatasetStore
from tests.conftest import REPO, run_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Chromium on a machine without a network: without these it waits on connections it cannot make.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
BROWSE = (sys.executable, "-m", "exitscrape", "browse")
WAIT = 60  # seconds: the bound on every wait for a condition


def description(column: str) -> str:
    return PROGRAMMES.field(column).metadata[b"description"].decode()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str  # the programmes table page, as printed
    output: str  # what it printed up to the URL
    data_dir: Path


def wait_for_url(process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """The table URL the command prints, and its output so far (fails on exit or timeout)."""
    assert process.stdout is not None
    output = b""
    deadline = time.monotonic() + WAIT
    while not (found := re.search(rb"http://127\.0\.0\.1:\d+/\S+", output)):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no URL printed within {WAIT} s: {output!r}"
        if select.select([process.stdout], [], [], remaining)[0]:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, f"exitscrape browse exited {process.wait()}: {output!r}"
            output += chunk
    return found.group().decode(), output.decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def server(snapshot_versions: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browse") / "data"
    shutil.copytree(snapshot_versions, data_dir)
    process = subprocess.Popen(
        [*BROWSE, "--data-dir", str(data_dir), "--port", "0", "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        url, output = wait_for_url(process)
        yield Server(process, url, output, data_dir)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} missing: install Debian's chromium and chromium-driver "
            "(`apt-get install -y chromium chromium-driver`, as .ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def test_answers_on_loopback_with_the_table_page(server):
    version = DatasetStore(server.data_dir).latest()
    assert f"dataset version {version}" in server.output
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/exit_programmes/programmes", server.url)
    status, page = get(server.url)
    assert status == 200
    assert "Mentoring Programme" in page and "7 rows" in page
    # The version's SQLite edition, built once into the data dir's cache.
    assert (server.data_dir / "browse" / version / "exit_programmes.db").is_file()
    status, _ = get(server.url.replace("/programmes", "/programme_pages"))
    assert status == 200


def test_in_a_browser_search_then_a_row_and_its_column_descriptions(server, browser, tmp_path):
    wait = WebDriverWait(browser, WAIT)
    browser.get(server.url)
    search = wait.until(expected_conditions.presence_of_element_located((By.ID, "_search")))
    search.send_keys("mentoring", Keys.ENTER)
    wait.until(expected_conditions.url_contains("_search=mentoring"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    cells = {
        row.find_element(By.CSS_SELECTOR, "td.col-name").text: row
        for row in rows
        if row.find_elements(By.CSS_SELECTOR, "td.col-name")
    }
    assert "Mentoring Programme" in cells, list(cells)
    mentoring = cells["Mentoring Programme"]

    def cell(column: str) -> str:
        return mentoring.find_element(By.CSS_SELECTOR, f"td.col-{column}").text

    assert cell("country") == "Norway"
    assert "prison" in cell("settings")
    assert "islamist" in cell("ideologies") and "far-right" in cell("ideologies")
    assert "europe" in cell("regions")
    # Facets by country and category, and the column descriptions under the title.
    facets = browser.find_element(By.CSS_SELECTOR, ".facet-results").text
    assert "country" in facets and "settings" in facets and "ideologies" in facets
    listed = browser.find_element(By.CSS_SELECTOR, "dl.column-descriptions").text
    assert description("country") in listed
    # The search box, the facets and the rows found, below the column descriptions.
    browser.execute_script(
        "document.getElementById('_search').form.scrollIntoView(); window.scrollBy(0, -60)"
    )
    screenshot = tmp_path / "browse.png"
    assert browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    mentoring.find_element(By.CSS_SELECTOR, "td.col-programme_id a").click()
    wait.until(expected_conditions.url_contains("/programmes/mentoring-programme-no"))
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert "mentoring-programme-no" in heading
    headers = {
        th.get_attribute("data-column"): th.get_attribute("data-column-description")
        for th in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns th")
    }
    assert headers == {field.name: description(field.name) for field in PROGRAMMES}
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Norway" in page and "Exit Practices (EU WayOut project)" in page
    row_screenshot = tmp_path / "browse-row.png"
    assert browser.save_screenshot(str(row_screenshot))
    print(f"screenshot: {row_screenshot}")


def test_a_busy_port_is_refused(server):
    port = server.url.split(":")[2].split("/")[0]
    result = run_cli("browse", "--data-dir", str(server.data_dir), "--port", port, "--no-open")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_data_dir_it_cannot_cache_in_gets_a_temporary_copy(server, tmp_path):
    """Built into a temporary folder instead (then, here, refused the busy port: the
    module's one server is enough)."""
    data_dir = tmp_path / "data"
    shutil.copytree(server.data_dir, data_dir, ignore=shutil.ignore_patterns("browse"))
    (data_dir / "browse").write_text("not a folder")
    port = server.url.split(":")[2].split("/")[0]
    result = run_cli("browse", "--data-dir", str(data_dir), "--port", port, "--no-open")
    assert "cannot cache the SQLite edition" in result.stderr
    assert "using a temporary copy" in result.stderr
    assert result.returncode == 2 and "is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_release_without_the_database_is_refused(tmp_path):
    (tmp_path / "datapackage.json").write_text("{}")
    result = run_cli("browse", "--release", str(tmp_path), "--no-open")
    assert result.returncode == 2
    assert "holds no exit_programmes.db or metadata.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_datasette_it_says_how_to_get_it(tmp_path):
    hide = "import sys; sys.modules['datasette'] = None; from exitscrape.cli import main; "
    result = subprocess.run(
        [sys.executable, "-c", hide + "sys.exit(main(['browse', '--no-open']))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert result.stderr == "exitscrape browse needs Datasette: pip install 'exitscrape[browse]'\n"


def test_ctrl_c_stops_it_cleanly(server):
    """Last: it stops the module's server."""
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=WAIT) == 130
    assert server.process.stderr is not None
    stderr = server.process.stderr.read().decode()
    assert stderr == "exitscrape browse: stopped\n"
