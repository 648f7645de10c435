"""A2A client: pure parsing, MockTransport edge cases, and the real demo server."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentcost_nb.client._wire import (
    Endpoint,
    endpoint_from_card,
    normalize_state,
    parse_response,
    send_request,
    task_request,
)
from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.client.types import AgentReply, ReportedUsage
from agentcost_nb.errors import ValidationError

BASE = "http://agent.test/a"
RPC = "http://agent.test/a/rpc"
CARD_10 = {
    "name": "A",
    "supportedInterfaces": [{"url": RPC, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
}
CARD_03 = {"name": "A", "url": RPC, "preferredTransport": "JSONRPC", "protocolVersion": "0.3.0"}
SECRET = "sk-very-secret-123"


def _parse(doc: object, *, status: int = 200, ctype: str = "application/json", dialect="1.0"):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse_response(
        status_code=status, content_type=ctype, body=body, dialect=dialect, rpc_url=RPC
    )


# ------------------------------------------------------------ choosing from the card


def test_endpoint_from_1_0_card():
    assert endpoint_from_card(CARD_10, BASE + "/.well-known/agent-card.json") == Endpoint(
        RPC, "1.0"
    )


def test_endpoint_prefers_1_0_in_an_sdk_card_that_also_carries_0_3_fields():
    card = {
        "supportedInterfaces": [
            {"url": "http://x/v03", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
            {"url": "http://x/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
            {"url": "http://x/v10", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
        ],
        "url": "http://x/v03",
        "preferredTransport": "JSONRPC",
        "protocolVersion": "0.3",
    }
    assert endpoint_from_card(card, "http://x/card") == Endpoint("http://x/v10", "1.0")
    assert endpoint_from_card(card, "http://x/card", prefer="0.3") == Endpoint(
        "http://x/v03", "0.3"
    )


def test_endpoint_from_0_3_and_0_2_cards():
    card_url = BASE + "/.well-known/agent-card.json"
    assert endpoint_from_card(CARD_03, card_url) == Endpoint(RPC, "0.3")
    assert endpoint_from_card({"url": RPC}, card_url) == Endpoint(RPC, "0.3")
    grpc_first = {
        "url": "http://x/grpc",
        "preferredTransport": "GRPC",
        "additionalInterfaces": [{"url": "http://x/jr", "transport": "JSONRPC"}],
    }
    assert endpoint_from_card(grpc_first, card_url) == Endpoint("http://x/jr", "0.3")


def test_endpoint_relative_url_resolves_against_card_and_none_without_jsonrpc():
    card_url = "http://h/agents/a/.well-known/agent-card.json"
    assert endpoint_from_card({"url": "/rpc"}, card_url) == Endpoint("http://h/rpc", "0.3")
    assert endpoint_from_card({"url": "http://h/g", "preferredTransport": "GRPC"}, card_url) is None
    assert endpoint_from_card({"name": "no url"}, card_url) is None
    # The caller's dialect wins when the card offers only the other one.
    assert endpoint_from_card(CARD_10, card_url, prefer="0.3") == Endpoint(RPC, "0.3")


@pytest.mark.parametrize(
    ("url", "card_url", "expected"),
    [
        ("http://h/a/rpc", "http://h/a/.well-known/agent-card.json?t=1", "http://h/a/rpc?t=1"),
        ("/a/rpc", "http://h/a/.well-known/agent-card.json?t=1", "http://h/a/rpc?t=1"),
        ("http://h/a/rpc?own=2", "http://h/a/.well-known/agent-card.json?t=1", "http://h/a/rpc?own=2"),
        ("http://other/rpc", "http://h/a/.well-known/agent-card.json?t=1", "http://other/rpc"),
        ("http://h/a/rpc", "http://h/a/.well-known/agent-card.json", "http://h/a/rpc"),
    ],
)  # fmt: skip
def test_the_rpc_url_keeps_the_agent_urls_query_on_the_same_host(url, card_url, expected):
    endpoint = endpoint_from_card({"url": url}, card_url)
    assert endpoint is not None and endpoint.rpc_url == expected


def _query_agent(seen: list[httpx.Request], rpc: str) -> httpx.MockTransport:
    card = {"name": "Q", "capabilities": {},
            "supportedInterfaces": [{"url": rpc, "protocolBinding": "JSONRPC"}]}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            if request.url.path == "/echo/.well-known/agent-card.json":
                return httpx.Response(200, json=card)
            return httpx.Response(404)
        return httpx.Response(200, json={"result": {"message": {"parts": [{"text": "ok"}]}}})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("rpc", ["http://h/echo/", "/echo/"])
@pytest.mark.parametrize("base", ["http://h/echo?tenant=acme", "http://h/echo/?tenant=acme"])
def test_a_base_url_with_a_query_finds_the_card_and_keeps_the_query(base, rpc):
    seen: list[httpx.Request] = []
    reply = asyncio.run(A2AClient(transport=_query_agent(seen, rpc)).send(base, "hi"))
    assert (reply.status, reply.text) == ("success", "ok"), reply.error
    get, post = seen
    assert get.url.path == "/echo/.well-known/agent-card.json"
    assert get.url.params["tenant"] == post.url.params["tenant"] == "acme"
    assert post.url.path == "/echo/"


def test_the_card_url_itself_with_a_query_is_fetched_as_given():
    seen: list[httpx.Request] = []
    url = "http://h/echo/.well-known/agent-card.json?tenant=acme"
    reply = asyncio.run(A2AClient(transport=_query_agent(seen, "/echo/")).send(url, "hi"))
    assert reply.status == "success" and str(seen[0].url) == url
    assert seen[1].url.params["tenant"] == "acme"


def test_no_card_with_a_query_names_both_card_paths_before_the_query():
    client = A2AClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    reply = asyncio.run(client.send("http://h/echo?tenant=acme", "hi"))
    assert reply.error_type == "no_agent_card"
    assert "http://h/echo/.well-known/agent-card.json?…" in reply.error
    assert "http://h/echo/.well-known/agent.json?…" in reply.error


def test_a_real_agent_behind_a_query_string_uses_its_card(demo_server):
    reply = _real(demo_server.agent_url("summarizer") + "?tenant=acme", "stream it please #stream")
    assert reply.status == "success" and reply.streamed_chunks >= 3  # the card said: streams
    assert reply.rpc_url == demo_server.agent_url("summarizer") + "/?tenant=acme"


def test_send_request_shapes():
    r10 = send_request("hi", dialect="1.0", request_id=7, message_id="m", context_id="c")
    assert r10 == {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "SendMessage",
        "params": {
            "message": {
                "role": "ROLE_USER",
                "parts": [{"text": "hi"}],
                "messageId": "m",
                "contextId": "c",
            }
        },
    }
    r03 = send_request("hi", dialect="0.3", request_id=8, message_id="m", task_id="t")
    assert r03["method"] == "message/send"
    assert r03["params"]["message"] == {
        "kind": "message",
        "role": "user",
        "parts": [{"kind": "text", "text": "hi"}],
        "messageId": "m",
        "taskId": "t",
    }


def test_stream_poll_cancel_and_non_blocking_request_shapes():
    s10 = send_request("hi", dialect="1.0", request_id=1, message_id="m", stream=True)
    s03 = send_request("hi", dialect="0.3", request_id=1, message_id="m", stream=True)
    assert (s10["method"], s03["method"]) == ("SendStreamingMessage", "message/stream")
    assert "configuration" not in s10["params"]
    n10 = send_request("hi", dialect="1.0", request_id=1, message_id="m", return_immediately=True)
    n03 = send_request("hi", dialect="0.3", request_id=1, message_id="m", return_immediately=True)
    assert n10["params"]["configuration"] == {"returnImmediately": True}
    assert n03["params"]["configuration"] == {"blocking": False}
    assert task_request("get", "t1", dialect="1.0", request_id=5) == {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "GetTask",
        "params": {"id": "t1"},
    }
    assert task_request("cancel", "t1", dialect="0.3", request_id=6)["method"] == "tasks/cancel"
    assert task_request("get", "t1", dialect="0.3", request_id=6)["method"] == "tasks/get"
    assert task_request("cancel", "t1", dialect="1.0", request_id=6)["method"] == "CancelTask"


def test_normalize_state():
    assert normalize_state("TASK_STATE_COMPLETED") == "completed"
    assert normalize_state("TASK_STATE_INPUT_REQUIRED") == "input-required"
    assert normalize_state("input-required") == "input-required"
    assert normalize_state("cancelled") == "canceled"
    assert normalize_state("") is None
    assert normalize_state(3) is None


# ------------------------------------------------------------------ pure parsing


def test_parse_1_0_message_with_usage_and_model():
    reply = _parse(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "message": {
                    "messageId": "m",
                    "contextId": "ctx",
                    "role": "ROLE_AGENT",
                    "parts": [{"text": "a"}, {"data": {"x": 1}}, {"text": "b"}],
                    "metadata": {
                        "model": "m-1",
                        "usage": {"input_tokens": 2.0, "output_tokens": 3.0},
                    },
                }
            },
        }
    )
    assert reply.status == "success"
    assert reply.text == "ab"  # text parts of one message are concatenated
    assert reply.usage == ReportedUsage(input_tokens=2, output_tokens=3)
    assert (reply.model, reply.context_id, reply.protocol) == ("m-1", "ctx", "a2a-1.0")
    assert (reply.http_status, reply.rpc_url, reply.task_state) == (200, RPC, None)


def test_parse_0_3_task_with_artifacts_later_usage_overrides():
    task = {
        "kind": "task",
        "id": "t1",
        "contextId": "c1",
        "status": {"state": "completed", "message": {"parts": [{"kind": "text", "text": "done"}]}},
        "artifacts": [
            {
                "parts": [{"kind": "text", "text": "first"}],
                "metadata": {"adk_usage_metadata": {"promptTokenCount": 1}},
            },
            {
                "parts": [{"kind": "text", "text": "second"}],
                "metadata": {
                    "adk_usage_metadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}
                },
            },
        ],
        "metadata": {"model": "sum", "adk_usage_metadata": {"promptTokenCount": 100}},
    }
    reply = _parse({"jsonrpc": "2.0", "id": 1, "result": task}, dialect="0.3")
    assert reply.status == "success"
    assert reply.text == "first\nsecond"
    # Later (artifact) values override earlier (task) ones; never summed.
    assert reply.usage == ReportedUsage(input_tokens=5, output_tokens=2)
    assert (reply.model, reply.task_id, reply.context_id) == ("sum", "t1", "c1")
    assert (reply.task_state, reply.protocol) == ("completed", "a2a-0.3")


def test_parse_task_without_artifacts_uses_status_text():
    task = {
        "id": "t",
        "status": {
            "state": "TASK_STATE_COMPLETED",
            "message": {"parts": [{"text": "only status"}]},
        },
    }
    assert _parse({"result": {"task": task}}).text == "only status"


@pytest.mark.parametrize(
    ("state", "status", "error_type"),
    [
        ("TASK_STATE_FAILED", "error", "task_failed"),
        ("rejected", "error", "task_rejected"),
        ("TASK_STATE_CANCELED", "canceled", "task_canceled"),
    ],
)
def test_parse_task_that_did_not_succeed(state, status, error_type):
    task = {"id": "t", "status": {"state": state, "message": {"parts": [{"text": "why\nnot"}]}}}
    reply = _parse({"result": {"task": task}})
    assert (reply.status, reply.error_type) == (status, error_type)
    assert reply.error is not None and "why not" in reply.error and RPC in reply.error
    assert "\n" not in reply.error


def test_parse_input_required_gives_the_question():
    task = {
        "id": "t",
        "contextId": "c",
        "status": {
            "state": "TASK_STATE_INPUT_REQUIRED",
            "message": {"parts": [{"text": "Which?"}]},
        },
    }
    reply = _parse({"result": {"task": task}})
    assert (reply.status, reply.text, reply.task_state) == (
        "input_required",
        "Which?",
        "input-required",
    )
    assert reply.error is None and reply.task_id == "t"


def test_parse_unfinished_task_is_invalid_response():
    reply = _parse({"result": {"task": {"id": "t", "status": {"state": "TASK_STATE_WORKING"}}}})
    assert (reply.status, reply.error_type, reply.task_state) == (
        "error",
        "invalid_response",
        "working",
    )


def test_parse_jsonrpc_error_keeps_code_and_message():
    reply = _parse({"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "boom"}})
    assert (reply.status, reply.error_type) == ("error", "jsonrpc")
    assert reply.error == f"JSON-RPC error -32603 from {RPC}: boom"
    assert reply.extra == {"jsonrpc_code": -32603}


@pytest.mark.parametrize(
    ("doc", "ctype", "status", "error_type", "needle"),
    [
        (b"<html>oops</html>", "application/json", 200, "invalid_response", "not valid JSON"),
        (b'{"result": {}}', "text/html; charset=utf-8", 200, "invalid_response", "text/html"),
        (b'{"result": {}}', "", 200, "invalid_response", "no content type"),
        (
            {"jsonrpc": "2.0", "id": 1},
            "application/json",
            200,
            "invalid_response",
            "neither a result",
        ),
        ({"result": {"foo": 1}}, "application/json", 200, "invalid_response", "neither a message"),
        ({"result": None}, "application/json", 200, "invalid_response", "neither a message"),
        ([1, 2], "application/json", 200, "invalid_response", "not a JSON-RPC object"),
        (b"", "text/plain", 500, "http_status", "HTTP 500 Internal Server Error"),
        (b"", "text/plain", 401, "auth", "HTTP 401 Unauthorized"),
        (b"", "text/plain", 403, "auth", "HTTP 403 Forbidden"),
    ],
)
def test_parse_bad_replies(doc, ctype, status, error_type, needle):
    reply = _parse(doc, status=status, ctype=ctype)
    assert (reply.status, reply.error_type, reply.http_status) == ("error", error_type, status)
    assert needle in (reply.error or "")
    assert RPC in (reply.error or "")


def test_parse_accepts_json_suffix_media_type():
    reply = _parse(
        {"result": {"message": {"parts": [{"text": "ok"}]}}}, ctype="application/a2a+json"
    )
    assert (reply.status, reply.text) == ("success", "ok")


_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "result",
                    "error",
                    "message",
                    "task",
                    "kind",
                    "parts",
                    "status",
                    "state",
                    "text",
                    "artifacts",
                    "metadata",
                    "code",
                    "id",
                    "role",
                ]
            ),
            c,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(doc=_any_json, dialect=st.sampled_from(["1.0", "0.3"]))
def test_parse_never_raises_on_any_json(doc, dialect):
    reply = _parse({"jsonrpc": "2.0", "id": 1, "result": doc}, dialect=dialect)
    assert isinstance(reply, AgentReply)
    assert reply.status in ("success", "error", "canceled", "input_required")
    assert (reply.error is None) == (reply.status in ("success", "input_required"))
    assert isinstance(reply.text, str)


@given(body=st.binary(max_size=200), status=st.integers(100, 599))
def test_parse_never_raises_on_any_bytes(body, status):
    reply = _parse(body, status=status)
    assert reply.status != "success" or 200 <= status < 300


# --------------------------------------------------------- MockTransport edge cases


def _mock(rpc_reply, *, card=CARD_10, seen=None):
    """A transport serving ``card`` at BASE and answering POSTs with ``rpc_reply(request)``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.method == "GET":
            if request.url.path == "/a/.well-known/agent-card.json" and card is not None:
                return httpx.Response(200, json=card)
            return httpx.Response(404)
        return rpc_reply(request)

    return httpx.MockTransport(handler)


def _send(transport, text="hi", **kwargs) -> AgentReply:
    client = A2AClient(transport=transport, headers={"Authorization": f"Bearer {SECRET}"})
    return asyncio.run(client.send(BASE, text, **kwargs))


def test_mock_sends_1_0_with_version_header_and_credentials():
    seen: list[httpx.Request] = []
    ok = {"jsonrpc": "2.0", "id": 1, "result": {"message": {"parts": [{"text": "yo"}]}}}
    reply = _send(_mock(lambda r: httpx.Response(200, json=ok), seen=seen))
    assert (reply.status, reply.text, reply.rpc_url) == ("success", "yo", RPC)
    post = seen[-1]
    assert post.headers["A2A-Version"] == "1.0"
    assert post.headers["Authorization"] == f"Bearer {SECRET}"
    assert json.loads(post.content)["params"]["message"]["parts"] == [{"text": "hi"}]
    assert [r.method for r in seen] == ["GET", "POST"]


def test_mock_0_3_card_gives_message_send_without_version_header():
    seen: list[httpx.Request] = []
    ok = {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"kind": "message", "parts": [{"kind": "text", "text": "yo"}]},
    }
    reply = _send(_mock(lambda r: httpx.Response(200, json=ok), card=CARD_03, seen=seen))
    assert (reply.status, reply.text, reply.protocol) == ("success", "yo", "a2a-0.3")
    assert json.loads(seen[-1].content)["method"] == "message/send"
    assert "A2A-Version" not in seen[-1].headers


def test_card_is_cached_per_client():
    seen: list[httpx.Request] = []
    ok = {"result": {"message": {"parts": [{"text": "yo"}]}}}
    client = A2AClient(transport=_mock(lambda r: httpx.Response(200, json=ok), seen=seen))

    async def twice():
        return [await client.send(BASE, "1"), await client.send(BASE, "2")]

    replies = asyncio.run(twice())
    assert [r.text for r in replies] == ["yo", "yo"]
    assert [r.method for r in seen] == ["GET", "POST", "POST"]


def test_a_url_without_card_is_the_json_rpc_url_itself_and_1_0_is_tried_first():
    seen: list[httpx.Request] = []
    ok = {"result": {"message": {"parts": [{"text": "direct"}]}}}
    transport = _mock(lambda r: httpx.Response(200, json=ok), card=None, seen=seen)
    client = A2AClient(transport=transport)

    async def twice():
        return [await client.send(BASE, "1"), await client.send(BASE, "2")]

    replies = asyncio.run(twice())
    assert [(r.status, r.text, r.rpc_url, r.protocol) for r in replies] == [
        ("success", "direct", BASE, "a2a-1.0")
    ] * 2
    assert json.loads(seen[-1].content)["method"] == "SendMessage"
    # Both card paths tried once, then remembered as absent.
    assert [r.method for r in seen] == ["GET", "GET", "POST", "POST"]


def _gateway_0_3(seen):
    """A card-less 0.3 gateway: 1.0 methods are unknown to it."""

    def rpc(request):
        method = json.loads(request.content)["method"]
        seen.append(method)
        if method != "message/send":
            return httpx.Response(
                200,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32601, "message": "Method not found"},
                },
            )
        return httpx.Response(
            200,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "result": {"kind": "message", "parts": [{"kind": "text", "text": "from 0.3"}]},
            },
        )

    return _mock(rpc, card=None)


def test_a_card_less_0_3_gateway_is_detected_once_and_remembered():
    methods: list[str] = []
    client = A2AClient(transport=_gateway_0_3(methods))

    async def twice():
        return [await client.send(BASE, "1"), await client.send(BASE, "2")]

    replies = asyncio.run(twice())
    assert [(r.status, r.text, r.protocol) for r in replies] == [
        ("success", "from 0.3", "a2a-0.3")
    ] * 2
    # 1.0 first (the gateway did nothing with it), then 0.3; the second call goes straight to 0.3.
    assert methods == ["SendMessage", "message/send", "message/send"]


def test_a_dialect_set_for_a_card_less_url_is_used_as_is():
    methods: list[str] = []
    reply = asyncio.run(A2AClient(transport=_gateway_0_3(methods)).send(BASE, "hi", dialect="0.3"))
    assert (reply.status, reply.text, reply.protocol) == ("success", "from 0.3", "a2a-0.3")
    assert methods == ["message/send"]


def test_no_card_and_no_json_rpc_either_is_no_agent_card():
    reply = _send(_mock(lambda r: httpx.Response(404), card=None))
    assert (reply.status, reply.error_type, reply.http_status) == ("error", "no_agent_card", 404)
    assert "agent-card.json" in reply.error and "agent.json" in reply.error
    assert "does not answer A2A JSON-RPC (HTTP 404)" in reply.error


HTML = httpx.Response(200, text="<html>app shell</html>", headers={"content-type": "text/html"})
FIRST_PATH_ANSWERS = {
    "HTML catch-all": HTML,
    "JSON not a card": httpx.Response(200, json={"detail": "unknown route"}),
    "JSON list": httpx.Response(200, json=[1, 2]),
    "broken JSON": httpx.Response(200, text="{", headers={"content-type": "application/json"}),
    "HTTP 500": httpx.Response(500, text="boom"),
    "HTTP 503": httpx.Response(503, text="busy"),
    "HTTP 400": httpx.Response(400, text="bad"),
}


def _two_paths(first: httpx.Response, second: httpx.Response, seen: list[str]):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            seen.append(request.url.path)
            return first if request.url.path.endswith("agent-card.json") else second
        if request.url.path != "/a/rpc":
            return httpx.Response(404)
        ok = {"result": {"kind": "message", "parts": [{"kind": "text", "text": "from card"}]}}
        return httpx.Response(200, json=ok)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("first", FIRST_PATH_ANSWERS.values(), ids=FIRST_PATH_ANSWERS.keys())
def test_the_old_card_path_is_tried_when_the_first_gives_no_usable_card(first):
    seen: list[str] = []
    card = {"name": "Old", "url": RPC, "protocolVersion": "0.2.5"}
    reply = _send(_two_paths(first, httpx.Response(200, json=card), seen))
    assert (reply.status, reply.text, reply.rpc_url) == ("success", "from card", RPC), reply.error
    assert seen == ["/a/.well-known/agent-card.json", "/a/.well-known/agent.json"]


def test_when_neither_path_gives_a_card_the_error_says_what_each_gave():
    reply = _send(_two_paths(httpx.Response(500), HTML, []))
    assert (reply.status, reply.error_type, reply.http_status) == ("error", "http_status", 500)
    assert f"{BASE}/.well-known/agent-card.json (HTTP 500" in reply.error
    assert f"{BASE}/.well-known/agent.json (text/html, not JSON)" in reply.error

    reply = _send(_two_paths(httpx.Response(200, json={"x": 1}), httpx.Response(404), []))
    assert reply.error_type == "no_agent_card", reply.error  # no card here: the URL was tried
    assert "agent-card.json (JSON that is not an agent card)" in reply.error
    assert "agent.json (HTTP 404" in reply.error


def test_a_card_behind_a_key_on_the_first_path_is_still_an_auth_error():
    reply = _send(_two_paths(httpx.Response(401), httpx.Response(404), []))
    assert (reply.error_type, reply.http_status) == ("auth", 401)
    assert "agent card" in reply.error


def test_invalid_dialect_is_refused():
    with pytest.raises(ValidationError):
        _send(_mock(lambda r: httpx.Response(200)), dialect="2.0")


@pytest.mark.parametrize(
    ("response", "error_type", "needle"),
    [
        (
            httpx.Response(200, content=b"not json", headers={"content-type": "application/json"}),
            "invalid_response",
            "not valid JSON",
        ),
        (
            httpx.Response(200, content=b"<p>hi</p>", headers={"content-type": "text/html"}),
            "invalid_response",
            "text/html",
        ),
        (
            httpx.Response(200, json={"jsonrpc": "2.0", "id": 1}),
            "invalid_response",
            "neither a result nor an error",
        ),
        (httpx.Response(500, text="stack trace"), "http_status", "HTTP 500"),
        (httpx.Response(401), "auth", "HTTP 401"),
        (
            httpx.Response(
                200,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32601, "message": "Method not found"},
                },
            ),
            "jsonrpc",
            "-32601",
        ),
    ],
)
def test_mock_bad_replies_become_failed_replies(response, error_type, needle):
    reply = _send(_mock(lambda r: response))
    assert (reply.status, reply.error_type) == ("error", error_type)
    assert needle in reply.error and RPC in reply.error
    assert SECRET not in reply.error and "\n" not in reply.error
    assert reply.http_status == response.status_code and reply.latency_ms > 0


def test_mock_huge_body_is_cut_at_10_mb():
    sent = []

    async def stream():
        chunk = b" " * (1024 * 1024)
        for _ in range(50):  # 50 MB if read to the end
            sent.append(len(chunk))
            yield chunk

    reply = _send(
        _mock(
            lambda r: httpx.Response(
                200, content=stream(), headers={"content-type": "application/json"}
            )
        )
    )
    assert (reply.status, reply.error_type) == ("error", "invalid_response")
    assert reply.error.startswith("reply larger than 10 MB")
    assert len(sent) <= 12  # stopped reading soon after the cap


def test_mock_declared_huge_body_is_refused_before_reading():
    reply = _send(
        _mock(
            lambda r: httpx.Response(
                200,
                content=b"{}",
                headers={
                    "content-type": "application/json",
                    "content-length": str(11 * 1024 * 1024),
                },
            )
        )
    )
    assert reply.error_type == "invalid_response" and "10 MB" in reply.error


def test_mock_card_auth_error_and_connect_error():
    def card_401(request):
        return httpx.Response(401)

    reply = _send(httpx.MockTransport(card_401))
    assert (reply.status, reply.error_type, reply.http_status) == ("error", "auth", 401)
    assert "agent card" in reply.error and SECRET not in reply.error

    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    reply = _send(httpx.MockTransport(refuse))
    assert (reply.status, reply.error_type) == ("error", "connect")
    assert (
        reply.error
        == f"could not connect to {BASE}/.well-known/agent-card.json: Connection refused"
    )


def test_error_urls_hide_userinfo_and_query():
    def refuse(request):
        raise httpx.ConnectError("nope", request=request)

    client = A2AClient(transport=httpx.MockTransport(refuse))
    reply = asyncio.run(client.send("http://user:pw@agent.test/a?key=abc", "hi", dialect="1.0"))
    assert reply.error_type == "connect"
    assert "pw" not in reply.error and "abc" not in reply.error and "agent.test" in reply.error


# ------------------------------------------------------------ the real demo server


def _real(url: str, text: str, **kwargs) -> AgentReply:
    return asyncio.run(A2AClient(timeout=10).send(url, text, **kwargs))


def test_both_dialects_give_the_same_reply(demo_server):
    text = "hello world from both dialects"
    r10 = _real(demo_server.agent_url("echo", "1.0"), text)
    r03 = _real(demo_server.agent_url("echo", "0.3"), text)
    assert r10.text == r03.text == f"echo: {text}"
    assert (r10.protocol, r03.protocol) == ("a2a-1.0", "a2a-0.3")
    assert r10.rpc_url == demo_server.agent_url("echo") + "/"
    assert r03.rpc_url == demo_server.agent_url("echo", "0.3") + "/"  # a 0.3-only server
    assert r10.usage is None and r03.usage is None  # echo reports nothing
    assert r10.model == r03.model == "demo-echo-1"


def test_legacy_card_fallback(demo_server):
    reply = _real(demo_server.agent_url("echo", "legacy"), "old card")
    assert (reply.status, reply.text, reply.protocol) == ("success", "echo: old card", "a2a-0.3")


def test_task_reply_with_artifact_and_adk_usage(demo_server):
    text = "one two three four five six seven eight nine ten"
    for dialect in ("1.0", "0.3"):
        reply = _real(demo_server.agent_url("summarizer", dialect), text)
        assert reply.status == "success"
        assert reply.text == "summary: one two three four five six seven eight"
        assert reply.usage == ReportedUsage(input_tokens=10, output_tokens=9)
        assert (reply.model, reply.task_state) == ("demo-sum-2", "completed")
        assert reply.task_id and reply.context_id


def test_message_reply_with_usage_object(demo_server):
    reply = _real(demo_server.agent_url("translator"), "hello world")
    assert (reply.status, reply.text, reply.model) == ("success", "fr: bonjour monde", "demo-tr-1")
    assert reply.usage == ReportedUsage(input_tokens=2, output_tokens=3)
    assert reply.task_id is None and reply.task_state is None


def test_context_id_is_sent_and_kept(demo_server):
    reply = _real(demo_server.agent_url("echo"), "with context", context_id="ctx-42")
    assert reply.context_id == "ctx-42"


def test_fail_error_and_input_against_real_server(demo_server):
    url = demo_server.agent_url("echo")
    failed = _real(url, "please #fail")
    assert (failed.status, failed.error_type, failed.task_state) == (
        "error",
        "task_failed",
        "failed",
    )
    assert "demo failure" in failed.error
    for dialect in ("1.0", "0.3"):
        err = _real(demo_server.agent_url("echo", dialect), "please #error")
        assert (err.status, err.error_type) == ("error", "jsonrpc")
        assert err.extra["jsonrpc_code"] == -32603 and "-32603" in err.error
    asked = _real(url, "please #input")
    assert (asked.status, asked.text) == ("input_required", "which language should I use?")


def test_unreachable_port_is_connect_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reply = _real(f"http://127.0.0.1:{port}/echo", "anyone?")
    assert (reply.status, reply.error_type) == ("error", "connect")
    assert f"127.0.0.1:{port}" in reply.error


def test_deadline_covers_the_whole_call(demo_server):
    started = time.perf_counter()
    reply = _real(demo_server.agent_url("echo"), "take your time #slow", timeout=0.5)
    elapsed = time.perf_counter() - started
    assert (reply.status, reply.error_type) == ("timeout", "timeout")
    assert "0.5 s" in reply.error
    assert 0.45 <= elapsed < 1.4
    assert 450 <= reply.latency_ms < 1400


def test_mock_broken_connection_mid_reply_is_invalid_response():
    def handler(request):
        if request.method == "GET":
            return httpx.Response(200, json=CARD_10)
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    reply = _send(httpx.MockTransport(handler))
    assert (reply.status, reply.error_type, reply.rpc_url) == ("error", "invalid_response", RPC)
    assert reply.error == f"broken reply from {RPC}: RemoteProtocolError: peer closed connection"


def test_answering_an_input_required_task_completes_it(demo_server):
    url = demo_server.agent_url("translator")

    async def conversation():
        client = A2AClient(timeout=10)
        asked = await client.send(url, "translate this #input")
        answered = await client.send(
            url, "hello world", context_id=asked.context_id, task_id=asked.task_id
        )
        return asked, answered

    asked, answered = asyncio.run(conversation())
    assert (asked.status, asked.task_state) == ("input_required", "input-required")
    assert (answered.status, answered.text) == ("success", "fr: bonjour monde")
    assert (answered.task_id, answered.task_state) == (asked.task_id, "completed")
    assert answered.usage == ReportedUsage(input_tokens=2, output_tokens=3)


# ------------------------------------------------- malformed results are failures

MALFORMED_PARTS = {
    "parts a string": ("hello", "not a list"),
    "parts an object": ({"text": "hello"}, "not a list"),
    "part a string": (["hello"], "part 1"),
    "text a number": ([{"text": 42}], "part 1"),
    "text a list": ([{"kind": "text", "text": ["a"]}], "part 1"),
    "text part without text": ([{"kind": "text"}], "part 1"),
    "second part bad": ([{"text": "ok"}, {"text": {"x": 1}}], "part 2"),
}


@pytest.mark.parametrize(("parts", "needle"), MALFORMED_PARTS.values(), ids=MALFORMED_PARTS.keys())
@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_a_message_with_unreadable_parts_is_an_invalid_response(dialect, parts, needle):
    if dialect == "1.0":
        doc = {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {"message": {"role": "ROLE_AGENT", "parts": parts}},
        }
    else:
        doc = {"jsonrpc": "2.0", "id": 1,
               "result": {"kind": "message", "role": "agent", "parts": parts}}  # fmt: skip
    reply = _parse(doc, dialect=dialect)
    assert (reply.status, reply.error_type) == ("error", "invalid_response")
    assert needle in reply.error and RPC in reply.error


@pytest.mark.parametrize(("parts", "needle"), MALFORMED_PARTS.values(), ids=MALFORMED_PARTS.keys())
def test_a_completed_task_with_unreadable_artifact_parts_is_an_invalid_response(parts, needle):
    task = {"id": "t", "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"artifactId": "a", "parts": parts}]}  # fmt: skip
    reply = _parse({"jsonrpc": "2.0", "id": 1, "result": {"task": task}})
    assert (reply.status, reply.error_type, reply.task_id) == ("error", "invalid_response", "t")
    assert needle in reply.error


def test_parts_that_are_not_text_are_fine_and_a_message_without_parts_is_empty():
    parts = [{"data": {"x": 1}}, {"url": "http://f", "mediaType": "image/png"}, {"text": "hi"}]
    ok = _parse({"result": {"message": {"parts": parts}}})
    assert (ok.status, ok.text) == ("success", "hi")
    empty = _parse({"result": {"message": {"messageId": "m"}}})  # protobuf JSON drops []
    assert (empty.status, empty.text) == ("success", "")


@pytest.mark.parametrize("bad", [{"parts": "chunk"}, {"parts": [{"text": 7}]}])
def test_a_stream_with_an_unreadable_artifact_is_an_invalid_response(bad):
    events = [
        {"task": {"id": "t1", "status": {"state": "TASK_STATE_WORKING"}}},
        {"artifactUpdate": {"taskId": "t1", "artifact": {"artifactId": "a", **bad}}},
        {"statusUpdate": {"taskId": "t1", "status": {"state": "TASK_STATE_COMPLETED"}}},
    ]
    body = "".join(f"data: {json.dumps({'result': e})}\n\n" for e in events).encode()
    card = {**CARD_10, "capabilities": {"streaming": True}}

    def handler(request):
        if request.method == "GET":
            return httpx.Response(200, json=card)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    reply = _send(httpx.MockTransport(handler))
    assert (reply.status, reply.error_type) == ("error", "invalid_response"), reply
    assert "part" in reply.error and reply.streamed_chunks == 3
