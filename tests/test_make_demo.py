"""`make demo` (the README's first command) serves the app and its demo agents."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_page(port: int, proc: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=60)
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"no answer on port {port}; exit code {proc.poll()}")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_make_demo_serves_the_app(tmp_path):
    port = _free_port()
    home = tmp_path / "home"
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "demo", f"PORT={port}", f"AGENTCOST_NB_HOME={home}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "AGENTCOST_NB_HOME": str(home)},
    )
    try:
        page = _wait_for_page(port, proc)
        assert page.status_code == 200
        assert "voila" in page.text.lower()
        # The embedded demo agents answer, at the URLs the seeded registry points to.
        agents = json.loads((home / "agents.json").read_text())["agents"]
        echo = next(a for a in agents if a["name"] == "echo")
        card = httpx.get(echo["url"] + "/.well-known/agent-card.json", timeout=10)
        assert card.status_code == 200 and card.json()["name"]
        assert (home / "events").is_dir()  # seeded with the sample log
    finally:
        _stop(proc)


@pytest.mark.slow
def test_the_app_starts_on_a_broken_registry_and_says_so(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "agents.json").write_text('{"version": 1, "agents": [\n  {"name": "a",,}\n]}\n')
    before = (home / "agents.json").read_text()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcost_nb.cli", "--home", str(home), "app", f"--port={port}",
         "--notebook", str(ROOT / "notebooks" / "app.ipynb"), "--sample", str(tmp_path / "none")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        page = _wait_for_page(port, proc)
        assert page.status_code == 200 and "voila" in page.text.lower()
        # (The banner naming the problem is the App's: tests/test_bad_config.py.)
        assert (home / "agents.json").read_text() == before  # never overwritten
    finally:
        _stop(proc)
    assert "warning: demo agents not registered" in proc.stdout.read()


def _kernels(proc: subprocess.Popen) -> list:
    """The kernel processes still running under the launcher."""
    import psutil

    running = []
    for p in psutil.Process(proc.pid).children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                running.append(p)
        except psutil.Error:  # ended (or a zombie not yet reaped) meanwhile: not running
            continue
    return running


@pytest.mark.slow
def test_the_app_shuts_down_the_kernel_of_a_closed_page_and_serves_no_files(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcost_nb.cli", "--home", str(tmp_path / "home"), "app",
         f"--port={port}", "--cull-idle=5", "--sample", str(tmp_path / "none")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert _wait_for_page(port, proc).status_code == 200  # a view: one kernel started
        assert len(_kernels(proc)) == 1
        # The page never connected (as after a closed tab): its kernel goes.
        deadline = time.monotonic() + 60
        while _kernels(proc) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _kernels(proc) == []
        # Files beside the notebook (the project, a data home inside it) are not served.
        for path in ("voila/files/pyproject.toml", "voila/files/data/agents.json"):
            assert httpx.get(f"http://127.0.0.1:{port}/{path}", timeout=10).status_code != 200
    finally:
        _stop(proc)
