"""The archive fixtures: the bundled snapshot captured at two dates, served by pywb.

What the collection holds (every URL of the site is captured on both dates, all at the same
second, as ``https://www.exit-practices.eu/<path>``; ``/`` is ``index.html``):

- ``FIRST`` (2019-06-01 12:00:00 UTC): the snapshot with Healthy Identity Intervention's
  organisation as it was before (``HII_BEFORE``, :data:`tests.conftest.OLD_SNAPSHOT_EDITS`),
  every programme present, and ``/home.html`` a 301 to ``/``.
- ``SECOND`` (2021-03-01 12:00:00 UTC): the snapshot as bundled (HII's organisation is
  ``HII_AFTER``), except RIVE (``REMOVED``): its page is gone, still linked from
  ``islamist1.html``, and captured as a 404.

- ``THIRD`` (2023-01-01 12:00:00 UTC): as ``SECOND``, except the Mentoring Programme renamed
  (``RENAMED``: a new name at both its URLs); ``robots.txt`` forbids ``/contact.html``
  (``FORBIDDEN``, a menu page); the home page links to ``/home.html`` (a captured 301 to a
  relative ``/in-europe.html``), to ``NEVER`` and to ``LOOP``, captured as a 301 to its own
  page on ``http://exit-practices.eu/``, which the archive indexes as the same page.

So between the first two: one programme changed (HII's organisation), one removed (RIVE); in the
third, one renamed. Every date holds the site's ``robots.txt``. ``NEVER`` was never captured.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.archive.pywb_server import SITE, ArchiveFront, Capture, Pywb, write_capture
from tests.conftest import OLD_SNAPSHOT_EDITS

FIRST = datetime(2019, 6, 1, 12, 0, 0, tzinfo=UTC)
SECOND = datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC)
THIRD = datetime(2023, 1, 1, 12, 0, 0, tzinfo=UTC)
CHANGED = "healthy-identity-intervention-hii.html"
_EDIT = OLD_SNAPSHOT_EDITS[CHANGED]
assert _EDIT is not None
HII_AFTER, HII_BEFORE = _EDIT  # as the page's HTML has them
REMOVED = "research-and-intervention-on-violent-extremism-rive1.html"
REDIRECT = "home.html"
NEVER = "never-captured.html"
LOOP = "loop.html"
FORBIDDEN = "contact.html"
#: The Mentoring Programme (two pages, mentoring-programme.html and mentoring-programme1.html)
#: as named before and after ``THIRD``.
MENTORING, RENAMED = "Mentoring Programme", "Mentoring Programme for Inmates"
MENTORING_PAGES = ("mentoring-programme.html", "mentoring-programme1.html")
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
    removed = {f"/{REMOVED}": (404, {"Content-Type": "text/html"}, NOT_FOUND)}
    third = _site_copy(root, "site-third")
    (third / REMOVED).unlink()
    for name in MENTORING_PAGES:
        page = third / name
        assert MENTORING in page.read_text()
        page.write_text(page.read_text().replace(MENTORING, RENAMED))
    robots = third / "robots.txt"
    robots.write_text(robots.read_text() + f"Disallow: /{FORBIDDEN}\n")
    home = third / "index.html"
    links = "".join(f'<a href="/{p}">{p}</a> ' for p in (REDIRECT, NEVER, LOOP))
    anchor = "Correctional Services.</div>"  # the home page's last paragraph
    assert anchor in home.read_text()
    home.write_text(home.read_text().replace(anchor, anchor.replace("</div>", links + "</div>")))
    return [
        Capture(FIRST, first, {f"/{REDIRECT}": (301, {"Location": SITE}, b"")}),
        Capture(SECOND, second, removed),
        Capture(
            THIRD,
            third,
            {
                **removed,
                f"/{REDIRECT}": (301, {"Location": "/in-europe.html"}, b""),
                f"/{LOOP}": (301, {"Location": f"http://exit-practices.eu/{LOOP}"}, b""),
            },
        ),
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


@pytest.fixture(scope="session")
def running_front(pywb_archive: Pywb) -> Iterator[ArchiveFront]:
    with ArchiveFront(pywb_archive.url) as front:
        yield front


@pytest.fixture
def front(running_front: ArchiveFront) -> ArchiveFront:
    """A front to ``pywb_archive`` (``front.archive``), with no faults and nothing logged yet."""
    running_front.reset()
    return running_front
