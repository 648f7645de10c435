"""The code stays as `make lint` wants it (ruff rules and formatting), checked on every test run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_ruff_rules_pass():
    result = _ruff("check", "agentcost_nb", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = _ruff("format", "--check", "agentcost_nb", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
