"""Streaming: Server-Sent Events read, folded into one reply, priced once, shown as they arrive."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import httpx
import pandas as pd
import pytest

from agentcost_nb.cli import main
from agentcost_nb.client._sse import SSEDecoder, SSETooLarge
from agentcost_nb.client._stream import StreamFold
from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.client.types import ReportedUsage
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tokens import count_tokens
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import ChatWidget

BASE = "http://agent.test/a"
RPC = BASE + "/rpc"
PRICE = PriceSheet(
    cost_per_query=D("0.01"),
    input_cost_per_token=D("0.000002"),
    output_cost_per_token=D("0.000008"),
)


def _card(version: str) -> dict:
    if version == "1.0":
        return {
            "name": "S",
            "capabilities": {"streaming": True},
            "supportedInterfaces": [
                {"url": RPC, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
            ],
        }
    return {
        "name": "S",
        "url": RPC,
        "protocolVersion": "0.3.0",
        "capabilities": {"streaming": True},
    }


def _sse(*docs: dict, comments: bool = True) -> bytes:
    out = []
    for doc in docs:
        if comments:
            out.append(": keep-alive\n\n")
        out.append(f"data: {json.dumps(doc)}\n\n")
    return "".join(out).encode()


def _events_3_chunks(dialect: str) -> list[dict]:
    """A Task, three appended artifact chunks, then completion with a usage total."""
    words = ["one ", "two ", "three"]
    if dialect == "1.0":
        events = [
            {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_SUBMITTED"}}}
        ]
        for i, w in enumerate(words):
            update = {"taskId": "t1", "contextId": "c1",
                      "artifact": {"artifactId": "a", "parts": [{"text": w}]}}  # fmt: skip
            if i:
                update["append"] = True
            events.append({"artifactUpdate": update})
        events.append({"statusUpdate": {"taskId": "t1", "contextId": "c1",
                       "status": {"state": "TASK_STATE_COMPLETED"},
                       "metadata": {"usage": {"input_tokens": 7, "output_tokens": 3}}}})  # fmt: skip
    else:
        events = [{"kind": "task", "id": "t1", "contextId": "c1", "status": {"state": "submitted"}}]
        for i, w in enumerate(words):
            events.append({"kind": "artifact-update", "taskId": "t1", "contextId": "c1",
                           "append": i > 0, "lastChunk": i == 2,
                           "artifact": {"artifactId": "a", "parts": [{"kind": "text", "text": w}]}})  # fmt: skip
        events.append({"kind": "status-update", "taskId": "t1", "contextId": "c1", "final": True,
                       "status": {"state": "completed"},
                       "metadata": {"usage": {"input_tokens": 7, "output_tokens": 3}}})  # fmt: skip
    return [{"jsonrpc": "2.0", "id": 1, "result": e} for e in events]


def _transport(dialect: str, body: bytes, seen: list | None = None, ctype="text/event-stream"):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.method == "GET":
            if request.url.path == "/a/.well-known/agent-card.json":
                return httpx.Response(200, json=_card(dialect))
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"content-type": ctype})

    return httpx.MockTransport(handler)


def _tracker(tmp_path, transport, *, name="s", url=BASE, **config) -> Tracker:
    tracker = Tracker(tmp_path, client=A2AClient(transport=transport))
    tracker.registry.add(AgentConfig(name=name, display_name=name.upper(), url=url,
                                     prices=(PRICE,), **config))  # fmt: skip
    return tracker


# ---------------------------------------------------------------- Done when #1


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_a_stream_of_3_chunks_then_completion_is_one_successful_event_at_the_right_cost(
    tmp_path, dialect
):
    seen: list[httpx.Request] = []
    tracker = _tracker(tmp_path, _transport(dialect, _sse(*_events_3_chunks(dialect)), seen))
    deltas: list[str] = []
    result = tracker.call_sync("s", "count to three", on_text=deltas.append)

    assert deltas == ["one ", "two ", "three"]  # shown as they arrived
    assert (result.reply.status, result.reply.text) == ("success", "one two three")
    assert result.reply.streamed_chunks == 5
    post = seen[-1]
    assert post.headers["accept"] == "text/event-stream"
    method = json.loads(post.content)["method"]
    assert method == {"1.0": "SendStreamingMessage", "0.3": "message/stream"}[dialect]
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    assert (e["status"], e["task_state"], e["token_source"]) == ("success", "completed", "reported")
    assert (e["input_tokens"], e["output_tokens"]) == (7, 3)
    assert e["cost_usd"] == D("0.01") + 7 * D("0.000002") + 3 * D("0.000008") == D("0.010038")
    assert (e["task_id"], e["context_id"], e["protocol"]) == ("t1", "c1", f"a2a-{dialect}")


def test_real_server_stream_of_chunks_is_one_event_priced_on_counted_tokens(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    tracker.registry.add(AgentConfig(name="e", display_name="E",
                                     url=demo_server.agent_url("echo"), prices=(PRICE,)))  # fmt: skip
    deltas: list[str] = []
    text = "stream this answer #stream"
    result = tracker.call_sync("e", text, on_text=deltas.append)
    assert result.reply.text == f"echo: {text}" == "".join(deltas)
    assert len(deltas) >= 3 and result.reply.streamed_chunks >= 5  # task, chunks, completion
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    n_in, n_out = count_tokens(text)[0], count_tokens(result.reply.text)[0]
    assert (e["status"], e["input_tokens"], e["output_tokens"]) == ("success", n_in, n_out)
    assert e["cost_usd"] == D("0.01") + n_in * D("0.000002") + n_out * D("0.000008")


# ------------------------------------------------------------- usage over a stream


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_adk_usage_adds_per_model_call_and_usage_totals_take_the_last(demo_server, dialect):
    text = "one two three four"

    async def both():
        client = A2AClient(timeout=10)
        summary = await client.send(demo_server.agent_url("summarizer", dialect), text + " #stream")
        translation = await client.send(demo_server.agent_url("translator", dialect),
                                        "hello world and you #stream")  # fmt: skip
        return summary, translation

    summary, translation = asyncio.run(both())
    # The summarizer's answer has 6 words, streamed as 6 chunks, each one model
    # call over the 5-word prompt that reports only its own counts: summed.
    assert summary.text == "summary: one two three four #stream"
    assert summary.usage == ReportedUsage(input_tokens=6 * 5, output_tokens=6)
    # The translator repeats a running total on every chunk: the last is the total.
    assert translation.text == "fr: bonjour monde et vous #stream"
    assert translation.usage == ReportedUsage(input_tokens=5, output_tokens=6)


def test_fold_does_not_count_a_task_snapshot_that_repeats_an_earlier_turn():
    fold = StreamFold()
    old = {"adk_usage_metadata": {"promptTokenCount": 100, "candidatesTokenCount": 100}}
    fold.feed({"task": {"id": "t", "status": {"state": "TASK_STATE_WORKING"}, "metadata": old}})
    fold.feed({"statusUpdate": {"taskId": "t", "status": {"state": "TASK_STATE_WORKING"},
               "metadata": {"adk_usage_metadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}}})  # fmt: skip
    fold.feed({"artifactUpdate": {"taskId": "t", "artifact": {"artifactId": "x", "parts": [{"text": "hi"}],
               "metadata": {"adk_usage_metadata": {"promptTokenCount": 4, "candidatesTokenCount": 2}}}}})  # fmt: skip
    fold.feed({"statusUpdate": {"taskId": "t", "status": {"state": "TASK_STATE_COMPLETED"}}})
    reply = fold.reply(rpc_url=RPC, where=RPC)
    assert fold.finished and reply.status == "success" and reply.text == "hi"
    assert reply.usage == ReportedUsage(input_tokens=7, output_tokens=3)

    only_snapshot = StreamFold()
    only_snapshot.feed({"task": {"id": "t", "status": {"state": "TASK_STATE_COMPLETED"},
                                 "artifacts": [{"parts": [{"text": "done"}]}], "metadata": old}})  # fmt: skip
    assert only_snapshot.reply(rpc_url=RPC, where=RPC).usage == ReportedUsage(100, 100)


def test_fold_replaced_artifact_gives_no_bogus_delta_and_the_final_text():
    fold = StreamFold()
    assert (
        fold.feed(
            {"artifactUpdate": {"artifact": {"artifactId": "a", "parts": [{"text": "draft"}]}}}
        )
        == "draft"
    )
    assert (
        fold.feed(
            {"artifactUpdate": {"artifact": {"artifactId": "a", "parts": [{"text": "Final"}]}}}
        )
        == ""
    )
    assert (
        fold.feed(
            {
                "artifactUpdate": {
                    "append": True,
                    "artifact": {"artifactId": "a", "parts": [{"text": "!"}]},
                }
            }
        )
        == "!"
    )
    fold.feed({"statusUpdate": {"status": {"state": "TASK_STATE_COMPLETED"}}})
    assert fold.reply(rpc_url=RPC, where=RPC).text == "Final!"


# ------------------------------------------------------------------ SSE decoding


def test_sse_decoder_skips_comments_joins_data_lines_and_keeps_event_names():
    decoder = SSEDecoder()
    lines = [": keep-alive", "", "event: error", "data: {\"a\":", "data:1}", "id: 7", "",
             "retry: 10", "data: last"]  # fmt: skip
    events = [e for e in map(decoder.feed, lines) if e is not None]
    assert [(e.event, e.data, e.id) for e in events] == [("error", '{"a":\n1}', "7")]
    tail = decoder.close()  # a last event not closed by a blank line still counts
    assert tail is not None and (tail.event, tail.data) == ("message", "last")
    assert decoder.close() is None
    small = SSEDecoder(max_bytes=10)
    with pytest.raises(SSETooLarge):
        for _ in range(5):
            small.feed("data: 12345")


# ------------------------------------------------------------- odd wire cases


def _send(transport, text="hi", **kw):
    return asyncio.run(A2AClient(transport=transport).send(BASE, text, **kw))


def test_an_error_before_the_first_event_comes_as_plain_json():
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "boom"}}
    reply = _send(_transport("1.0", json.dumps(error).encode(), ctype="application/json"))
    assert (reply.status, reply.error_type, reply.extra["jsonrpc_code"]) == (
        "error",
        "jsonrpc",
        -32603,
    )
    assert reply.streamed_chunks == 0


def test_an_error_event_mid_stream_fails_the_call_and_keeps_the_partial_text():
    events = _events_3_chunks("1.0")[:3]
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "lost the model"}}
    body = _sse(*events) + b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"
    reply = _send(_transport("1.0", body))
    assert (reply.status, reply.error_type) == ("error", "jsonrpc")
    assert "lost the model" in reply.error and reply.text == "one two "
    assert reply.task_id == "t1"


def test_a_stream_with_the_wrong_content_type_or_broken_json_is_a_failure():
    reply = _send(_transport("1.0", b"<html>", ctype="text/html"))
    assert (reply.error_type, reply.status) == ("invalid_response", "error")
    assert "expected an event stream" in reply.error and "text/html" in reply.error
    broken = _sse(*_events_3_chunks("1.0")[:2]) + b"data: {not json\n\n"
    reply = _send(_transport("1.0", broken))
    assert reply.error_type == "invalid_response" and "not valid JSON" in reply.error
    assert reply.text == "one "


def test_a_1_0_stream_needs_no_final_flag_it_ends_when_the_server_closes():
    events = _events_3_chunks("1.0")
    events[-1]["result"]["statusUpdate"]["status"]["state"] = "TASK_STATE_INPUT_REQUIRED"
    events[-1]["result"]["statusUpdate"]["status"]["message"] = {"parts": [{"text": "Which one?"}]}
    reply = _send(_transport("1.0", _sse(*events, comments=False)))
    assert (reply.status, reply.task_state, reply.text) == (
        "input_required",
        "input-required",
        "Which one?",
    )


def test_a_stream_that_closes_while_the_task_works_is_polled_to_the_end():
    posts: list[str] = []
    working = [{"jsonrpc": "2.0", "id": 1, "result": {"task": {
        "id": "t9", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}}}]  # fmt: skip
    done = {"jsonrpc": "2.0", "id": 2, "result": {
        "id": "t9", "contextId": "c", "status": {"state": "TASK_STATE_COMPLETED"},
        "artifacts": [{"parts": [{"text": "finished later"}]}]}}  # fmt: skip

    def handler(request):
        if request.method == "GET":
            return httpx.Response(200, json=_card("1.0"))
        posts.append(json.loads(request.content)["method"])
        if posts[-1] == "GetTask":
            return httpx.Response(200, json=done)
        return httpx.Response(
            200, content=_sse(*working), headers={"content-type": "text/event-stream"}
        )

    client = A2AClient(transport=httpx.MockTransport(handler), poll_interval=0.01)
    reply = asyncio.run(client.send(BASE, "hi"))
    assert (reply.status, reply.text, reply.polls) == ("success", "finished later", 1)
    assert posts == ["SendStreamingMessage", "GetTask"]


def test_stream_false_or_a_card_without_streaming_sends_a_blocking_request():
    seen: list[httpx.Request] = []
    ok = {"jsonrpc": "2.0", "id": 1, "result": {"message": {"parts": [{"text": "plain"}]}}}

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            card = _card("1.0")
            card["capabilities"] = {"streaming": False}
            return (
                httpx.Response(200, json=card)
                if "agent-card" in request.url.path
                else httpx.Response(404)
            )
        return httpx.Response(200, json=ok)

    reply = _send(httpx.MockTransport(handler), stream=True)  # the card says it cannot
    assert reply.text == "plain" and json.loads(seen[-1].content)["method"] == "SendMessage"
    reply = _send(_transport("1.0", b"", seen), stream=False)
    assert json.loads(seen[-1].content)["method"] == "SendMessage"


# ------------------------------------------------------------------ front ends


def test_the_chat_widget_shows_streamed_text_while_it_arrives(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    tracker.registry.add(AgentConfig(name="e", display_name="E",
                                     url=demo_server.agent_url("echo"), prices=(PRICE,)))  # fmt: skip
    chat = ChatWidget(tracker)
    live: list[str] = []
    original = chat._on_text

    def spy(delta: str) -> None:
        original(delta)
        live.append(chat.transcript.children[-1].value)  # what the user sees right now

    chat._on_text = spy  # type: ignore[method-assign]
    result = asyncio.run(chat.send("three little words #stream"))
    assert result is not None and result.event.status == "success"
    assert len(live) >= 3 and "acnb-live" in live[0] and "echo: three little words" in live[-1]
    # The live bubble gives way to the final one, with the cost.
    shown = [c.value for c in chat.transcript.children]
    assert not any("acnb-live" in s for s in shown)
    assert "echo: three little words #stream" in shown[-1] and "acnb-cost" in shown[-1]


def test_cli_send_stream_prints_the_answer_as_it_arrives(demo_server, tmp_path, capsys):
    Tracker(tmp_path).registry.add(
        AgentConfig(name="e", display_name="E", url=demo_server.agent_url("echo"), prices=(PRICE,))
    )
    code = main(["--home", str(tmp_path), "send", "--agent", "e", "--stream", "say it #stream"])
    out, err = capsys.readouterr()
    assert code == 0 and out == "echo: say it #stream\n"
    assert err.startswith("[success] $0.01")
    assert len(pd.read_parquet(tmp_path / "events")) == 1


# ------------------------------------------------------ SSE edge cases


@pytest.mark.parametrize(
    "data",
    [
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "model crashed"}},
        {"code": -32603, "message": "model crashed"},
        {"error": {"code": -32603, "message": "model crashed"}},
    ],
    ids=["JSON-RPC response", "bare error object", "error member only"],
)
@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_an_error_event_gives_its_reason_and_code(dialect, data):
    events = _events_3_chunks(dialect)[:2]
    body = _sse(*events) + b"event: error\ndata: " + json.dumps(data).encode() + b"\n\n"
    reply = _send(_transport(dialect, body))
    assert (reply.status, reply.error_type) == ("error", "jsonrpc"), reply.error
    assert "model crashed" in reply.error and reply.extra["jsonrpc_code"] == -32603
    assert reply.text == "one " and reply.streamed_chunks == 2


def test_an_error_event_that_is_plain_text_gives_that_text():
    body = _sse(*_events_3_chunks("1.0")[:2]) + b"event: error\ndata: upstream went away\n\n"
    reply = _send(_transport("1.0", body))
    assert reply.status == "error" and "upstream went away" in reply.error
    assert reply.text == "one "


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_utf8_bom_before_the_first_line_is_ignored(dialect, newline):
    body = b"\xef\xbb\xbf" + _sse(*_events_3_chunks(dialect), comments=False).replace(
        b"\n", newline.encode()
    )
    reply = _send(_transport(dialect, body))
    assert (reply.status, reply.text) == ("success", "one two three"), reply.error
    # without comments the BOM sits right before "data:" of the first event
    assert reply.streamed_chunks == len(_events_3_chunks(dialect))


def test_the_sse_decoder_strips_only_a_leading_bom():
    decoder = SSEDecoder()
    assert decoder.feed("\ufeffdata: x") is None
    event = decoder.feed("")
    assert event is not None and event.data == "x"
    assert decoder.feed("data: \ufeffy") is None
    event = decoder.feed("")
    assert event is not None and event.data == "\ufeffy"  # only the stream's first character


def test_a_stream_that_ends_working_and_times_out_while_polling_keeps_text_and_counters():
    working = [
        {"jsonrpc": "2.0", "id": 1, "result": {"task": {
            "id": "t9", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}}},
        {"jsonrpc": "2.0", "id": 1, "result": {"artifactUpdate": {
            "taskId": "t9", "contextId": "c",
            "artifact": {"artifactId": "a", "parts": [{"text": "half an answer"}]}}}},
    ]  # fmt: skip
    still = {"jsonrpc": "2.0", "id": 2, "result": {"task": {
        "id": "t9", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}}}  # fmt: skip
    posts: list[str] = []

    def handler(request):
        if request.method == "GET":
            return httpx.Response(200, json=_card("1.0"))
        posts.append(json.loads(request.content)["method"])
        if posts[-1] == "GetTask":
            return httpx.Response(200, json=still)  # a snapshot without the artifact
        return httpx.Response(
            200, content=_sse(*working), headers={"content-type": "text/event-stream"}
        )

    client = A2AClient(transport=httpx.MockTransport(handler), poll_interval=0.05,
                       max_poll_interval=0.05)  # fmt: skip
    reply = asyncio.run(client.send(BASE, "hi", timeout=0.5))
    assert (reply.status, reply.error_type) == ("timeout", "timeout")
    assert reply.text == "half an answer" and reply.streamed_chunks == 2
    assert reply.polls == posts.count("GetTask") >= 2
    assert (reply.task_id, reply.task_state) == ("t9", "working")
    assert "did not finish" in reply.error
