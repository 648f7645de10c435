"""OpenAI-compatible chat completions as an agent endpoint: reported usage, priced once."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import httpx
import pandas as pd
import pytest

from agentcost_nb.client.chat_completions import (
    ChatCompletionsClient,
    ChunkFold,
    chat_request,
    completions_url,
    parse_completion,
)
from agentcost_nb.client.types import AgentReply, ReportedUsage
from agentcost_nb.demo_agent import CHAT_MODEL
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import ChatWidget

URL = "http://llm.test/v1/chat/completions"
USAGE = {
    "prompt_tokens": 50,
    "completion_tokens": 20,
    "prompt_tokens_details": {"cached_tokens": 10},
    "completion_tokens_details": {"reasoning_tokens": 5},
}
PRICE = PriceSheet(
    cost_per_query=D("0.001"),
    input_cost_per_token=D("0.000002"),
    cached_input_cost_per_token=D("0.0000005"),
    output_cost_per_token=D("0.000008"),
    reasoning_cost_per_token=D("0.00001"),
)


def _parse(doc, status=200, ctype="application/json"):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse_completion(status_code=status, content_type=ctype, body=body, url=URL)


def test_completions_url_and_request_body():
    assert completions_url("http://h/openai") == "http://h/openai/v1/chat/completions"
    assert completions_url("http://h/openai/v1/") == "http://h/openai/v1/chat/completions"
    assert completions_url(URL) == URL
    history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    body = chat_request("c", history=history, model="m-1", stream=True)
    assert body == {
        "messages": [*history, {"role": "user", "content": "c"}],
        "model": "m-1",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert chat_request("c") == {"messages": [{"role": "user", "content": "c"}]}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "http://h/v1/chat/completions?api-version=2024-06-01",
            "http://h/v1/chat/completions?api-version=2024-06-01",
        ),
        ("http://h/v1?api-version=1", "http://h/v1/chat/completions?api-version=1"),
        ("http://h/v1/?a=1&b=2", "http://h/v1/chat/completions?a=1&b=2"),
        ("http://h/openai?x=%2F", "http://h/openai/v1/chat/completions?x=%2F"),
        ("http://h?x=1", "http://h/v1/chat/completions?x=1"),
        ("http://h/deploy/chat/completions/?v=2#frag", "http://h/deploy/chat/completions?v=2"),
    ],
)
def test_completions_url_joins_the_path_before_the_query(given, expected):
    assert completions_url(given) == expected


def test_a_query_in_the_endpoint_url_is_kept_on_the_request():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        ok = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
        return httpx.Response(200, json=ok)

    client = ChatCompletionsClient(transport=httpx.MockTransport(handler))
    reply = asyncio.run(client.send("http://gw.test/v1?api-version=2024-06-01", "x", stream=False))
    assert reply.status == "success"
    assert seen[0].url.path == "/v1/chat/completions"
    assert seen[0].url.params["api-version"] == "2024-06-01"


def test_parse_a_completion_with_cached_and_reasoning_usage():
    reply = _parse(
        {
            "model": "gpt-x",
            "choices": [
                {"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
            "usage": USAGE,
        }
    )
    assert (reply.status, reply.text, reply.model, reply.protocol) == (
        "success",
        "hi",
        "gpt-x",
        "openai-chat",
    )
    assert reply.usage == ReportedUsage(
        input_tokens=50, output_tokens=20, cached_input_tokens=10, reasoning_tokens=5
    )


@pytest.mark.parametrize(
    ("doc", "status", "ctype", "error_type", "needle"),
    [
        ({"error": {"message": "model overloaded"}}, 500, "application/json", "http_status",
         "HTTP 500 Internal Server Error from http://llm.test/v1/chat/completions: model overloaded"),
        ({"error": {"message": "bad key"}}, 401, "application/json", "auth", "HTTP 401"),
        ({"choices": []}, 200, "application/json", "invalid_response", "no choices[0].message"),
        ({"object": "list"}, 200, "application/json", "invalid_response", "no choices[0].message"),
        ({"error": {"message": "quota"}}, 200, "application/json", "invalid_response", "quota"),
        (b"<html>", 200, "text/html", "invalid_response", "text/html"),
        (b"{oops", 200, "application/json", "invalid_response", "not valid JSON"),
        ({"choices": [{"message": {"content": None}, "finish_reason": "content_filter"}]}, 200,
         "application/json", "task_rejected", "content filter"),
    ],
)  # fmt: skip
def test_parse_failures(doc, status, ctype, error_type, needle):
    reply = _parse(doc, status, ctype)
    assert (reply.status, reply.error_type) == ("error", error_type)
    assert needle in reply.error


def test_chunk_fold_takes_usage_from_the_last_chunk_and_needs_an_end():
    fold = ChunkFold()
    deltas = [
        fold.feed({"model": "m", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
        fold.feed({"choices": [{"index": 0, "delta": {"content": "Hel"}}]}),
        fold.feed({"choices": [{"index": 1, "delta": {"content": "other choice"}}]}),
        fold.feed({"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]}),
        fold.feed({"choices": [], "usage": USAGE}),
    ]
    assert deltas == ["", "Hel", "", "lo", ""]
    reply = fold.reply(where=URL, protocol="openai-chat")
    assert (reply.status, reply.text, reply.model, reply.streamed_chunks) == (
        "success",
        "Hello",
        "m",
        5,
    )
    assert reply.usage is not None and reply.usage.reasoning_tokens == 5
    cut = ChunkFold()
    cut.feed({"choices": [{"index": 0, "delta": {"content": "Hel"}}]})
    broken = cut.reply(where=URL)
    assert (broken.error_type, broken.text) == ("invalid_response", "Hel")
    assert "ended before the reply finished" in broken.error


def _register(tracker: Tracker, url: str) -> None:
    tracker.registry.add(
        AgentConfig(
            name="llm",
            display_name="LLM",
            url=url,
            endpoint_type="openai-chat",
            model="demo-chat-1",
            prices=(PRICE,),
        )  # fmt: skip
    )


def _cost(u: ReportedUsage) -> D:
    return (
        D("0.001")
        + (u.input_tokens - u.cached_input_tokens) * D("0.000002")
        + u.cached_input_tokens * D("0.0000005")
        + (u.output_tokens - u.reasoning_tokens) * D("0.000008")
        + u.reasoning_tokens * D("0.00001")
    )


@pytest.mark.parametrize("stream", [True, False])
def test_the_demo_endpoint_priced_from_its_reported_usage(demo_server, tmp_path, stream):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.chat_url)
    deltas: list[str] = []
    result = tracker.call_sync("llm", "how much is this", stream=stream, on_text=deltas.append)
    reply = result.reply
    assert (reply.status, reply.text, reply.model) == (
        "success",
        "echo: how much is this",
        CHAT_MODEL,
    )
    assert reply.rpc_url == demo_server.chat_url + "/chat/completions"
    # 4 prompt words; 5 answer words + 2 reasoning tokens.
    assert reply.usage == ReportedUsage(input_tokens=4, output_tokens=7, reasoning_tokens=2)
    assert ("".join(deltas), len(deltas) >= 3) == ((reply.text, True) if stream else ("", False))
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    assert (e["protocol"], e["token_source"], e["reasoning_tokens"]) == (
        "openai-chat",
        "reported",
        2,
    )
    assert e["cost_usd"] == _cost(reply.usage)


def test_a_conversation_sends_the_earlier_turns_and_they_come_back_as_cached(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.chat_url)
    chat = ChatWidget(tracker)
    first = asyncio.run(chat.send("hello there"))
    second = asyncio.run(chat.send("and again"))
    assert first is not None and second is not None
    assert chat.history == [
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "echo: hello there"},
        {"role": "user", "content": "and again"},
        {"role": "assistant", "content": "echo: and again"},
    ]
    # The second prompt holds the first turn (2 + 3 words), reported as cached.
    assert second.reply.usage == ReportedUsage(
        input_tokens=7, output_tokens=5, cached_input_tokens=5, reasoning_tokens=2
    )
    assert second.event.cost_usd == _cost(second.reply.usage)
    total = first.event.cost_usd + second.event.cost_usd
    assert (
        chat.total.value.startswith("Session: 2 call(s), $")
        and str(total.normalize()) in chat.total.value
    )
    chat.clear()
    assert chat.history == [] and chat.results == [] and "Session: 0 call(s)" in chat.total.value


def test_errors_and_retries_through_a_mock_gateway():
    answers = [503, 200]
    seen: list[dict] = []

    def handler(request):
        seen.append(json.loads(request.content))
        status = answers.pop(0)
        if status != 200:
            return httpx.Response(status, json={"error": {"message": "busy"}})
        body = (
            'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
            f"data: {json.dumps({'choices': [], 'usage': USAGE})}\n\n"
            "data: [DONE]\n\n"
        )
        return httpx.Response(
            200, content=body.encode(), headers={"content-type": "text/event-stream"}
        )

    client = ChatCompletionsClient(transport=httpx.MockTransport(handler))
    reply = asyncio.run(client.send("http://gw.test/llm", "hi", retries=1))
    assert (reply.status, reply.text, reply.attempts) == ("success", "ok", 2)
    assert reply.usage is not None and reply.usage.cached_input_tokens == 10
    assert seen[0]["stream_options"] == {"include_usage": True}

    failing = ChatCompletionsClient(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(500, json={"error": {"message": "down"}})
        )
    )
    down = asyncio.run(failing.send("http://gw.test/llm", "#error"))
    assert (down.status, down.error_type, down.http_status) == ("error", "http_status", 500)
    assert down.error.endswith(": down")


def _chat_stream(body: bytes) -> AgentReply:
    def handler(request):
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = ChatCompletionsClient(transport=httpx.MockTransport(handler))
    return asyncio.run(client.send("http://gw.test/v1", "hi", stream=True))


def _chunk(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"error": {"message": "rate limited", "code": 429}},
        {"code": 429, "message": "rate limited"},
        {"message": "rate limited"},
    ],
)
def test_a_chat_stream_error_event_gives_its_reason(data):
    body = _chunk("par") + b"\n\nevent: error\ndata: " + json.dumps(data).encode() + b"\n\n"
    reply = _chat_stream(body)
    assert reply.status == "error" and "rate limited" in reply.error, reply.error
    assert reply.text == "par"


def test_a_chat_stream_with_a_bom_is_read():
    body = (
        b"\xef\xbb\xbf"
        + _chunk("hello")
        + b"\n\n"
        + (
            b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
            b"data: [DONE]\n\n"
        )
    )
    reply = _chat_stream(body)
    assert (reply.status, reply.text) == ("success", "hello"), reply.error


# ------------------------------------------------- content shapes and endings


def test_content_given_as_a_list_of_parts_is_read_as_text():
    content = [{"type": "text", "text": "Hello, "}, {"type": "image_url", "image_url": {}},
               {"type": "text", "text": "world"}]  # fmt: skip
    reply = _parse({"choices": [{"message": {"content": content}, "finish_reason": "stop"}]})
    assert (reply.status, reply.text) == ("success", "Hello, world")


@pytest.mark.parametrize(
    "content", [42, {"text": "x"}, ["plain"], [{"type": "text", "text": 5}], [{"type": "text"}]]
)
def test_content_that_cannot_be_read_is_an_invalid_response(content):
    reply = _parse({"choices": [{"message": {"content": content}, "finish_reason": "stop"}]})
    assert (reply.status, reply.error_type) == ("error", "invalid_response")
    assert "content" in reply.error


def test_a_streamed_delta_given_as_parts_is_read_as_text():
    delta = {"content": [{"type": "text", "text": "in parts"}]}
    body = (
        b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}).encode() + b"\n\n"
        b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    reply = _chat_stream(body)
    assert (reply.status, reply.text) == ("success", "in parts"), reply.error


@pytest.mark.parametrize(
    "body",
    [
        b"data: [DONE]\n\n",
        b'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0}}\n\n'
        b"data: [DONE]\n\n",
        b'data: {"id": "x", "object": "chat.completion.chunk"}\n\ndata: [DONE]\n\n',
    ],
    ids=["only DONE", "usage only", "no choices"],
)
def test_a_stream_that_ends_before_any_answer_is_a_failure(body):
    reply = _chat_stream(body)
    assert (reply.status, reply.error_type) == ("error", "invalid_response")
    assert "ended before the agent answered" in reply.error


@pytest.mark.parametrize("stream", [False, True])
def test_a_reply_cut_off_at_the_length_limit_is_a_success_with_a_warning(stream):
    if stream:
        reply = _chat_stream(
            _chunk("half")
            + b'\n\ndata: {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}\n\n'
            b"data: [DONE]\n\n"
        )
    else:
        reply = _parse({"choices": [{"message": {"content": "half"}, "finish_reason": "length"}]})
    assert (reply.status, reply.text) == ("success", "half")
    assert "cut off" in str(reply.extra["warning"]) and reply.extra["finish_reason"] == "length"
    ok = _parse({"choices": [{"message": {"content": "all"}, "finish_reason": "stop"}]})
    assert "warning" not in ok.extra


def test_the_cut_off_warning_reaches_the_call_result_the_chat_and_the_cli_show():
    from test_bad_replies import Harness

    harness = Harness()
    body = {
        "choices": [{"message": {"content": "half an answ"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4},
    }
    harness.reply = lambda _r: httpx.Response(200, json=body)
    result = harness.call("chat")
    assert result.event.status == "success"
    assert any("cut off" in w for w in result.warnings), result.warnings
