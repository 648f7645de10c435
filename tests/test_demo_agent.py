"""The bundled demo agents, checked on the wire (no agentcost client involved)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from agentcost_nb.demo_agent import (
    DEMO_AGENTS,
    DEMO_SECRET,
    DemoAgentServer,
    chat_completion_usage,
    chunks,
    summarize,
    translate,
)


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
    assert card["url"] == demo_server.agent_url("echo", "0.3") + "/"
    legacy = demo_server.agent_url("echo", "legacy")
    assert httpx.get(legacy + "/.well-known/agent-card.json").status_code == 404
    old = httpx.get(legacy + "/.well-known/agent.json").json()
    assert old["url"] == card["url"] and "protocolVersion" not in old


def test_the_0_3_server_knows_only_0_3_methods(demo_server):
    url = demo_server.agent_url("echo", "0.3")
    assert _rpc(url, "hi", dialect="1.0")["error"]["code"] == -32601
    assert _rpc(url, "hi", dialect="0.3")["result"]["parts"][0]["text"] == "echo: hi"


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


# ----------------------------------------------------- the switches, on the wire


def _stream(url: str, text: str, *, dialect: str = "1.0") -> list[dict]:
    """SendStreamingMessage / message/stream; the JSON-RPC results of every SSE event."""
    if dialect == "1.0":
        message = {"role": "ROLE_USER", "parts": [{"text": text}], "messageId": "m-1"}
        method, headers = "SendStreamingMessage", {"A2A-Version": "1.0"}
    else:
        message = {"kind": "message", "role": "user", "parts": [{"kind": "text", "text": text}],
                   "messageId": "m-1"}  # fmt: skip
        method, headers = "message/stream", {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": message}}
    with httpx.stream("POST", url + "/", json=body, headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line[len("data: ") :])["result"] for line in lines]


def test_chunks_split_into_at_least_three_pieces_that_join_back():
    assert chunks("one two three four") == ["one ", "two ", "three ", "four"]
    assert chunks("echo: hi") == ["ech", "o: ", "hi"]
    assert "".join(chunks("x")) == "x"


def test_stream_switch_sends_artifact_chunks_in_both_dialects(demo_server):
    url = demo_server.agent_url("echo")
    events10 = _stream(url, "a b #stream")
    kinds = [next(iter(e)) for e in events10]
    assert kinds[0] == "task" and kinds[-1] == "statusUpdate"
    updates = [e["artifactUpdate"] for e in events10 if "artifactUpdate" in e]
    assert len(updates) >= 3 and "append" not in updates[0] and updates[1]["append"] is True
    assert "".join(u["artifact"]["parts"][0]["text"] for u in updates) == "echo: a b #stream"
    assert events10[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert "final" not in events10[-1]["statusUpdate"]  # 1.0 has no final flag
    events03 = _stream(url, "a b #stream", dialect="0.3")
    assert [e["kind"] for e in events03][-1] == "status-update" and events03[-1]["final"] is True
    assert events03[-2]["lastChunk"] is True


def test_summarizer_streams_one_adk_usage_per_chunk(demo_server):
    events = _stream(demo_server.agent_url("summarizer"), "one two #stream")
    usage = [e["statusUpdate"]["metadata"]["adk_usage_metadata"] for e in events
             if "statusUpdate" in e and "metadata" in e["statusUpdate"]]  # fmt: skip
    # "summary: one two #stream" -> 4 chunks, each a call over the 3-word prompt.
    assert [(u["promptTokenCount"], u["candidatesTokenCount"]) for u in usage] == [(3, 1)] * 4


def test_working_switch_returns_a_working_task_when_asked_not_to_wait(demo_server):
    url = demo_server.agent_url("echo")
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {
        "message": {"role": "ROLE_USER", "parts": [{"text": "x #working"}], "messageId": "w-1"},
        "configuration": {"returnImmediately": True}}}  # fmt: skip
    task = httpx.post(url + "/", json=body, headers={"A2A-Version": "1.0"}).json()["result"]["task"]
    assert task["status"]["state"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
    get = {"jsonrpc": "2.0", "id": 2, "method": "GetTask", "params": {"id": task["id"]}}
    for _ in range(100):
        polled = httpx.post(url + "/", json=get, headers={"A2A-Version": "1.0"}).json()["result"]
        if polled["status"]["state"] == "TASK_STATE_COMPLETED":
            break
        time.sleep(0.1)
    assert polled["artifacts"][0]["parts"] == [{"text": "echo: x #working"}]


def test_drip_switch_sends_the_reply_one_byte_at_a_time(demo_server):
    message = {"role": "ROLE_USER", "parts": [{"text": "#drip"}], "messageId": "d-1"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    with httpx.stream("POST", demo_server.agent_url("echo") + "/", json=body,
                      headers={"A2A-Version": "1.0"}, timeout=10) as response:  # fmt: skip
        assert "content-length" not in response.headers
        first = [len(chunk) for chunk, _ in zip(response.iter_raw(), range(2), strict=False)]
    assert first == [1, 1]


def test_secure_mount_wants_the_key_and_keeps_its_cards_public(demo_server):
    url = demo_server.agent_url("echo", secure=True)
    card = httpx.get(url + "/.well-known/agent-card.json").json()
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"] == {"scheme": "Bearer"}
    assert card["supportedInterfaces"][0]["url"] == url + "/"
    card03 = httpx.get(demo_server.agent_url("echo", "0.3", secure=True)
                       + "/.well-known/agent-card.json").json()  # fmt: skip
    assert card03["securitySchemes"] == {"apikey": {"type": "apiKey", "in": "header",
                                                     "name": "X-API-Key"}}  # fmt: skip
    assert card03["url"] == url + "/key/"
    message = {"role": "ROLE_USER", "parts": [{"text": "hi"}], "messageId": "s-1"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    v10 = {"A2A-Version": "1.0"}
    refused = httpx.post(url + "/", json=body, headers=v10)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    as_header = httpx.post(url + "/", json=body, headers={**v10, "X-API-Key": DEMO_SECRET})
    assert as_header.status_code == 401  # this route wants a Bearer token
    ok = httpx.post(url + "/", json=body, headers={**v10, "Authorization": f"Bearer {DEMO_SECRET}"})
    assert ok.json()["result"]["message"]["parts"] == [{"text": "echo: hi"}]
    keyed = httpx.post(url + "/key/", json=body, headers={**v10, "X-API-Key": DEMO_SECRET})
    assert keyed.status_code == 200


def test_chat_completions_route_with_and_without_streaming(demo_server):
    url = demo_server.chat_url + "/chat/completions"
    messages = [{"role": "user", "content": "a b"}, {"role": "assistant", "content": "c"},
                {"role": "user", "content": "hi there"}]  # fmt: skip
    reply = httpx.post(url, json={"model": "x", "messages": messages}).json()
    assert reply["choices"][0]["message"] == {"role": "assistant", "content": "echo: hi there"}
    assert reply["usage"] == chat_completion_usage(messages, "echo: hi there") == {
        "prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 3},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }  # fmt: skip
    for include in (True, False):
        body = {"messages": messages[-1:], "stream": True,
                "stream_options": {"include_usage": include}}  # fmt: skip
        with httpx.stream("POST", url, json=body) as response:
            data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
        assert data[-1] == "[DONE]"
        chunks_ = [json.loads(d) for d in data[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks_ if c["choices"])
        assert text == "echo: hi there"
        assert ("usage" in chunks_[-1]) is include
    error = httpx.post(url, json={"messages": [{"role": "user", "content": "#error"}]})
    assert error.status_code == 500 and "demo error" in error.json()["error"]["message"]
    assert httpx.post(url, content=b"{").status_code == 400
