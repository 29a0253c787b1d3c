"""What a crawl (and a release) leaves under the data dir, run as an operator would: modes that
do not depend on the umask, no secret given with ``-s``, no write through a planted lock link."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from exitscrape.snapshot.server import SiteServer
from tests.conftest import FAST, REPO, crawl, run_cli

#: Secrets an operator passes with -s: none may be written under the data dir.
SECRETS = ("user-7c1e0a", "pw-5e3c7a1d9f", "tok-9b2f44e1", "proxypw-31d7c2", "bearer-d02c4a9e")
SECRET_SETTINGS = [
    "-s", f"HTTPAUTH_USER={SECRETS[0]}",
    "-s", f"HTTPAUTH_PASS={SECRETS[1]}",
    "-s", "HTTPAUTH_DOMAIN=127.0.0.1",
    "-s", f"EXITSCRAPE_API_TOKEN={SECRETS[2]}",
    "-s", f"UPSTREAM_PROXY=http://proxyuser:{SECRETS[3]}@127.0.0.1:9/",
    "-s", f'DEFAULT_REQUEST_HEADERS={{"Authorization": "Bearer {SECRETS[4]}"}}',
]  # fmt: skip


def under_umask_0(*args: str) -> subprocess.CompletedProcess[str]:
    """``exitscrape ARGS`` in a process whose umask is 0 (a careless service definition)."""
    code = (
        "import os, sys; os.umask(0); from exitscrape.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip


def writable_by_others(root: Path) -> list[str]:
    found = []
    for directory, dirs, files in os.walk(root):
        for name in (".", *dirs, *files):
            path = Path(directory, name)
            if stat.S_IMODE(os.lstat(path).st_mode) & 0o022:
                found.append(str(path))
    return found


def contents(root: Path) -> dict[Path, bytes]:
    """Every file under *root*, gzip files also inflated (a secret in a cache entry counts)."""
    found = {}
    for path in (p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data.startswith(b"\x1f\x8b"):
            data += gzip.decompress(data)
        found[path] = data
    return found


def test_under_umask_0_nothing_is_writable_by_others_and_no_secret_is_kept(
    session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    data, out = tmp_path / "data", tmp_path / "release"
    crawled = under_umask_0(
        "crawl", "--start-url", session_snapshot_server.url, "--data-dir", str(data),
        *FAST, *SECRET_SETTINGS,
    )  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr
    released = under_umask_0("release", "--data-dir", str(data), "--out", str(out))
    assert released.returncode == 0, released.stderr

    names = {p.relative_to(data).parts[0] for p in data.rglob("*")}
    assert {"LATEST", ".lock", "runs", "cache", "releases.json"} <= names
    assert (data / "cache" / "quick-check.json").is_file()
    assert writable_by_others(data) == []
    assert writable_by_others(out) == [] and writable_by_others(out.with_suffix(".zip")) == []

    files = contents(data)
    assert len(files) > 40
    for path, data_bytes in files.items():
        for secret in SECRETS:
            assert secret.encode() not in data_bytes, (secret, path)
    (report_path,) = (data / "runs").glob("*.json")
    settings = json.loads(report_path.read_text())["settings"]
    assert settings["HTTPAUTH_PASS"] == settings["EXITSCRAPE_API_TOKEN"] == "<redacted>"
    assert settings["UPSTREAM_PROXY"] == "http://<redacted>@127.0.0.1:9/"
    runs = run_cli("runs", "--json", "--data-dir", str(data))
    assert runs.returncode == 0 and not [s for s in SECRETS if s in runs.stdout]


def test_a_symlink_planted_at_the_lock_is_not_followed(
    session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (data / ".lock").symlink_to(victim)
    result = crawl(session_snapshot_server.url, data)
    assert result.returncode == 1
    assert f"{data / '.lock'}: a symbolic link: not followed; remove it" in result.stderr
    assert "Traceback" not in result.stderr
    assert victim.read_text() == "precious\n"
    assert (data / ".lock").is_symlink()


def test_credentials_in_the_start_url_are_refused(tmp_path: Path) -> None:
    """They would be written into every URL of the dataset, the manifest and the run report."""
    data = tmp_path / "data"
    result = run_cli(
        "crawl", "--start-url", f"http://user:{SECRETS[1]}@127.0.0.1:9/", "--data-dir", str(data)
    )
    assert result.returncode == 2 and "must not hold credentials" in result.stderr
    assert SECRETS[1] not in result.stderr and not data.exists()
