"""The scheduling recipes, exercised: the cron line and the systemd service run as their
schedulers would run them, the timer and service pass ``systemd-analyze verify``, the CI
workflow's steps are checked, and the project is deployed to a real scrapyd and run there."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from exitscrape.cli import build_parser
from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import FAST, REPO

DEPLOY = REPO / "deploy"
INSTALL_DIR = "/srv/exitscrape"
BIN = Path(sys.executable).parent
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_field_ok(text: str, low: int, high: int) -> bool:
    """One cron time field (``*``, ``*/n``, ``a-b``, ``a,b``) within its range."""
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(b.isdigit() and low <= int(b) <= high for b in bounds):
            return False
    return True


def cron_jobs(path: Path) -> list[tuple[list[str], str]]:
    jobs = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" in line.split()[0]:
            continue  # comments and VAR=value lines
        fields = line.split(None, 5)
        jobs.append((fields[:5], fields[5]))
    return jobs


def exitscrape_args(command: str) -> list[str]:
    """The arguments of the ``exitscrape`` call in a shell command line."""
    for part in command.split("&&"):
        words = shlex.split(part)
        if words and Path(words[0]).name == "exitscrape":
            return words[1:]
    raise AssertionError(f"no exitscrape call in {command!r}")


def install_tree(tmp_path: Path) -> Path:
    """A stand-in for /srv/exitscrape whose venv/bin/exitscrape is this environment's."""
    root = tmp_path / "srv"
    (root / "venv").mkdir(parents=True)
    (root / "venv" / "bin").symlink_to(BIN)
    return root


def cron_env() -> dict[str, str]:
    """What cron gives a job: no terminal, a minimal environment."""
    return {"HOME": os.environ.get("HOME", "/"), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}


def test_cron_line_is_valid_and_runs_like_cron_runs_it(tmp_path: Path) -> None:
    (schedule, command), *others = cron_jobs(DEPLOY / "cron" / "exitscrape.cron")
    assert others == []
    assert all(cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(schedule, CRON_RANGES, strict=True))
    args = build_parser().parse_args(exitscrape_args(command))
    assert args.func.__module__ == "exitscrape.cli.crawl" and args.data_dir

    root = install_tree(tmp_path)  # no scrapy.cfg anywhere near, as on a server
    with SiteServer(SNAPSHOT_DIR) as server:
        local = command.replace(INSTALL_DIR, str(root))
        local += f" --start-url {server.url} " + " ".join(FAST)
        first, second = (
            subprocess.run(
                ["/bin/sh", "-c", local],
                env=cron_env(),
                capture_output=True,
                text=True,
                timeout=300,
                stdin=subprocess.DEVNULL,
            )
            for _ in range(2)
        )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # cron mails only the summary
    assert "published version" in first.stdout
    data = root / "datasets" / "exit_programmes"
    assert DatasetStore(data).latest() is not None
    # The second night costs 304s: the HTTP cache works outside the repository too.
    assert second.returncode == 0 and second.stderr == ""
    assert "unchanged" in second.stdout
    statuses = [status for _, _, status in server.requests]
    assert statuses.count(304) == len(statuses) // 2


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_systemd_service_runs_the_crawl_as_systemd_would(tmp_path: Path) -> None:
    service = unit(DEPLOY / "systemd" / "exitscrape.service")["Service"]
    assert service["Type"] == "oneshot"
    root = install_tree(tmp_path)
    env = dict(
        line.split("=", 1) for line in [service["Environment"].replace(INSTALL_DIR, str(root))]
    )
    command = shlex.split(service["ExecStart"].replace(INSTALL_DIR, str(root)))
    assert Path(command[0]).name == "exitscrape" and command[1] == "crawl"
    workdir = Path(service["WorkingDirectory"].replace(INSTALL_DIR, str(root)))
    workdir.mkdir(parents=True, exist_ok=True)
    with SiteServer(SNAPSHOT_DIR) as server:
        result = subprocess.run(
            [*command, "--start-url", server.url, *FAST], cwd=workdir,
            env={**cron_env(), **env}, capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = Path(env["EXITSCRAPE_DATA_DIR"])
    assert data.is_relative_to(service["ReadWritePaths"].replace(INSTALL_DIR, str(root)))
    assert DatasetStore(data).latest() is not None


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    for name in ("exitscrape.service", "exitscrape.timer"):
        text = (DEPLOY / "systemd" / name).read_text()
        # verify checks that ExecStart exists: point it at this environment's exitscrape.
        (tmp_path / name).write_text(text.replace(f"{INSTALL_DIR}/venv/bin", str(BIN)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "exitscrape.service"),
         str(tmp_path / "exitscrape.timer")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "exitscrape" not in result.stderr  # no warning about our units
    timer = unit(DEPLOY / "systemd" / "exitscrape.timer")
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_ci_workflow_crawls_on_a_schedule_and_publishes() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/scheduled-crawl.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    (schedule,) = triggers["schedule"]
    fields = schedule["cron"].split()
    assert all(cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(fields, CRON_RANGES, strict=True))
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"]["contents"] == "write"
    steps = workflow["jobs"]["crawl"]["steps"]
    runs = {step.get("name"): step.get("run", "") for step in steps}
    assert "pip install ." in runs["Install exitscrape"]
    crawl = runs["Crawl"].replace("${{ inputs.force && '--force' || '' }}", "--force")
    args = build_parser().parse_args(shlex.split(crawl)[1:])
    assert args.func.__module__ == "exitscrape.cli.crawl" and args.force
    assert args.data_dir == "published/exit_programmes"
    assert "EXITSCRAPE_CACHE_DIR=http-cache" in args.settings
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "http-cache"
    assert "git push origin HEAD:datasets" in runs["Publish the new version"]
    names = [step.get("name") for step in steps]
    assert names.index("Crawl") < names.index("Publish the new version")
    reports = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert reports["if"] == "always()" and reports["with"]["path"].endswith("/runs/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base: str, endpoint: str, data: dict[str, str | list[str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    with urllib.request.urlopen(base + endpoint, data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.skipif(shutil.which("scrapyd", path=str(BIN)) is None, reason="needs scrapyd")
def test_scrapyd_deploy_schedule_and_publish(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\npoll_interval = 0.2\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
    )
    daemon = subprocess.Popen(
        [str(BIN / "scrapyd")], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for scrapyd to listen (a bounded start-up wait)
            try:
                assert api(base, "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert daemon.poll() is None, daemon.communicate()[0]
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.1)

        # Deploy with scrapyd-client from a copy of the project (it builds an egg in place);
        # only the [deploy] url changes, to this scrapyd's port.
        project = tmp_path / "project"
        shutil.copytree(REPO / "exitscrape", project / "exitscrape")
        for name in ("pyproject.toml", "setup.py", "scrapy.cfg"):
            shutil.copy(REPO / name, project / name)
        cfg = configparser.ConfigParser()
        cfg.read(project / "scrapy.cfg")
        assert cfg["deploy"]["project"] == "exitscrape"
        cfg["deploy"]["url"] = base
        with (project / "scrapy.cfg").open("w") as f:
            cfg.write(f)
        deploy = subprocess.run(
            [str(BIN / "scrapyd-deploy")], cwd=project, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert api(base, "listspiders.json?project=exitscrape")["spiders"] == ["exit_practices"]

        data = tmp_path / "data"
        with SiteServer(SNAPSHOT_DIR) as server:
            job = api(
                base,
                "schedule.json",
                {
                    "project": "exitscrape",
                    "spider": "exit_practices",
                    "start_url": server.url,
                    "setting": [
                        f"EXITSCRAPE_DATA_DIR={data}",
                        "DOWNLOAD_DELAY=0",
                        "AUTOTHROTTLE_ENABLED=False",
                    ],
                },
            )
            assert job["status"] == "ok", job
            deadline = time.monotonic() + 300
            while True:  # poll until scrapyd reports the job finished (bounded)
                jobs = api(base, "listjobs.json?project=exitscrape")
                if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                    break
                assert time.monotonic() < deadline, jobs
                time.sleep(0.2)
            assert server.requests, "the scheduled spider never crawled the site"
    finally:
        daemon.terminate()
        daemon.communicate(timeout=60)

    store = DatasetStore(data)
    latest = store.latest()
    logs = [p.read_text()[-3000:] for p in (home / "logs").rglob("*.log")]
    assert latest is not None, logs
    assert store.read("programmes").num_rows == 7
    (report,) = [json.loads(p.read_text()) for p in (data / "runs").glob("*.json")]
    assert report["outcome"] == "published" and report["version"] == latest
    assert report["start_url"] == server.url


def recipe_block(heading: str) -> list[str]:
    """The command lines of the first ``sh`` block after *heading* in docs/scheduling.md."""
    text = (REPO / "docs" / "scheduling.md").read_text().split(heading, 1)[1]
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


SHIMS = {
    # sudo -u exitscrape CMD runs CMD as the unprivileged `nobody`; useradd is only recorded.
    "sudo": 'if [ "$1" = -u ]; then [ "$2" = exitscrape ] || exit 90; shift 2\n'
    '  exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; fi\nexec "$@"',
    "useradd": 'echo "$@" > "$ROOT/useradd.args"',
    "install": 'exec /usr/bin/install $(echo "$@" | sed "s/-o exitscrape/-o nobody/; '
    's/-g exitscrape/-g nogroup/")',
    # python3 -m venv DIR makes DIR/bin/pip, which records its call: no download in a test.
    "python3": 'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && printf '
    '\'#!/bin/sh\\necho "$PWD $*" >> "$ROOT/pip.log"\\n\' > "$3/bin/pip" && '
    'chmod +x "$3/bin/pip"; else exec /usr/bin/python3 "$@"; fi',
}


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="runs the recipe's `sudo -u exitscrape` steps as `nobody`: needs root and setpriv",
)
def test_the_install_recipe_runs_as_written() -> None:
    """The install lines, with the user's steps run by an unprivileged user: the clone must land
    in a home that exists and is the user's (a user without one could not clone into it)."""
    root = Path(tempfile.mkdtemp(prefix="exitscrape-install-"))
    try:
        root.chmod(0o755)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name, body in SHIMS.items():
            (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
            (bin_dir / name).chmod(0o755)
        (root / "srv").mkdir(mode=0o755)  # root's, as /srv is: the user cannot create in it
        (root / "pip.log").touch()
        (root / "pip.log").chmod(0o666)
        (root / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")  # the clone's source
        home = root / "srv" / "exitscrape"
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(root), "ROOT": str(root)}
        for line in recipe_block("The examples install into `/srv/exitscrape`"):
            command = line.replace(INSTALL_DIR, str(home)).replace("<this repository>", str(REPO))
            result = subprocess.run(
                ["/bin/sh", "-ec", command], cwd=root, env=env, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, (line, result.stderr)
        useradd = (root / "useradd.args").read_text().split()
        assert useradd[-1] == "exitscrape" and "--system" in useradd
        assert useradd[useradd.index("--home-dir") + 1] == str(home)
        assert (home / "pyproject.toml").is_file() and home.stat().st_uid == 65534
        assert (root / "pip.log").read_text() == f"{home} install .\n"
    finally:
        shutil.rmtree(root)


def test_the_workflow_git_steps_run_as_written(tmp_path: Path) -> None:
    """The workflow's "Check out the published datasets" and "Publish the new version" steps in a
    repository whose origin is a local bare one: the first run creates the orphan `datasets`
    branch (with this machine's git, which may predate 2.42), the second gets it back."""
    workflow = yaml.safe_load((REPO / ".github/workflows/scheduled-crawl.yml").read_text())
    runs = {step.get("name"): step.get("run", "") for step in workflow["jobs"]["crawl"]["steps"]}
    checkout = runs["Check out the published datasets"]
    publish = runs["Publish the new version"].replace("${{ github.run_id }}", "42")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}

    def sh(script: str, cwd: Path) -> str:
        result = subprocess.run(
            ["/bin/bash", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    origin = tmp_path / "origin.git"
    sh(f"git init -q --bare {origin}", tmp_path)
    for run in ("first", "second"):
        job = tmp_path / run  # a fresh checkout of the repository, as actions/checkout makes
        sh(f"git init -q -b main {job} && cd {job} && git remote add origin {origin}", tmp_path)
        sh("echo code > code.txt && git add code.txt && git -c user.name=t -c user.email=t@t "
           "commit -q -m code", job)  # fmt: skip
        sh(checkout, job)
        published = job / "published"
        assert not (published / "code.txt").exists()  # the datasets branch holds data only
        if run == "second":
            assert (published / "exit_programmes" / "LATEST").read_text() == "v1\n"
            return
        data = published / "exit_programmes"  # what the crawl step leaves
        (data / "v1").mkdir(parents=True)
        (data / "LATEST").write_text("v1\n")
        (data / "v1" / "manifest.json").write_text("{}\n")
        (data / ".lock").write_text("")
        sh(publish, job)
        files = sh("git ls-tree -r --name-only datasets", origin).split()
        assert files == ["exit_programmes/LATEST", "exit_programmes/v1/manifest.json"]
