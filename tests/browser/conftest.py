"""Fixtures for the real-browser tests: the real ``agentcost-nb app`` launcher and Chromium.

The launcher starts the demo agents in-process and Voila as its child; Voila's
kernels run in sessions of their own, so teardown kills the launcher's process
group *and* every descendant found before it (kernels would otherwise outlive it).

Chromium is Debian's (``/usr/bin/chromium``): Playwright cannot download its own here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # ipykernel depends on it
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
NO_CHROMIUM = (
    "Debian chromium not installed: run `apt-get install chromium` (make test does this as root)"
)
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class VoilaApp:
    url: str  # the app, e.g. http://127.0.0.1:PORT/
    home: Path  # its data home (agents.json, events/)
    demo_url: str  # where the launcher serves the demo A2A agents
    log_path: Path  # the launcher's and Voila's stdout+stderr

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    """True once the server answers HTTP at all.

    HEAD, not GET: a GET of the notebook URL would start a kernel and run the app.
    """
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=2)
    except urllib.error.HTTPError:
        return True  # Voila answers HEAD with 405: it is up
    except OSError:
        return False
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the launcher, Voila and Voila's kernels (which sit in their own sessions)."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    alive = [p for p in family if p.is_running()]
    for p in alive:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(alive, timeout=5)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def voila_app(
    chromium: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[VoilaApp]:
    """``agentcost-nb app`` (the launcher ``make demo`` runs) on a free port, fresh data home.

    A test module may define ``sample_events() -> list[Event]``: the launcher then
    seeds the home with them, moved by whole days so the newest falls on today
    (UTC, which is also the app's reporting zone here).
    """
    base = tmp_path_factory.mktemp("voila-app")
    home, sample = base / "home", base / "sample"
    sample.mkdir()
    make_events = getattr(request.module, "sample_events", None)
    if make_events is not None:
        from agentcost_nb.eventlog import EventLog

        EventLog(sample / "events").append(make_events())
    port = _free_port()
    log_path = base / "launcher.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTCOST_NB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["TZ"] = "UTC"  # the dashboard's days and "today" match the seeded UTC days
    cmd = [
        sys.executable, "-m", "agentcost_nb.cli", "--home", str(home),
        "app", "--port", str(port), "--notebook", "notebooks/app.ipynb", "--sample", str(sample),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(url):
            if proc.poll() is not None:
                pytest.fail(f"launcher exited with {proc.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Voila not answering after {START_TIMEOUT:.0f} s:\n{log_path.read_text()}"
                )
            time.sleep(0.3)
        found = re.search(r"demo agents at (http://\S+?);", log_path.read_text())
        assert found, f"no 'demo agents at' line from the launcher:\n{log_path.read_text()}"
        yield VoilaApp(url=url, home=home, demo_url=found.group(1), log_path=log_path)
    finally:
        _stop(proc)
        if log_path.exists():  # keep Voila's log next to the screenshots
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "voila-launcher.log").write_bytes(log_path.read_bytes())


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.page_errors = []  # JavaScript exceptions, for failure messages
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def snap(page: Any, artifacts: Path, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``snap("stage")`` saves a full-page screenshot as test-artifacts/<test>-NN-stage.png."""
    counter = iter(range(1, 100))
    test = re.sub(r"\W+", "_", request.node.name)
    for stale in artifacts.glob(f"{test}-*.png"):  # an earlier run's, e.g. a -FAILED one
        stale.unlink()

    def take(stage: str) -> Path:
        path = artifacts / f"{test}-{next(counter):02d}-{stage}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
