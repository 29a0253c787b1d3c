"""``exitscrape crawl -s NAME=VALUE``: a bad value is bad usage (exit 2) named with what the
setting takes, before anything starts; an unknown name is a warning. Through the CLI, against
a loopback server that must get no request when the command line is wrong."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from exitscrape.downloadermiddlewares.politeness import Politeness, user_agent
from exitscrape.snapshot.server import SiteServer
from tests.conftest import crawl
from tests.weebly import small_site


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with SiteServer(small_site(tmp_path_factory.mktemp("site"))) as server:
        yield server


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("DOWNLOAD_DELAY=abc", "DOWNLOAD_DELAY expects a number, 0 or more"),
        ("DOWNLOAD_DELAY=-1", "DOWNLOAD_DELAY expects a number, 0 or more"),
        (
            "EXITSCRAPE_GATE_MAX_FAILED_SHARE=lots",
            "EXITSCRAPE_GATE_MAX_FAILED_SHARE expects a share between 0 and 1 (e.g. 0.25)",
        ),
        (
            "EXITSCRAPE_GATE_MAX_FAILED_SHARE=1.5",
            "EXITSCRAPE_GATE_MAX_FAILED_SHARE expects a share between 0 and 1 (e.g. 0.25)",
        ),
        (
            "EXITSCRAPE_GATE_MIN_PROGRAMMES=2.5",
            "EXITSCRAPE_GATE_MIN_PROGRAMMES expects a whole number, 0 or more",
        ),
        ("CONCURRENT_REQUESTS=many", "CONCURRENT_REQUESTS expects a whole number, 0 or more"),
        ("DEPTH_LIMIT=nan", "DEPTH_LIMIT expects a whole number, 0 or more"),
        ("EXITSCRAPE_URL_TIMEOUT=inf", "EXITSCRAPE_URL_TIMEOUT expects a number, 0 or more"),
        ("AUTOTHROTTLE_ENABLED=perhaps", "AUTOTHROTTLE_ENABLED expects True or False"),
        ("EXITSCRAPE_PROGRESS=maybe", "EXITSCRAPE_PROGRESS expects one of auto, on, off"),
        ("DOWNLOAD_SLOTS=[1", "DOWNLOAD_SLOTS expects a JSON object, e.g. {}"),
        ("EXITSCRAPE_CONTACT_URL=mailto:me", "EXITSCRAPE_CONTACT_URL expects an http(s) URL"),
        (  # it goes into a header
            "EXITSCRAPE_CONTACT_URL=https://x.org/\r\nX-Injected: 1",
            "EXITSCRAPE_CONTACT_URL expects an http(s) URL",
        ),
    ],
)
def test_a_bad_value_exits_2_naming_the_setting(server, tmp_path, setting, expected) -> None:
    result = crawl(server.url, tmp_path / "data", "-s", setting)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()  # one clear line, no traceback, no log
    name, _, value = setting.partition("=")
    shown = setting if value.isprintable() else f"{name}={value!r}"
    assert line == f"exitscrape crawl: -s {shown}: {expected}"
    assert server.requests == []  # checked before the crawl starts
    assert not (tmp_path / "data").exists()


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
    result = Settings()
    result.setmodule("exitscrape.settings", priority="project")
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
