"""``exitscrape crawl -s NAME=VALUE``: a bad value is bad usage (exit 2) named with what the
setting takes, before anything starts; an unknown name is a warning. Through the CLI, against
a loopback server that must get no request when the command line is wrong."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from exitscrape.cli.crawl import SETTINGS_MODULE
from exitscrape.cli.overrides import check, project_settings
from exitscrape.downloadermiddlewares.politeness import Politeness, user_agent
from exitscrape.snapshot.server import SiteServer
from tests.conftest import crawl
from tests.weebly import small_site


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with SiteServer(small_site(tmp_path_factory.mktemp("site"))) as server:
        yield server


BAD = {
    "DOWNLOAD_DELAY=abc": "DOWNLOAD_DELAY expects a number, 0 or more",
    "DOWNLOAD_TIMEOUT=-1": "DOWNLOAD_TIMEOUT expects a number, 0 or more",
    "EXITSCRAPE_GATE_MAX_FAILED_SHARE=lots": (
        "EXITSCRAPE_GATE_MAX_FAILED_SHARE expects a share between 0 and 1 (e.g. 0.25)"
    ),
    "EXITSCRAPE_GATE_MIN_COVERAGE_RATIO=1.5": (
        "EXITSCRAPE_GATE_MIN_COVERAGE_RATIO expects a share between 0 and 1 (e.g. 0.25)"
    ),
    "EXITSCRAPE_GATE_MIN_PROGRAMMES=2.5": (
        "EXITSCRAPE_GATE_MIN_PROGRAMMES expects a whole number, 0 or more"
    ),
    "CONCURRENT_REQUESTS=many": "CONCURRENT_REQUESTS expects a whole number, 0 or more",
    "DEPTH_LIMIT=nan": "DEPTH_LIMIT expects a whole number, 0 or more",
    "EXITSCRAPE_URL_TIMEOUT=inf": "EXITSCRAPE_URL_TIMEOUT expects a number, 0 or more",
    "AUTOTHROTTLE_ENABLED=perhaps": "AUTOTHROTTLE_ENABLED expects True or False",
    "EXITSCRAPE_PROGRESS=maybe": "EXITSCRAPE_PROGRESS expects one of auto, on, off",
    "DOWNLOAD_SLOTS=[1": "DOWNLOAD_SLOTS expects a JSON object, e.g. {}",
    # It goes into a header: no line breaks (shown escaped, on one line).
    "EXITSCRAPE_CONTACT_URL=https://x.org/\r\nX-Injected: 1": (
        "EXITSCRAPE_CONTACT_URL expects an http(s) URL"
    ),
}


def shown(setting: str) -> str:
    name, _, value = setting.partition("=")
    return setting if value.isprintable() else f"{name}={value!r}"


def test_bad_values_exit_2_each_named_with_what_its_setting_takes(server, tmp_path) -> None:
    settings = [arg for setting in BAD for arg in ("-s", setting)]
    # A good value too; for a name given twice, the last value is the one that counts.
    result = crawl(server.url, tmp_path / "data", "-s", "DOWNLOAD_DELAY=2", *settings)
    assert result.returncode == 2
    # A line each, and nothing else: no traceback, no log.
    assert sorted(result.stderr.splitlines()) == sorted(
        f"exitscrape crawl: -s {shown(setting)}: {expected}" for setting, expected in BAD.items()
    )
    assert server.requests == []  # checked before the crawl starts
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mailto:me", "an http(s) URL"),
        ("https://example.org/ x", "an http(s) URL"),
        ("https://example.org/contact", None),
    ],
)
def test_the_contact_url_must_be_a_web_address(value: str, problem: str | None) -> None:
    found = check({"EXITSCRAPE_CONTACT_URL": value}, project_settings(SETTINGS_MODULE))
    expected = f"-s EXITSCRAPE_CONTACT_URL={value}: EXITSCRAPE_CONTACT_URL expects {problem}"
    assert found.errors == ([expected] if problem else []) and found.warnings == []


def test_an_unknown_setting_is_a_warning_and_the_crawl_runs(server, tmp_path) -> None:
    result = crawl(server.url, tmp_path / "data", "-s", "DOWNLAOD_DELAY=5", "-s", "MYADDON_KEY=1")
    assert result.returncode == 0, result.stderr
    assert "-s DOWNLAOD_DELAY: neither Scrapy nor exitscrape has a setting of that name " in (
        result.stderr
    )
    assert "(did you mean DOWNLOAD_DELAY?)" in result.stderr
    assert "-s MYADDON_KEY:" in result.stderr
    assert "published version" in result.stdout


def settings(**given: tuple[object, str]) -> Settings:
    """Project settings with *given* (value, priority) over them, adjusted by the add-on."""
    result = project_settings(SETTINGS_MODULE)
    for name, (value, priority) in given.items():
        result.set(name, value, priority)
    Politeness().update_settings(result)
    return result


def test_autothrottle_starts_at_the_delay_set_for_the_run() -> None:
    assert settings()["AUTOTHROTTLE_START_DELAY"] == 1.0
    assert settings(DOWNLOAD_DELAY=(0, "cmdline"))["AUTOTHROTTLE_START_DELAY"] == 0
    assert settings(DOWNLOAD_DELAY=(3, "cmdline"))["AUTOTHROTTLE_START_DELAY"] == 3
    both = settings(DOWNLOAD_DELAY=(0, "cmdline"), AUTOTHROTTLE_START_DELAY=(2, "cmdline"))
    assert both["AUTOTHROTTLE_START_DELAY"] == 2  # set too: the user's own


def test_the_user_agent_names_the_contact_url() -> None:
    assert settings()["USER_AGENT"] == user_agent("https://github.com/exitscrape/exitscrape")
    own = settings(EXITSCRAPE_CONTACT_URL=("https://example.org/", "cmdline"))
    assert "+https://example.org/;" in own["USER_AGENT"]
    given = settings(
        EXITSCRAPE_CONTACT_URL=("https://example.org/", "cmdline"),
        USER_AGENT=("my-bot/1.0", "cmdline"),
    )
    assert given["USER_AGENT"] == "my-bot/1.0"
