"""Secrets: a full session with known keys, then every byte it wrote is scanned for them.

Keys: the caller's API key (typed into the chat's password field, and given to
the CLI with ``--api-key-env``), a wrong and a right Bearer key for the demo
agent that wants one. Scanned: the data home (Parquet decoded too, since zstd
would hide a plain key), the executed notebook (outputs and saved widget
state), the synced state of every widget, CLI stdout/stderr, captured logs and
stderr, and exception texts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest
from nbclient import NotebookClient

from agentcost_nb.billing import Caller
from agentcost_nb.budgets import Budget
from agentcost_nb.demo_agent import DEMO_SECRET
from agentcost_nb.errors import AgentCostError
from agentcost_nb.keys import key_hash, mask_key
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker

CALLER_KEY = "sk-" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
WRONG_AGENT_KEY = "ak-" + uuid.uuid4().hex
SECRETS = {"caller key": CALLER_KEY, "wrong agent key": WRONG_AGENT_KEY,
           "agent key": DEMO_SECRET}  # fmt: skip


# Log records not scanned: the demo agent's own server (it receives the key, and a2a-sdk
# logs request headers at DEBUG) and nbclient's trace of kernel messages (what a
# front end receives; what it keeps is scanned in the saved notebook).
AGENT_SIDE = ("a2a.server", "sse_starlette", "uvicorn", "starlette", "traitlets")


def _leaks(text: str, where: str) -> list[str]:
    """Every secret found in ``text``: whole, or (the long random ones) any 8-character piece."""
    found = []
    for name, key in SECRETS.items():
        if key in text:
            found.append(f"{name} in {where}")
        elif key != DEMO_SECRET and any(key[i : i + 8] in text for i in range(len(key) - 7)):
            found.append(f"part of the {name} in {where}")
    return found


def _scan_tree(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += _leaks(data.decode("latin-1"), str(path))
        if path.name.endswith(".parquet"):  # compressed: look at the values too
            found += _leaks(repr(pq.read_table(path).to_pylist()), f"{path} (decoded)")
    return found


def _widget_states() -> str:
    """What the front end gets (and a saved notebook keeps): every live widget's state."""
    from ipywidgets.widgets.widget import _instances

    states = []
    for widget in list(_instances.values()):
        try:
            states.append(json.dumps(widget.get_state(), default=repr, ensure_ascii=False))
        except Exception:  # a widget mid-teardown
            continue
    return "\n".join(states)


NOTEBOOK = [
    """
import os
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import ChatWidget, Dashboard
tracker = Tracker(os.environ["ACNB_HOME"])
chat = ChatWidget(tracker)
chat.api_key.value = os.environ["ACNB_CALLER_KEY"]   # what typing into the field does
chat.team.value = "finance"
chat.select("echo")
result = await chat.send("hello from a notebook")
print(result.event)
print(result.summary(), repr(result), sep="\\n")
chat
""",
    """
chat.select("secure")
chat.agent_key.value = os.environ["ACNB_WRONG_AGENT_KEY"]
wrong = await chat.send("let me in")
print(wrong.event.status, wrong.reply.error, wrong.reply)
chat.agent_key.value = os.environ["ACNB_AGENT_KEY"]
right = await chat.send("let me in")
print(right.event.status, right.reply)
""",
    """
dash = Dashboard(tracker.log)
dash.refresh()
display(dash)
tracker.log.to_pandas()[["api_key", "api_key_hash", "status", "error"]]
""",
]


@pytest.mark.slow
def test_no_key_is_written_anywhere_in_a_full_session(
    tmp_path, demo_server, monkeypatch, caplog, capfd
):
    from agentcost_nb.widgets import ChatWidget, Dashboard

    home = tmp_path / "home"
    tracker = Tracker(home)
    tracker.registry.add(
        AgentConfig(name="echo", display_name="Echo", url=demo_server.agent_url("echo"))
    )
    tracker.registry.add(
        AgentConfig(name="secure", display_name="Secure", auth_env="ACNB_AGENT_KEY",
                    url=demo_server.agent_url("echo", secure=True))
    )  # fmt: skip
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    found: list[str] = []

    # 1. The chat widget, the key typed into its password fields.
    chat = ChatWidget(tracker)
    chat.api_key.value = CALLER_KEY
    chat.team.value = "finance"
    results = []
    for text in ("hello", "#fail please", "#error please"):
        results.append(asyncio.run(chat.send(text)))
    chat.select("secure")
    chat.agent_key.value = WRONG_AGENT_KEY
    results.append(asyncio.run(chat.send("let me in")))
    chat.agent_key.value = DEMO_SECRET
    results.append(asyncio.run(chat.send("let me in")))
    assert [r.event.status for r in results] == ["success", "error", "error", "error", "success"]
    assert results[3].event.error_type == "auth"
    for r in results:
        found += _leaks(
            f"{r!r} {r.event!r} {r.reply!r} {r.summary()} {r.reply.error}", "a call result"
        )
    found += _leaks(
        chat.status.value + "".join(w.value for w in chat.transcript.children), "the chat"
    )

    dashboard = Dashboard(tracker.log)
    dashboard.refresh()
    states = _widget_states()
    assert "sk-…" in states  # the logs table shows the masked key
    found += _leaks(states, "the widgets' synced state")

    # 2. The CLI, the key in an environment variable.
    env = {**os.environ, "ACNB_CALLER_KEY": CALLER_KEY, "ACNB_AGENT_KEY": WRONG_AGENT_KEY}
    for agent, code in (("echo", 0), ("secure", 1)):
        done = subprocess.run(
            [sys.executable, "-m", "agentcost_nb.cli", "--home", str(home), "send",
             "--agent", agent, "--api-key-env", "ACNB_CALLER_KEY", "--team", "ops", "hi there"],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        found += _leaks(done.stdout + done.stderr, f"CLI output ({agent})")

    # 3. A notebook, executed headless and saved with its outputs and widget state.
    monkeypatch.setenv("ACNB_HOME", str(home))
    monkeypatch.setenv("ACNB_CALLER_KEY", CALLER_KEY)
    monkeypatch.setenv("ACNB_WRONG_AGENT_KEY", WRONG_AGENT_KEY)
    monkeypatch.setenv("ACNB_AGENT_KEY", DEMO_SECRET)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK])
    NotebookClient(nb, timeout=180, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    saved = tmp_path / "session.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text()
    assert "api_key_hash" in text and "sk-…" in text  # the notebook did run and show events
    found += _leaks(text, str(saved))

    # A hard budget on the key: the refusal names the key by hash only.
    tracker.budgets.add(Budget.for_key(CALLER_KEY, 0, period="day"))
    try:
        asyncio.run(tracker.call("echo", "over budget", caller=Caller(api_key=CALLER_KEY)))
    except AgentCostError as exc:
        errors.append(f"{exc!r} {exc}")
    assert errors, "the hard budget did not refuse"
    found += _leaks(repr(Caller(api_key=CALLER_KEY)), "repr(Caller)")

    # 4. Everything on disk, everything logged or printed, every exception text.
    found += _scan_tree(home)
    out, err = capfd.readouterr()
    found += _leaks(out + err, "captured stdout/stderr")
    for r in caplog.records:
        if r.name.startswith(AGENT_SIDE):
            continue
        text = r.getMessage() + str(r.exc_info or "")
        found += _leaks(text, f"a log record of {r.name}: {text[:300]!r}")
    found += _leaks("\n".join(errors), "exception texts")

    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "key, masked",
    [
        ("abcd", "****"),
        ("abcdefghijk", "****"),  # 11
        ("abcdefghijkl", "…ijkl"),  # 12
        ("abcdefghijklmnop", "…mnop"),  # 16: was abc…mnop, 7 of 16 shown
        ("abcdefghijklmnopqrstuvw", "…tuvw"),  # 23
        ("sk-defghijklmnopqrstuvwx", "sk-…uvwx"),  # 24
        ("  sk-proj-0123456789abcdefghijKLMN  ", "sk-…KLMN"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_mask_shows_less_of_a_shorter_key(key, masked):
    assert mask_key(key) == masked


@pytest.mark.parametrize("bad", ["\x00", "\n", "\x1b", "\u202e", "\u200b", "\t", "\x7f"])
def test_a_mask_never_holds_control_characters(bad):
    key = f"sk-0123456789abcdefghij{bad}def{bad}"
    masked = mask_key(key)
    assert masked.isprintable() and bad not in masked
    assert masked == "sk-…jdef"
    assert mask_key(bad * 30) == "****"
    assert key_hash(key) != key_hash(key.replace(bad, ""))  # the hash is of the key as given
