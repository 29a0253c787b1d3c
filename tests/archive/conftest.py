"""The archive fixtures: the bundled snapshot captured at two dates, served by pywb.

What the collection holds (every URL of the site is captured on both dates, all at the same
second, as ``https://www.exit-practices.eu/<path>``; ``/`` is ``index.html``):

- ``FIRST`` (2019-06-01 12:00:00 UTC): the snapshot with Healthy Identity Intervention's
  organisation as it was before (``HII_BEFORE``, :data:`tests.conftest.OLD_SNAPSHOT_EDITS`),
  every programme present, and ``/home.html`` a 301 to ``/``.
- ``SECOND`` (2021-03-01 12:00:00 UTC): the snapshot as bundled (HII's organisation is
  ``HII_AFTER``), except RIVE (``REMOVED``): its page is gone, still linked from
  ``islamist1.html``, and captured as a 404.

So between the two: one programme changed (HII's organisation), one removed (RIVE). Both dates
hold the site's ``robots.txt``. ``NEVER`` was never captured.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.archive.pywb_server import SITE, Capture, Pywb, write_capture
from tests.conftest import OLD_SNAPSHOT_EDITS

FIRST = datetime(2019, 6, 1, 12, 0, 0, tzinfo=UTC)
SECOND = datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC)
CHANGED = "healthy-identity-intervention-hii.html"
_EDIT = OLD_SNAPSHOT_EDITS[CHANGED]
assert _EDIT is not None
HII_AFTER, HII_BEFORE = _EDIT  # as the page's HTML has them
REMOVED = "research-and-intervention-on-violent-extremism-rive1.html"
REDIRECT = "home.html"
NEVER = "never-captured.html"
NOT_FOUND = b"<h1>Not found</h1>"


def _site_copy(root: Path, name: str) -> Path:
    copy = root / name
    shutil.copytree(SNAPSHOT_DIR, copy)
    return copy


def captures(root: Path) -> list[Capture]:
    """The two captures the collection is made of (see the module's docstring)."""
    first = _site_copy(root, "site-first")
    page = first / CHANGED
    assert HII_AFTER in page.read_text()
    page.write_text(page.read_text().replace(HII_AFTER, HII_BEFORE))
    second = _site_copy(root, "site-second")
    (second / REMOVED).unlink()
    return [
        Capture(FIRST, first, {f"/{REDIRECT}": (301, {"Location": SITE}, b"")}),
        Capture(SECOND, second, {f"/{REMOVED}": (404, {"Content-Type": "text/html"}, NOT_FOUND)}),
    ]


@pytest.fixture(scope="session")
def pywb_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    """pywb serving the collection on loopback, as pywb does by default: a request for a time
    gets the nearest capture at once (``pywb_archive.url`` is the collection's replay URL)."""
    root = tmp_path_factory.mktemp("archive")
    warcs = [write_capture(root / f"capture-{c.date:%Y%m%d}.warc.gz", c) for c in captures(root)]
    with Pywb(root / "pywb", warcs) as pywb:
        yield pywb


@pytest.fixture(scope="session")
def pywb_exact(pywb_archive: Pywb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    """The same collection served with ``redirect_to_exact``: a request for a time that is not
    a capture's is redirected (307) to the nearest capture's exact timestamp, as the Wayback
    Machine does (302)."""
    workdir = tmp_path_factory.mktemp("archive-exact")
    collections = pywb_archive.workdir / "collections"
    with Pywb(workdir, collections=collections, redirect_to_exact=True) as pywb:
        yield pywb
