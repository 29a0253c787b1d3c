"""``exitscrape browse [VERSION] [--release DIR]``: the catalogue in Datasette, on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import webbrowser
from pathlib import Path

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error
from exitscrape.dataset.files import DIR_MODE, FILE_MODE, make_dirs
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.release.build import LICENSE, TABLE_NAMES
from exitscrape.release.sqlite import DATABASE, DB_NAME, METADATA_NAME, write_edition

HOST = "127.0.0.1"
DEFAULT_PORT = 8001
#: Where the SQLite editions of dataset versions are cached: <data-dir>/browse/<version>/.
CACHE = "browse"
INSTALL = "exitscrape browse needs Datasette: pip install 'exitscrape[browse]'"
#: Long texts (descriptions) are cut to this many characters in table views; a row's page
#: shows them whole.
SETTINGS = {"truncate_cells_html": 120}


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "browse",
        help="see the catalogue in a browser (Datasette on 127.0.0.1)",
        description="Serve a dataset version, or a release, with Datasette on 127.0.0.1 and "
        "print its URL:\nsearch, facets by country and category, column descriptions, CSV and "
        "JSON export.\nA version's SQLite edition is built once into "
        f"<data-dir>/{CACHE}/<version>/.\nNeeds Datasette: pip install 'exitscrape[browse]'. "
        "Ctrl-C stops it.",
        epilog="examples:\n"
        "  exitscrape browse                          # the latest version\n"
        "  exitscrape browse 20261124T194846Z --port 8080\n"
        "  exitscrape browse --release releases/exit-programmes\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "version",
        metavar="VERSION",
        nargs="?",
        help="dataset version: a name, an unambiguous prefix or 'latest' (default)",
    )
    parser.add_argument(
        "--release",
        metavar="DIR",
        help=f"serve the release folder DIR (its {DB_NAME} and {METADATA_NAME}) instead",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port on {HOST} (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--no-open",
        action="store_true",
        help="do not open a web browser (never opened without a terminal and a display)",
    )
    add_data_dir(parser)
    parser.set_defaults(func=run)


def _release(folder: Path) -> Path:
    if not folder.is_dir():
        raise DatasetError(f"--release {folder}: no such folder")
    missing = [name for name in (DB_NAME, METADATA_NAME) if not (folder / name).is_file()]
    if missing:
        raise DatasetError(
            f"--release {folder} holds no {' or '.join(missing)}: pass a folder made by "
            "`exitscrape release` (one made before releases had a SQLite edition: release its "
            "dataset version again)"
        )
    return folder


def _is_cached(folder: Path) -> bool:
    """Whether *folder* holds a built edition (a folder and a file, never a planted link)."""
    database = folder / DB_NAME
    return not folder.is_symlink() and not database.is_symlink() and database.is_file()


def _build(store: DatasetStore, version: str, folder: Path) -> None:
    """The SQLite edition of *version* into *folder*, atomically: built beside it, renamed."""
    manifest = store.manifest(version)
    tables = {name: store.read(name, version) for name in TABLE_NAMES}
    description = (
        f"Dataset version {version}, crawled {manifest['created_at']} from "
        f"{manifest.get('start_url', '?')}: not a release (`exitscrape release` makes one)."
    )
    make_dirs(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        write_edition(tables, tmp, description, LICENSE["title"])
        for path in tmp.iterdir():  # as the umask says until now: readable by all, no more
            os.chmod(path, FILE_MODE)
        os.chmod(tmp, DIR_MODE)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not _is_cached(folder):
                raise  # else another browse built it first: serve that one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _version(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Path, str]:
    """The folder of the version's SQLite edition (cached, else temporary) and what it is."""
    store = DatasetStore(resolve_data_dir(args.data_dir))
    version = store.resolve(args.version or "latest")
    folder = store.root / CACHE / version
    if not _is_cached(folder):
        try:
            _build(store, version, folder)
        except OSError as error:
            echo_error(
                f"exitscrape browse: cannot cache the SQLite edition in {folder} ({error}); "
                "using a temporary copy"
            )
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="exitscrape-"))
            folder = Path(temporary) / version
            _build(store, version, folder)
    return folder, f"dataset version {version}"


def _listen(port: int) -> socket.socket | None:
    try:
        return socket.create_server((HOST, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            why = "is in use: choose another with --port N (0 picks a free one)"
        else:
            why = f"cannot be listened on: {error.strerror}"
        echo_error(f"exitscrape browse: port {port} on {HOST} {why}")
        return None


def _can_open_browser() -> bool:
    """A person at a terminal with a display (or $BROWSER): never under cron or in a pipe."""
    display = any(os.environ.get(name) for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"))
    return sys.stdout.isatty() and (display or sys.platform in ("darwin", "win32"))


def _serve(folder: Path, listener: socket.socket) -> None:
    """Datasette on *listener* until a signal stops it."""
    import uvicorn
    from datasette.app import Datasette

    metadata = json.loads((folder / METADATA_NAME).read_text())
    datasette = Datasette(immutables=[str(folder / DB_NAME)], metadata=metadata, settings=SETTINGS)
    asyncio.run(datasette.invoke_startup())
    config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])


def run(args: argparse.Namespace) -> int:
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        echo_error(INSTALL)
        return 2
    if args.release and args.version:
        echo_error("exitscrape browse: give a VERSION or --release DIR, not both")
        return 2
    with contextlib.ExitStack() as stack:
        if args.release:
            folder = _release(Path(args.release))
            what = f"release {folder}"
        else:
            folder, what = _version(args, stack)
        listener = _listen(args.port)
        if listener is None:
            return 2
        url = f"http://{HOST}:{listener.getsockname()[1]}/{DATABASE}/programmes"
        echo(f"Datasette on {what}:", f"  {url}", "(Ctrl-C to stop)")
        if not args.no_open and _can_open_browser():
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        with contextlib.suppress(KeyboardInterrupt):
            _serve(folder, listener)
    # Only a signal ends the server: Ctrl-C, as a rule (uvicorn raises it again once shut down,
    # unless SIGINT was ignored, as in a background job).
    echo_error("exitscrape browse: stopped")
    return 130
