"""A loopback server for politeness tests: it records when each request came and with which
User-Agent, and answers a path with a scripted status, headers and body before its file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exitscrape.snapshot.server import SiteServer
from tests.conftest import FaultHandler, FaultServer
from tests.weebly import small_site


class ScriptedHandler(FaultHandler):
    server: ScriptedServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.seen.append((time.monotonic(), path, self.headers.get("User-Agent", "")))
        answers = self.server.answers.get(path)
        if answers:
            status, headers, body = answers.pop(0)
            self.send_body(status, body, headers)
            self.server.count(self, status)
            return
        super().do_GET()

    do_HEAD = do_GET


class ScriptedServer(FaultServer):
    """``answers``: path -> [(status, headers, body), ...] given first, in order; ``seen``:
    (monotonic time, path, User-Agent) of every request."""

    def __init__(self, root: Path) -> None:
        SiteServer.__init__(self, root, handler=ScriptedHandler)
        self.statuses, self.redirects, self.raw, self.refuse_head = {}, {}, {}, set()
        self.answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.seen: list[tuple[float, str, str]] = []

    def times(self, path: str) -> list[float]:
        return [when for when, seen, _ in self.seen if seen == path]

    def handle_error(self, request: object, client_address: object) -> None:
        """A crawler hanging up on a body it does not want is the point, not an error."""


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[ScriptedServer]:
    """A scripted server over :func:`tests.weebly.small_site` (``/`` and ``/small.html``)."""
    with ScriptedServer(small_site(tmp_path / "site")) as server:
        yield server
