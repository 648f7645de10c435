"""What an agent writes is made storable and printable at the one boundary every reply crosses.

Lone surrogates (valid JSON, never valid UTF-8) would make the event
unencodable: it would be set aside and the call lost from totals and budgets.
Terminal escapes, bidi overrides and line breaks in ids and labels would be
printed raw by the CLI and stored raw in the log.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from test_bad_replies import Harness

from agentcost_nb.billing import Caller, resolve_usage
from agentcost_nb.client.types import AgentReply
from agentcost_nb.errors import ValidationError
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.text import clean_label, clean_text, valid

LONE = "\ud800"
PAIR = "\ud83d\ude00"  # a valid surrogate pair, as json.loads gives for "\\ud83d\\ude00" + more
OSC = "\x1b]0;pwned\x07\x1b[31m"
BIDI = "\u202e"
HOSTILE = f"{OSC}{BIDI}\r\n\x00\x85\u2066"
LABEL_FIELDS = ("model", "context_id", "task_id", "task_state")


def _encodable(value: object) -> None:
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for k, v in value.items():
            _encodable(k)
            _encodable(v)


def _task(text: str, *, model: str, ids: str, state: str = "TASK_STATE_COMPLETED") -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "task": {
                "id": f"t{ids}",
                "contextId": f"c{ids}",
                "status": {"state": state},
                "artifacts": [{"parts": [{"text": text}]}],
                "metadata": {"model": f"gpt{model}"},
            }
        },
    }


def _raw_json(doc: dict, *, swap: dict[str, str]) -> bytes:
    """``doc`` as JSON with placeholders swapped for raw JSON escapes (e.g. a lone surrogate)."""
    body = json.dumps(doc)
    for placeholder, escape in swap.items():
        body = body.replace(placeholder, escape)
    return body.encode()


def test_strings_are_made_valid_unicode():
    assert valid("a" + LONE + "b") == "a\ufffdb"
    assert valid(PAIR) == "😀"
    assert valid("\udfff\ud800") == "\ufffd\ufffd"
    assert valid("plain ✓") == "plain ✓"


def test_every_string_field_of_a_reply_is_valid_unicode():
    reply = AgentReply(
        status="error",
        text=f"x{LONE}y{PAIR}",
        error=f"bad {LONE}",
        model=f"m{LONE}",
        protocol=f"p{LONE}",
        rpc_url=f"http://h/{LONE}",
        context_id=f"c{LONE}",
        task_id=f"t{LONE}",
        task_state=f"s{LONE}",
        extra={"note": f"n{LONE}", "nested": [f"q{LONE}", {"k": LONE}], "code": -1},
    )
    for name in ("text", "error", "model", "protocol", "rpc_url", "context_id", "task_id"):
        value = getattr(reply, name)
        value.encode("utf-8")
        assert "\ufffd" in value, name
    assert reply.text == "x\ufffdy😀"
    _encodable(reply.extra)
    assert reply.extra["code"] == -1
    tokens, _ = resolve_usage(reply, f"question {LONE}")  # a tokenizer must not choke either
    assert tokens.input_tokens > 0 and tokens.output_tokens > 0


def test_labels_lose_every_unprintable_character_and_text_keeps_its_lines():
    reply = AgentReply(
        status="success",
        text=f"line 1\n\tline 2{HOSTILE}end",
        error=f"one{HOSTILE}two\nthree",
        **{name: f"x{HOSTILE}\u200b\u2028y" for name in LABEL_FIELDS},
    )
    for name in LABEL_FIELDS:
        value = getattr(reply, name)
        assert value.isprintable(), (name, value)
        assert value.startswith("x") and value.endswith("y") and "]0;pwned" in value
    assert reply.text == "line 1\n\tline 2]0;pwned[31m\nend"
    assert reply.error is not None and reply.error.isprintable()
    assert reply.error == "one]0;pwned[31m two three"
    # Idempotent: a reply rebuilt with dataclasses.replace stays the same.
    assert clean_text(reply.text) == reply.text and clean_label(reply.model or "") == reply.model


def test_a_reply_with_a_lone_surrogate_is_logged_and_priced():
    harness = Harness()
    past = datetime(2020, 1, 1, tzinfo=UTC)
    harness.tracker.registry.set_prices(
        "a2a", PriceSheet(cost_per_query=D("0.10")), effective_from=past
    )
    doc = _task("TEXT", model="MODEL", ids="IDS")
    body = _raw_json(doc, swap={"TEXT": "answer \\ud800 \\ud83d\\ude00", "MODEL": "\\udfff",
                                "IDS": "\\ud800"})  # fmt: skip
    harness.reply = lambda _r: httpx.Response(200, json=None, content=body,
                                              headers={"content-type": "application/json"})  # fmt: skip
    result = harness.call()
    assert result.event.status == "success" and str(result.event.cost_usd) == "0.1"
    assert result.reply.text == "answer \ufffd 😀"
    row = harness.tracker.log.read().to_pylist()[0]
    assert (row["model"], row["task_id"], row["context_id"]) == ("gpt\ufffd", "t\ufffd", "c\ufffd")
    harness.check()


def test_hostile_ids_labels_and_errors_are_stored_clean():
    harness = Harness()
    doc = _task("ok", model=OSC, ids=f"{OSC}\n{BIDI}")
    harness.reply = lambda _r: httpx.Response(200, json=doc)
    harness.call()
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": f"no{OSC}{BIDI}\r"}}
    harness.reply = lambda _r: httpx.Response(200, json=error)
    harness.call()
    rows = harness.tracker.log.read().to_pylist()
    for row in rows:
        for column in ("model", "task_id", "context_id", "task_state", "error", "protocol"):
            value = row[column]
            assert value is None or (value.isprintable() and "\x1b" not in value), (column, value)
    (error,) = [row["error"] for row in rows if row["error"]]
    assert "\u202e" not in error and "]0;pwned" in error
    harness.check()


def test_streamed_pieces_are_cleaned_as_the_reply_is():
    shown: list[str] = []
    harness = Harness(streaming=True)
    event = {"jsonrpc": "2.0", "id": 1, "result": _task(f"hi{OSC}\r\n{BIDI}there", model="",
                                                        ids="1")["result"]}  # fmt: skip
    body = f"data: {json.dumps(event)}\n\n".encode()
    harness.reply = lambda _r: httpx.Response(
        200, content=body, headers={"content-type": "text/event-stream"}
    )
    result = harness.call(on_text=shown.append)
    assert result.reply.text == "hi]0;pwned[31m\nthere" == "".join(shown)


@pytest.mark.parametrize(
    "team", ["fin\u2028ance", "a\u202eb", "x\u200by", "tab\there", "nbsp\xa0", "esc\x1b"]
)
def test_caller_refuses_what_the_cli_and_budgets_refuse(team):
    with pytest.raises(ValidationError) as caught:
        Caller(team=team)
    assert "team" in caught.value.fields and team not in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        Caller(tags=("ok", team))
    assert "tags" in caught.value.fields
    key = f"sk-secret-{team}-0123456789"
    with pytest.raises(ValidationError) as caught:
        Caller(api_key=key)
    assert "api_key" in caught.value.fields and key not in str(caught.value)
    assert Caller(team="Fin ance ✓", project="p-1", tags=("déjà vu",)).team == "Fin ance ✓"


# ------------------------------------------------------------------ the CLI


def _free_port() -> int:
    for port in range(9600, 9700):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free loopback port in 9600-9699")


@pytest.fixture
def hostile_agent():
    """A loopback A2A agent answering with escapes, bidi and lone surrogates everywhere."""
    replies: list[bytes] = []
    card = {
        "name": "hostile", "description": "d", "version": "1",
        "capabilities": {"streaming": False},
        "defaultInputModes": ["text"], "defaultOutputModes": ["text"], "skills": [],
    }  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._send(json.dumps(card).encode())

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self._send(replies.pop(0))

        def log_message(self, *_args: Any) -> None:
            pass

    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    url = f"http://127.0.0.1:{port}/a"
    card["supportedInterfaces"] = [
        {"url": f"{url}/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
    ]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url, replies
    server.shutdown()
    server.server_close()


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcost_nb.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=60,
        env={**os.environ, "AGENTCOST_NB_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
    )


def test_the_cli_logs_and_never_prints_a_raw_escape(hostile_agent, tmp_path):
    url, replies = hostile_agent
    add = _cli(tmp_path, "agents", "add", "h", "--url", url, "--cost-per-query", "0.10")
    assert add.returncode == 0, add.stderr
    esc = json.dumps(OSC + BIDI)[1:-1]
    asked = _task("TEXT", model="MODEL", ids="IDS", state="TASK_STATE_INPUT_REQUIRED")
    replies.append(_raw_json(asked, swap={"TEXT": f"which?{esc}\\ud800",
                                          "MODEL": f"{esc}\\ud800", "IDS": f"{esc}\\n"}))  # fmt: skip
    failed = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "MSG"}}
    replies.append(_raw_json(failed, swap={"MSG": f"bad {esc}\\n\\ud800 key"}))

    sent = [_cli(tmp_path, "send", "--agent", "h", "hi") for _ in range(2)]
    assert [s.returncode for s in sent] == [0, 1], [s.stderr for s in sent]
    assert "the agent asks a question" in sent[0].stderr
    assert "JSON-RPC error" in sent[1].stderr and "unexpectedly" not in sent[1].stderr
    for s in sent:
        for stream in (s.stdout, s.stderr):
            assert "\x1b" not in stream and "\x07" not in stream and BIDI not in stream, stream
            stream.encode("utf-8")  # no surrogate reached the terminal
    events = pd.read_parquet(tmp_path / "events")
    assert list(events.sort_values("timestamp")["status"]) == ["success", "error"]
    assert events["cost_usd"].sum() == D("0.1")  # the question was billed, the error not
