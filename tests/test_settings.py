"""exitscrape/settings.py against the Scrapy it runs on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scrapy.settings import default_settings

from exitscrape import settings

#: Scrapy's extensions exitscrape leaves out of EXTENSIONS_BASE.
LEFT_OUT = {
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
}


def test_the_base_extensions_are_scrapys_but_the_consoles() -> None:
    """Fails when an upgrade of Scrapy changes its list: settings.EXTENSIONS_BASE follows it."""
    scrapys = dict(default_settings.EXTENSIONS_BASE)
    assert set(scrapys) >= LEFT_OUT
    assert {k: v for k, v in scrapys.items() if k not in LEFT_OUT} == settings.EXTENSIONS_BASE


def test_a_crawl_never_loads_the_remote_control_server(tmp_path: Path) -> None:
    """Neither its code (aiohttp's server) nor the telnet console's is imported, let alone run."""
    code = (
        "import sys\n"
        "from exitscrape.cli import main\n"
        f"status = main(['crawl', '--snapshot', '--data-dir', {str(tmp_path)!r}])\n"
        "print('MODULES', *sorted(sys.modules))\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    modules = set(result.stdout.split("MODULES", 1)[1].split())
    assert "scrapy.extensions.corestats" in modules  # what the crawl imported is here
    assert not {"aiohttp", "scrapy.extensions.remote_control", "scrapy.extensions.telnet"} & modules
