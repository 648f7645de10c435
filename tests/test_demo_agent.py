"""The bundled demo agents, checked on the wire (no agentcost client involved)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import httpx
import pytest

from agentcost_nb.demo_agent import DEMO_AGENTS, DemoAgentServer, summarize, translate


def _rpc(url: str, text: str, *, dialect: str = "1.0", version_header: bool = True) -> dict:
    if dialect == "1.0":
        message = {"role": "ROLE_USER", "parts": [{"text": text}], "messageId": "m-1"}
        method = "SendMessage"
    else:
        message = {
            "kind": "message",
            "role": "user",
            "parts": [{"kind": "text", "text": text}],
            "messageId": "m-1",
        }
        method = "message/send"
    headers = {"A2A-Version": "1.0"} if dialect == "1.0" and version_header else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": message}}
    response = httpx.post(url + "/", json=body, headers=headers, timeout=10)
    assert response.status_code == 200
    return response.json()


def test_demo_agents_spec():
    assert [(a.name, a.display_name, a.model) for a in DEMO_AGENTS] == [
        ("echo", "Echo Agent", "demo-echo-1"),
        ("summarizer", "Summarizer", "demo-sum-2"),
        ("translator", "Translator", "demo-tr-1"),
    ]
    assert all(a.description for a in DEMO_AGENTS)


def test_replies_are_deterministic():
    assert summarize("a b c d e f g h i j") == "summary: a b c d e f g h"
    assert translate("Hello big world") == "fr: bonjour big monde"


def test_agent_urls(demo_server):
    base = demo_server.base_url
    assert base.startswith("http://127.0.0.1:") and demo_server.port > 0
    assert demo_server.agent_url("echo") == f"{base}/echo"
    assert demo_server.agent_url("echo", "0.3") == f"{base}/v03/echo"
    assert demo_server.agent_url("summarizer", "legacy") == f"{base}/legacy/summarizer"
    with pytest.raises(KeyError):
        demo_server.agent_url("nobody")
    with pytest.raises(ValueError):
        demo_server.agent_url("echo", "0.1")  # type: ignore[arg-type]


def test_1_0_card_lists_both_dialects_and_sdk_adds_0_3_fields(demo_server):
    url = demo_server.agent_url("summarizer")
    card = httpx.get(url + "/.well-known/agent-card.json").json()
    assert card["name"] == "Summarizer"
    assert [(i["protocolBinding"], i["protocolVersion"]) for i in card["supportedInterfaces"]] == [
        ("JSONRPC", "1.0"),
        ("JSONRPC", "0.3"),
    ]
    assert {i["url"] for i in card["supportedInterfaces"]} == {url + "/"}
    # a2a-sdk merges a 0.3 view into the card when an interface is 0.3.
    assert (card["url"], card["protocolVersion"]) == (url + "/", "0.3")


def test_0_3_card_and_legacy_card(demo_server):
    card = httpx.get(demo_server.agent_url("echo", "0.3") + "/.well-known/agent-card.json").json()
    assert "supportedInterfaces" not in card
    assert (card["preferredTransport"], card["protocolVersion"]) == ("JSONRPC", "0.3.0")
    assert card["url"] == demo_server.agent_url("echo") + "/"
    legacy = demo_server.agent_url("echo", "legacy")
    assert httpx.get(legacy + "/.well-known/agent-card.json").status_code == 404
    old = httpx.get(legacy + "/.well-known/agent.json").json()
    assert old["url"] == demo_server.agent_url("echo") + "/" and "protocolVersion" not in old


def test_echo_on_both_dialects(demo_server):
    url = demo_server.agent_url("echo")
    r10 = _rpc(url, "hi there")["result"]["message"]
    assert r10["role"] == "ROLE_AGENT" and r10["parts"] == [{"text": "echo: hi there"}]
    assert r10["metadata"] == {"model": "demo-echo-1"}
    r03 = _rpc(url, "hi there", dialect="0.3")["result"]
    assert (r03["kind"], r03["role"]) == ("message", "agent")
    assert r03["parts"] == [{"kind": "text", "text": "echo: hi there"}]


def test_1_0_without_version_header_is_refused(demo_server):
    reply = _rpc(demo_server.agent_url("echo"), "hi", version_header=False)
    assert reply["error"]["code"] == -32009


def test_summarizer_task_carries_adk_usage(demo_server):
    task = _rpc(demo_server.agent_url("summarizer"), "a b c d e f g h i j k")["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["artifacts"][0]["parts"] == [{"text": "summary: a b c d e f g h"}]
    usage = {"promptTokenCount": 11.0, "candidatesTokenCount": 9.0, "totalTokenCount": 20.0}
    # As ADK does: the model call's usage rides on a status event, which
    # a2a-sdk merges into Task.metadata; the result artifact does not repeat it.
    assert task["metadata"] == {"model": "demo-sum-2", "adk_usage_metadata": usage}
    assert task["artifacts"][0]["metadata"] == {"model": "demo-sum-2"}


def test_translator_reports_usage_object(demo_server):
    msg = _rpc(demo_server.agent_url("translator"), "good morning", dialect="0.3")["result"]
    assert msg["parts"][0]["text"] == "fr: bon matin"
    assert msg["metadata"] == {
        "model": "demo-tr-1",
        "usage": {"input_tokens": 2.0, "output_tokens": 3.0},
    }


def test_switches_fail_error(demo_server):
    url = demo_server.agent_url("translator")
    task = _rpc(url, "x #fail")["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_FAILED"
    assert task["status"]["message"]["parts"] == [{"text": "demo failure"}]
    assert _rpc(url, "x #error")["error"]["code"] == -32603
    assert _rpc(url, "x #error", dialect="0.3")["error"]["code"] == -32603


def test_start_stop_repeatedly_frees_the_port():
    for _ in range(3):
        with DemoAgentServer() as server:
            port = server.port
            assert (
                httpx.get(server.agent_url("echo") + "/.well-known/agent-card.json").status_code
                == 200
            )
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
    with pytest.raises(RuntimeError, match="not started"):
        _ = DemoAgentServer().base_url


def test_usable_inside_a_running_event_loop():
    async def inside():
        # As in a Jupyter kernel: the loop is running while the server starts.
        with DemoAgentServer() as server:
            async with httpx.AsyncClient() as client:
                r = await client.get(server.agent_url("echo") + "/.well-known/agent-card.json")
                return r.json()["name"]

    assert asyncio.run(inside()) == "Echo Agent"


def test_serve_prints_where_each_agent_is():
    code = "from agentcost_nb.demo_agent import serve; serve(0)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().strip() for _ in DEMO_AGENTS]
            echo_url = lines[0].rsplit(" ", 1)[1]
            # The socket listens before the lines are printed: the card answers at once.
            card = httpx.get(echo_url + "/.well-known/agent-card.json", timeout=5).json()
        finally:
            proc.terminate()
    assert card["name"] == "Echo Agent"
    assert [line.split(" (")[0] for line in lines] == [a.display_name for a in DEMO_AGENTS]
    assert "(demo-echo-1): http://127.0.0.1:" in lines[0] and lines[0].endswith("/echo")
