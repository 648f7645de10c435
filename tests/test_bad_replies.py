"""Bad agent replies: whatever comes back, a call ends as exactly one event, never an exception.

Property-based (hypothesis): arbitrary JSON, JSON-RPC-shaped junk, truncated
JSON, non-JSON bytes, wrong content types and statuses, SSE garbage; plus
bodies over the 10 MB cap and streams that break off mid-way
(``httpx.MockTransport`` with a body that raises). Through the pure parsers,
through ``Tracker.call`` (A2A and chat completions) and through the chat widget.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcost_nb.client.a2a import A2AClient, parse_response
from agentcost_nb.client.chat_completions import (
    ChatCompletionsClient,
    ChunkFold,
    parse_completion,
)
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker

BASE = "http://agent.test/a"
RPC = "http://agent.test/a/rpc"
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ strategies

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
any_json = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)
states = st.sampled_from(
    ["completed", "failed", "rejected", "canceled", "working", "input-required", "submitted",
     "TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "auth-required", "unknown", ""]
) | st.text(max_size=12)  # fmt: skip
tokens = (
    st.integers(min_value=-(2**66), max_value=2**66) | st.text(max_size=5) | st.none() | st.floats()
)
usage = st.fixed_dictionaries(
    {},
    optional={
        "input_tokens": tokens, "output_tokens": tokens, "prompt_tokens": tokens,
        "completion_tokens": tokens, "total_tokens": tokens, "prompt_token_count": tokens,
        "candidates_token_count": tokens, "cached_content_token_count": tokens,
    },
)  # fmt: skip
metadata = st.fixed_dictionaries(
    {}, optional={"usage": usage | any_json, "adk_usage_metadata": usage | any_json,
                  "model": any_json, "adk_model": any_json}
)  # fmt: skip
part = st.fixed_dictionaries(
    {}, optional={"kind": st.sampled_from(["text", "file", "data"]) | any_json,
                  "text": st.text(max_size=40) | any_json, "metadata": metadata}
)  # fmt: skip
message = st.fixed_dictionaries(
    {},
    optional={"role": st.sampled_from(["agent", "ROLE_AGENT", "user"]) | any_json,
              "parts": st.lists(part, max_size=3) | any_json, "messageId": any_json,
              "contextId": any_json, "taskId": any_json, "kind": st.just("message"),
              "metadata": metadata},
)  # fmt: skip
task = st.fixed_dictionaries(
    {},
    optional={"id": any_json, "contextId": any_json, "kind": st.just("task"),
              "status": st.fixed_dictionaries({}, optional={"state": states | any_json,
                                                            "message": message | any_json})
              | any_json,
              "artifacts": st.lists(st.fixed_dictionaries({}, optional={
                  "parts": st.lists(part, max_size=2), "metadata": metadata}), max_size=2)
              | any_json,
              "metadata": metadata},
)  # fmt: skip
result = (
    st.builds(lambda m: {"message": m}, message)
    | st.builds(lambda t: {"task": t}, task)
    | message
    | task
    | any_json
)
rpc_doc = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0") | any_json, "id": any_json},
    optional={"result": result, "error": any_json
              | st.fixed_dictionaries({"code": any_json, "message": any_json})},
)  # fmt: skip
chat_doc = st.fixed_dictionaries(
    {},
    optional={
        "choices": st.lists(st.fixed_dictionaries({}, optional={
            "message": st.fixed_dictionaries({}, optional={"content": any_json, "role": any_json}),
            "delta": st.fixed_dictionaries({}, optional={"content": any_json}),
            "finish_reason": any_json}), max_size=2) | any_json,
        "usage": usage | any_json, "model": any_json, "error": any_json,
    },
)  # fmt: skip


@st.composite
def bodies(draw: Any, doc: st.SearchStrategy[Any]) -> bytes:
    """A document as JSON, cut short, or not JSON at all."""
    kind = draw(st.sampled_from(["json", "json", "json", "truncated", "any", "bytes", "text"]))
    if kind == "json":
        return json.dumps(draw(doc)).encode()
    if kind == "truncated":
        text = json.dumps(draw(doc)).encode()
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "any":
        return json.dumps(draw(any_json)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json-rpc+json",
            "text/html",
            "text/plain",
            "text/event-stream",
            "application/octet-stream",
            "",
        ]
    )  # fmt: skip
    | st.none()
    | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
)
statuses = st.sampled_from(
    [200, 200, 200, 201, 204, 400, 401, 403, 404, 429, 500, 502, 503]
) | st.integers(200, 599)


@st.composite
def sse_bodies(draw: Any, doc: st.SearchStrategy[Any]) -> bytes:
    """Server-Sent Events, well formed or not."""
    line = st.one_of(
        st.just(""),
        st.just(": keep-alive"),
        st.builds(lambda d: "data: " + json.dumps(d), doc),
        st.builds(lambda d: "data: " + json.dumps(d)[: len(json.dumps(d)) // 2], doc),
        st.builds(lambda s: "data: " + s, st.text(max_size=40)),
        st.builds(lambda s: "event: " + s, st.text(max_size=10)),
        st.text(max_size=40),
    )
    lines = draw(st.lists(line, max_size=12))
    sep = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return sep.join(lines).encode("utf-8", "surrogatepass")


# ----------------------------------------------------------------- pure parsers


def _one_failed_or_ok(reply: Any) -> None:
    if reply.status == "success":
        assert reply.error is None
    else:
        assert reply.error and reply.error_type, reply
        assert "\n" not in reply.error


@SETTINGS
@given(status=statuses, content_type=content_types, body=bodies(rpc_doc),
       dialect=st.sampled_from(["1.0", "0.3"]))  # fmt: skip
def test_parse_response_never_raises(status, content_type, body, dialect):
    reply = parse_response(
        status_code=status, content_type=content_type, body=body, dialect=dialect, rpc_url=RPC
    )
    _one_failed_or_ok(reply)


@SETTINGS
@given(status=statuses, content_type=content_types, body=bodies(chat_doc))
def test_parse_completion_never_raises(status, content_type, body):
    reply = parse_completion(status_code=status, content_type=content_type, body=body, url=RPC)
    _one_failed_or_ok(reply)


@SETTINGS
@given(chunks=st.lists(chat_doc, max_size=5))
def test_chunk_fold_never_raises(chunks):
    fold = ChunkFold()
    for chunk in chunks:
        fold.feed(chunk)
    _one_failed_or_ok(fold.reply(where=RPC, protocol="openai-chat", rpc_url=RPC))


# ------------------------------------------------------------ through Tracker.call


def _card(streaming: bool) -> dict[str, Any]:
    return {
        "name": "bad", "description": "replies badly", "version": "1",
        "supportedInterfaces": [{"url": RPC, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "capabilities": {"streaming": streaming},
        "defaultInputModes": ["text"], "defaultOutputModes": ["text"], "skills": [],
    }  # fmt: skip


class Breaks(httpx.AsyncByteStream):
    """A body that sends ``head`` and then fails, as a dropped connection does."""

    def __init__(self, head: bytes, exc: Exception, *, repeat: int = 1) -> None:
        self.head, self.exc, self.repeat = head, exc, repeat

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.repeat):
            yield self.head
        if self.exc is not None:
            raise self.exc


Reply = Callable[[httpx.Request], httpx.Response]


class Harness:
    """A tracker whose agents answer through a MockTransport with whatever ``reply`` gives."""

    def __init__(self, *, streaming: bool = False) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="acnb-bad-"))
        self.reply: Reply = lambda _r: httpx.Response(500)
        card = _card(streaming)

        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and "/.well-known/" in request.url.path:
                return httpx.Response(200, json=card)
            return self.reply(request)

        transport = httpx.MockTransport(handle)
        self.tracker = Tracker(
            self.home,
            client=A2AClient(transport=transport, timeout=10),
            chat_client=ChatCompletionsClient(transport=transport, timeout=10),
        )
        self.tracker.registry.add(AgentConfig(name="a2a", display_name="A2A", url=BASE))
        self.tracker.registry.add(
            AgentConfig(
                name="chat",
                display_name="Chat",
                url="http://agent.test/v1",
                endpoint_type="openai-chat",
                model="m",
            )  # fmt: skip
        )
        self.events = 0

    def call(self, agent: str = "a2a", **kw: Any) -> Any:
        """One call: exactly one more event (one more file), failed ones with a reason."""
        result = asyncio.run(self.tracker.call(agent, "hello", timeout=10, **kw))
        self.events += 1
        assert result.log_error is None, result.log_error
        assert len(list(self.tracker.log.path.rglob("part-*.parquet"))) == self.events
        event = result.event
        if event.status == "success":
            assert event.error is None
        else:
            assert event.error and event.error_type, event
        return result

    def check(self) -> None:
        """Every event reads back, failed ones with their reason."""
        table = self.tracker.log.read(["status", "error", "error_type"])
        assert table.num_rows == self.events
        for row in table.to_pylist():
            assert (row["status"] == "success") == (row["error"] is None), row


def _response(status: int, content_type: str | None, body: bytes) -> Reply:
    headers = {"content-type": content_type} if content_type is not None else {}
    return lambda _r: httpx.Response(status, headers=headers, content=body)


def test_any_a2a_reply_is_one_event():
    harness = Harness()

    @SETTINGS
    @given(status=statuses, content_type=content_types, body=bodies(rpc_doc))
    def run(status, content_type, body):
        harness.reply = _response(status, content_type, body)
        harness.call()

    run()
    harness.check()


def test_any_sse_stream_is_one_event():
    harness = Harness(streaming=True)

    @SETTINGS
    @given(
        body=sse_bodies(rpc_doc),
        content_type=st.sampled_from(["text/event-stream", "application/json"]),
    )
    def run(body, content_type):
        harness.reply = _response(200, content_type, body)
        harness.call()

    run()
    harness.check()


def test_any_chat_completion_reply_or_stream_is_one_event():
    harness = Harness()

    @SETTINGS
    @given(status=statuses, content_type=content_types, body=bodies(chat_doc) | sse_bodies(chat_doc),
           stream=st.booleans())  # fmt: skip
    def run(status, content_type, body, stream):
        harness.reply = _response(status, content_type, body)
        harness.call("chat", stream=stream)

    run()
    harness.check()


A2A_PLAIN = Harness()
A2A_STREAM = Harness(streaming=True)


# ------------------------------------------------------ disconnects and huge bodies

GOOD_RESULT = {"jsonrpc": "2.0", "id": 1, "result": {"message": {
    "role": "ROLE_AGENT", "parts": [{"text": "fine " * 50}], "messageId": "m"}}}  # fmt: skip
GOOD_JSON = json.dumps(GOOD_RESULT).encode()
GOOD_SSE = b"".join(
    b"data: " + json.dumps({**GOOD_RESULT, "result": {"statusUpdate": {"taskId": "t", "contextId": "c",
    "status": {"state": "TASK_STATE_WORKING", "message": {"role": "ROLE_AGENT", "parts": [{"text": f"part {i} "}],
    "messageId": f"m{i}"}}}}}).encode() + b"\n\n"
    for i in range(5)
)  # fmt: skip
BREAKS = [
    httpx.ReadError("connection reset by peer"),
    httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    ConnectionResetError(104, "Connection reset by peer"),
    RuntimeError("transport blew up"),
]


@pytest.mark.parametrize("exc", BREAKS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    "harness, content_type, body",
    [(A2A_PLAIN, "application/json", GOOD_JSON), (A2A_STREAM, "text/event-stream", GOOD_SSE)],
    ids=["json", "sse"],
)
@pytest.mark.parametrize("cut", [0, 0.5])
def test_a_stream_that_breaks_off_midway_is_one_failed_event(harness, content_type, body, exc, cut):
    head = body[: int(len(body) * cut)]
    harness.reply = lambda _r: httpx.Response(
        200, headers={"content-type": content_type}, stream=Breaks(head, exc)
    )
    result = harness.call()
    assert result.event.status != "success"
    assert result.event.error_type in ("connect", "invalid_response"), result.event


def test_a_chat_stream_that_breaks_off_is_one_failed_event():
    chunk = b'data: {"choices": [{"delta": {"content": "hel"}}]}\n\n'
    A2A_PLAIN.reply = lambda _r: httpx.Response(
        200, headers={"content-type": "text/event-stream"},
        stream=Breaks(chunk, httpx.ReadError("reset")),
    )  # fmt: skip
    result = A2A_PLAIN.call("chat", stream=True)
    assert result.event.status != "success" and result.event.error


MB = 1024 * 1024


@pytest.mark.parametrize(
    "how",
    ["declared", "chunked", "sse-one-event", "sse-no-newline", "chat-json"],
)
def test_a_reply_over_10_mb_is_refused_with_a_clear_error(how):
    big = b"x" * (MB + 1)
    harness, agent, kw = A2A_PLAIN, "a2a", {}
    if how == "declared":
        body = b'{"jsonrpc": "2.0", "id": 1, "result": "' + b"x" * (10 * MB) + b'"}'
        reply = _response(200, "application/json", body)
    elif how == "chunked":
        reply = lambda _r: httpx.Response(  # noqa: E731
            200, headers={"content-type": "application/json"}, stream=Breaks(big, None, repeat=11)
        )
    elif how == "sse-one-event":
        harness = A2A_STREAM
        reply = lambda _r: httpx.Response(  # noqa: E731
            200, headers={"content-type": "text/event-stream"},
            stream=Breaks(b"data: " + big.replace(b"x", b"y"), None, repeat=11),
        )  # fmt: skip
    elif how == "sse-no-newline":
        harness = A2A_STREAM
        reply = _response(200, "text/event-stream", b"data: " + b"x" * (11 * MB))
    else:
        agent, kw = "chat", {"stream": False}
        reply = _response(200, "application/json", b'{"choices": "' + b"x" * (11 * MB) + b'"}')
    harness.reply = reply
    result = harness.call(agent, **kw)
    assert result.event.status == "error"
    assert "10 MB" in (result.event.error or ""), result.event.error
    harness.check()


def test_a_stream_of_small_events_over_10_mb_in_total_is_refused():
    delta = b"data: " + json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"artifactUpdate": {
        "taskId": "t", "contextId": "c", "append": True, "artifact": {"artifactId": "a",
        "parts": [{"text": "z" * 60_000}]}}}}).encode() + b"\n\n"  # fmt: skip
    final = b"data: " + json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"statusUpdate": {
        "taskId": "t", "contextId": "c", "final": True,
        "status": {"state": "TASK_STATE_COMPLETED"}}}}).encode() + b"\n\n"  # fmt: skip

    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range((11 * MB) // len(delta) + 1):
                yield delta
            yield final

    harness = Harness(streaming=True)
    harness.reply = lambda _r: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Stream()
    )
    result = harness.call()
    assert result.event.status == "error" and "10 MB" in (result.event.error or "")


# --------------------------------------------------------------------- the widget


@pytest.mark.parametrize(
    "reply",
    [
        _response(200, "application/json", b'{"jsonrpc": "2.0", "id": 1, "result": {"task": {"status": 7}}}'),
        _response(200, "text/html", b"<html><script>alert(1)</script></html>"),
        _response(200, "application/json", b'{"jsonrpc": "2.0", "id": 1, "resu'),
        _response(502, "text/plain", b"bad gateway"),
        _response(200, "application/json", b'{"jsonrpc": "2.0", "id": 1, "error": {"code": "<b>x</b>", "message": "<img src=x onerror=alert(1)>"}}'),
        lambda _r: httpx.Response(200, headers={"content-type": "application/json"},
                                  stream=Breaks(GOOD_JSON[:40], httpx.ReadError("reset"))),
    ],
    ids=["task-status-not-object", "html", "truncated", "502", "rpc-error-html", "disconnect"],
)  # fmt: skip
def test_the_chat_widget_shows_a_bad_reply_as_a_recorded_failure(reply):
    from agentcost_nb.widgets import ChatWidget

    harness = Harness()
    harness.reply = reply
    chat = ChatWidget(harness.tracker)
    chat.select("a2a")
    result = asyncio.run(chat.send("hello"))
    assert result is not None and result.event.status != "success"
    harness.events = 1
    harness.check()
    assert "acnb-error" in chat.status.value
    shown = "".join(w.value for w in chat.transcript.children)
    assert "<script" not in shown and "<img" not in shown
    assert chat.send_button.disabled is False
