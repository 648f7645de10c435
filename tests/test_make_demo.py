"""`make demo` (the README's first command) serves the app and its demo agents."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        deadline = time.monotonic() + 120
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert page is not None, f"no answer on port {port}; exit code {proc.poll()}"
        assert page.status_code == 200
        assert "voila" in page.text.lower()
        # The embedded demo agents answer, at the URLs the seeded registry points to.
        agents = json.loads((home / "agents.json").read_text())["agents"]
        echo = next(a for a in agents if a["name"] == "echo")
        card = httpx.get(echo["url"] + "/.well-known/agent-card.json", timeout=10)
        assert card.status_code == 200 and card.json()["name"]
        assert (home / "events").is_dir()  # seeded with the sample log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
