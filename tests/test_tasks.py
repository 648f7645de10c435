"""Tasks: success decided by content, polling, questions answered on the same task, cancel."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import httpx
import pandas as pd
import pytest

from agentcost_nb import analytics
from agentcost_nb.client._cancel import CancelToken
from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.demo_agent import QUESTION_TEXT, WORKING_TEXT
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import ChatWidget

PRICE = PriceSheet(cost_per_query=D("0.02"))


def _tracker(tmp_path, demo_server, *agents: tuple[str, str, str]) -> Tracker:
    """``agents``: (name, demo agent, dialect)."""
    tracker = Tracker(tmp_path, timeout=15)
    for name, demo, dialect in agents:
        url = demo_server.agent_url(demo, dialect)  # type: ignore[arg-type]
        tracker.registry.add(AgentConfig(name=name, display_name=name, url=url, prices=(PRICE,)))
    return tracker


@pytest.mark.parametrize("stream", [False, True])
def test_three_http_200_replies_completed_rpc_error_failed_task_give_success_rate_one_third(
    demo_server, tmp_path, stream
):
    tracker = _tracker(tmp_path, demo_server, ("sum", "summarizer", "1.0"), ("echo", "echo", "0.3"))
    done = tracker.call_sync("sum", "a completed task please", stream=stream)
    rpc_error = tracker.call_sync("echo", "please #error", stream=stream)
    failed = tracker.call_sync("echo", "please #fail", stream=stream)

    assert (done.reply.status, done.reply.task_state) == ("success", "completed")
    assert (rpc_error.event.error_type, rpc_error.reply.extra["jsonrpc_code"]) == (
        "jsonrpc",
        -32603,
    )
    assert (failed.event.error_type, failed.event.task_state) == ("task_failed", "failed")
    assert [r.reply.http_status for r in (done, rpc_error, failed)] == [200, 200, 200]
    totals = analytics.totals(tracker.log)
    assert (totals.requests, totals.successful, totals.failed) == (3, 1, 2)
    assert totals.success_rate == pytest.approx(1 / 3)
    events = pd.read_parquet(tmp_path / "events")
    assert sorted(events["status"]) == ["error", "error", "success"]
    assert sorted(events["cost_usd"]) == [0, 0, D("0.02")]


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_a_task_returned_still_working_is_polled_until_it_completes(demo_server, tmp_path, dialect):
    tracker = _tracker(tmp_path, demo_server, ("echo", "echo", dialect))
    result = tracker.call_sync(
        "echo", "take a while #working", stream=False, return_immediately=True
    )
    reply = result.reply
    assert (reply.status, reply.task_state, reply.text) == (
        "success",
        "completed",
        "echo: take a while #working",
    )
    assert reply.polls >= 2  # the agent works 0.8 s; the first poll comes after 0.25 s
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1 and events["cost_usd"].iloc[0] == D("0.02")


def test_polling_a_finished_task_records_no_new_charge(demo_server, tmp_path):
    tracker = _tracker(tmp_path, demo_server, ("sum", "summarizer", "1.0"))
    first = tracker.call_sync("sum", "summarize me")
    again = asyncio.run(tracker.get_task("sum", first.reply.task_id))
    assert (again.status, again.task_state, again.text) == (
        "success",
        "completed",
        first.reply.text,
    )
    assert again.task_id == first.reply.task_id
    assert len(pd.read_parquet(tmp_path / "events")) == 1


def test_a_failed_poll_is_a_failed_call_with_the_task_kept():
    def handler(request):
        if request.method == "GET":
            return httpx.Response(404)
        method = json.loads(request.content)["method"]
        if method == "SendMessage":
            task = {"id": "t1", "contextId": "c", "status": {"state": "TASK_STATE_SUBMITTED"}}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": {"task": task}})
        error = {"code": -32001, "message": "Task not found"}
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 2, "error": error})

    client = A2AClient(transport=httpx.MockTransport(handler), poll_interval=0.01)
    reply = asyncio.run(client.send("http://agent.test/rpc", "hi", dialect="1.0"))
    assert (reply.status, reply.error_type, reply.task_id, reply.polls) == (
        "error",
        "jsonrpc",
        "t1",
        1,
    )
    assert "-32001" in reply.error


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_an_agent_question_is_shown_and_the_next_message_answers_it_on_the_same_task(
    demo_server, tmp_path, dialect
):
    tracker = _tracker(tmp_path, demo_server, ("tr", "translator", dialect))
    chat = ChatWidget(tracker)
    chat.select("tr")
    asked = asyncio.run(chat.send("translate something #input"))
    assert asked is not None and asked.reply.status == "input_required"
    assert QUESTION_TEXT in chat.transcript.children[-1].value
    assert "acnb-question" in chat.transcript.children[-1].value
    assert "your next message answers it" in chat.status.value
    assert (chat.task_id, chat.context_id) == (asked.reply.task_id, asked.reply.context_id)

    answered = asyncio.run(chat.send("hello world"))
    assert answered is not None
    assert (answered.reply.status, answered.reply.text) == ("success", "fr: bonjour monde")
    assert answered.reply.task_id == asked.reply.task_id
    assert answered.reply.context_id == asked.reply.context_id
    assert chat.task_id is None  # answered: the next message starts a new task
    events = pd.read_parquet(tmp_path / "events").sort_values("timestamp")
    assert list(events["task_state"]) == ["input-required", "completed"]
    assert events["task_id"].nunique() == 1 and len(chat.results) == 2
    assert "Session: 2 call(s), $0.04" in chat.total.value


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_cancel_stops_the_call_cancels_the_task_at_the_agent_and_records_canceled(
    demo_server, tmp_path, dialect
):
    tracker = _tracker(tmp_path, demo_server, ("echo", "echo", dialect))
    chat = ChatWidget(tracker)
    seen: list[str] = []

    def first_chunk_then_cancel(delta: str) -> None:
        seen.append(delta)
        chat.cancel_button.click()  # the button, as a user would

    chat._on_text = first_chunk_then_cancel  # type: ignore[method-assign]
    result = asyncio.run(chat.send("a long answer, chunk by slow chunk #stream #slow"))
    assert result is not None
    reply = result.reply
    assert (reply.status, reply.error_type, reply.task_state) == (
        "canceled",
        "canceled",
        "canceled",
    )
    assert "the agent canceled the task" in reply.error
    assert seen == ["echo: "] and reply.text == "echo: "
    assert reply.latency_ms < 1000  # the agent waits 1.5 s between chunks: we did not
    assert chat.cancel_button.disabled and not chat.send_button.disabled
    events = pd.read_parquet(tmp_path / "events")
    assert list(events["status"]) == ["canceled"] and events["cost_usd"].iloc[0] == 0
    # The agent knows: the task is canceled there too, and asking costs nothing.
    there = asyncio.run(tracker.get_task("echo", reply.task_id))
    assert there.task_state == "canceled"
    assert len(pd.read_parquet(tmp_path / "events")) == 1


def test_cancel_before_sending_sends_nothing_and_cancel_after_the_call_does_nothing():
    posts: list[httpx.Request] = []

    def handler(request):
        posts.append(request)
        return httpx.Response(200, json={"result": {"message": {"parts": [{"text": "ok"}]}}})

    client = A2AClient(transport=httpx.MockTransport(handler))
    early = CancelToken()
    early.cancel()
    reply = asyncio.run(client.send("http://agent.test/rpc", "hi", dialect="1.0", cancel=early))
    assert (reply.status, reply.error_type, reply.attempts, posts) == (
        "canceled",
        "canceled",
        0,
        [],
    )

    late = CancelToken()

    async def call_then_cancel():
        done = await client.send("http://agent.test/rpc", "hi", dialect="1.0", cancel=late)
        late.cancel()  # the call is over: this must not cancel anything else
        await asyncio.sleep(0.01)
        return done

    assert asyncio.run(call_then_cancel()).status == "success"


def test_interrupting_the_task_from_outside_still_records_one_event(demo_server, tmp_path):
    tracker = _tracker(tmp_path, demo_server, ("echo", "echo", "1.0"))

    async def interrupt():
        call = asyncio.ensure_future(tracker.call("echo", "take your time #slow"))
        await asyncio.sleep(0.3)
        call.cancel()  # a kernel interrupt, say
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(interrupt())
    events = pd.read_parquet(tmp_path / "events")
    assert list(events["status"]) == ["canceled"]
    assert "interrupted" in events["error"].iloc[0]


def test_a_working_status_line_reaches_on_status(demo_server):
    lines: list[str] = []
    reply = asyncio.run(
        A2AClient(timeout=10).send(
            demo_server.agent_url("echo"), "in a moment #working", on_status=lines.append
        )
    )
    assert reply.status == "success" and WORKING_TEXT in lines


def test_cancel_from_code_stops_a_blocking_call_that_has_no_task_yet(demo_server, tmp_path):
    tracker = _tracker(tmp_path, demo_server, ("echo", "echo", "1.0"))
    chat = ChatWidget(tracker)

    async def send_then_cancel():
        chat.message.value = "no hurry #slow"
        task = chat.click_send()
        await asyncio.sleep(0.3)  # the agent waits 1.5 s before answering
        assert chat.cancel() is True and "canceling" in chat.status.value
        return await task

    result = asyncio.run(send_then_cancel())
    assert (result.reply.status, result.reply.error) == ("canceled", "canceled by the user")
    assert result.reply.latency_ms < 1400
    assert list(pd.read_parquet(tmp_path / "events")["status"]) == ["canceled"]
    assert "canceled: canceled by the user" in chat.transcript.children[-1].value
