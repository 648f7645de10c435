"""Retries and the one overall deadline: each try visible, the query charged once."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal as D

import httpx
import pandas as pd
import pytest

from agentcost_nb.client._retry import RetryPolicy, is_retryable, retry_after_seconds
from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.client.types import AgentReply
from agentcost_nb.errors import ValidationError
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker

BASE = "http://agent.test/a"
RPC = BASE + "/rpc"
CARD = {
    "name": "R",
    "supportedInterfaces": [{"url": RPC, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
}
OK = {"jsonrpc": "2.0", "id": 1, "result": {"message": {"parts": [{"text": "finally"}]}}}
PRICE = PriceSheet(cost_per_query=D("0.05"))


def _flaky(answers: list, posts: list[httpx.Request]):
    """Card at BASE; each POST gets the next answer (a status code, an exception or a body)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=CARD)
        posts.append(request)
        answer = answers.pop(0)
        if isinstance(answer, int):
            return httpx.Response(answer, text="busy", headers={"Retry-After": "0"})
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handler)


def _policy() -> RetryPolicy:
    return RetryPolicy(backoff=0.01, max_backoff=0.02)


def test_503_503_then_success_is_one_charged_query_with_3_attempts(tmp_path):
    posts: list[httpx.Request] = []
    client = A2AClient(transport=_flaky([503, 503, OK], posts), retry=_policy())
    tracker = Tracker(tmp_path, client=client)
    tracker.registry.add(
        AgentConfig(name="r", display_name="R", url=BASE, retries=2, prices=(PRICE,))
    )
    result = tracker.call_sync("r", "are you there?")
    assert (result.reply.status, result.reply.text, result.reply.attempts) == (
        "success",
        "finally",
        3,
    )
    assert len(posts) == 3
    # The same message each time (one messageId): one query tried three times.
    assert len({json.loads(p.content)["params"]["message"]["messageId"] for p in posts}) == 1
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    assert (e["status"], e["attempts"], e["http_status"]) == ("success", 3, 200)
    assert e["cost_usd"] == D("0.05")
    assert "3 tries" in result.summary()


def test_without_retries_a_503_is_one_failed_try():
    posts: list[httpx.Request] = []
    reply = asyncio.run(A2AClient(transport=_flaky([503, OK], posts)).send(BASE, "hi"))
    assert (reply.status, reply.error_type, reply.http_status, reply.attempts) == (
        "error",
        "http_status",
        503,
        1,
    )
    assert len(posts) == 1


def test_connect_errors_are_retried_and_giving_up_reports_every_try():
    posts: list[httpx.Request] = []
    refused = [httpx.ConnectError("refused") for _ in range(3)]
    client = A2AClient(transport=_flaky(refused, posts), retry=_policy())
    reply = asyncio.run(client.send(BASE, "hi", retries=2))
    assert (reply.status, reply.error_type, reply.attempts) == ("error", "connect", 3)
    assert len(posts) == 3


@pytest.mark.parametrize(
    "answer",
    [
        500,
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "boom"}},
        httpx.ReadError("connection reset mid-reply"),
    ],
)
def test_a_reply_that_may_have_done_the_work_is_never_retried(answer):
    posts: list[httpx.Request] = []
    client = A2AClient(transport=_flaky([answer, OK], posts), retry=_policy())
    reply = asyncio.run(client.send(BASE, "hi", retries=3))
    assert reply.status == "error" and reply.attempts == 1 and len(posts) == 1


def test_retries_and_backoff_stay_inside_the_deadline():
    posts: list[httpx.Request] = []
    client = A2AClient(
        transport=_flaky([503] * 20, posts), retry=RetryPolicy(backoff=0.2, max_backoff=0.2)
    )
    started = time.perf_counter()
    reply = asyncio.run(client.send(BASE, "hi", retries=10, timeout=0.5))
    assert (reply.status, reply.error_type) == ("timeout", "timeout")
    assert 2 <= reply.attempts == len(posts) < 10
    assert time.perf_counter() - started < 2.0  # nowhere near 10 backoffs


def test_retry_policy_rules():
    policy = RetryPolicy(retries=3, backoff=0.5, max_backoff=2.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]
    assert policy.delay(1, retry_after=1.5) == 1.5  # the server asked for longer
    assert policy.delay(1, retry_after=60) == 2.0  # but not past the cap
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    for bad in (-1, 11, 1.5, True):
        with pytest.raises(ValidationError):
            RetryPolicy(retries=bad)  # type: ignore[arg-type]
    retryable = [AgentReply(status="error", error_type="connect")] + [
        AgentReply(status="error", error_type="http_status", http_status=s) for s in (502, 503, 504)
    ]
    assert all(map(is_retryable, retryable))
    assert not is_retryable(AgentReply(status="error", error_type="http_status", http_status=500))
    assert not is_retryable(AgentReply(status="error", error_type="jsonrpc"))
    assert not is_retryable(AgentReply(status="timeout", error_type="timeout"))


# --------------------------------------------------------------------- deadline


def test_a_drip_feeding_agent_times_out_at_the_overall_deadline(demo_server, tmp_path):
    """One byte every 0.5 s: no single read is slow, only the whole reply."""
    deadline = 3.0
    tracker = Tracker(tmp_path)
    tracker.registry.add(
        AgentConfig(
            name="drip", display_name="Drip", url=demo_server.agent_url("echo"), prices=(PRICE,)
        )  # fmt: skip
    )
    started = time.perf_counter()
    result = tracker.call_sync("drip", "slowly please #drip", timeout=deadline)
    elapsed = time.perf_counter() - started
    assert (result.reply.status, result.reply.error_type) == ("timeout", "timeout")
    assert 0.8 * deadline <= elapsed <= 1.2 * deadline
    assert 0.8 * deadline * 1000 <= result.reply.latency_ms <= 1.2 * deadline * 1000
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    assert (events["status"].iloc[0], events["error_type"].iloc[0]) == ("timeout", "timeout")
    assert events["cost_usd"].iloc[0] == 0  # nothing answered: nothing charged by default


def test_agent_settings_for_calls_round_trip_and_are_validated():
    agent = AgentConfig(name="a", display_name="A", url="http://h/a", dialect="0.3",
                        stream=False, retries=3)  # fmt: skip
    again = AgentConfig.from_json(agent.to_json())
    assert (again.dialect, again.stream, again.retries) == ("0.3", False, 3)
    plain = AgentConfig.from_json({"name": "b", "display_name": "B", "url": "http://h/b"})
    assert (plain.dialect, plain.stream, plain.retries) == ("", True, 0)
    with pytest.raises(ValidationError) as refused:
        AgentConfig.from_json({**agent.to_json(), "dialect": "2.0", "retries": 11, "stream": "yes"})
    assert set(refused.value.fields) == {"dialect", "retries", "stream"}


# ------------------------------------------ never re-send an accepted message


def _task(state: str, dialect: str, text: str = "") -> dict:
    artifacts = [{"artifactId": "a", "parts": [{"text": text}]}] if text else []
    if dialect == "1.0":
        task = {"id": "t-1", "contextId": "c-1", "status": {"state": state}, "artifacts": artifacts}
        return {"jsonrpc": "2.0", "id": 1, "result": {"task": task}}
    for artifact in artifacts:
        artifact["parts"] = [{"kind": "text", "text": text}]
    task = {"kind": "task", "id": "t-1", "contextId": "c-1", "status": {"state": state.lower()},
            "artifacts": artifacts}  # fmt: skip
    return {"jsonrpc": "2.0", "id": 1, "result": task}


def _accepting_agent(dialect: str, polls: list, methods: list[str]) -> httpx.MockTransport:
    """Accepts the message as a working task; each poll gets the next answer in ``polls``."""
    working = "TASK_STATE_WORKING" if dialect == "1.0" else "working"
    done = "TASK_STATE_COMPLETED" if dialect == "1.0" else "completed"
    card = dict(CARD) if dialect == "1.0" else {"name": "R", "url": RPC, "protocolVersion": "0.3"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=card)
        method = json.loads(request.content)["method"]
        methods.append(method)
        if method in ("SendMessage", "message/send"):
            return httpx.Response(200, json=_task(working, dialect))
        answer = polls.pop(0) if polls else "done"
        if answer == "done":
            return httpx.Response(200, json=_task(done, dialect, "all done"))
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, text="busy", headers={"Retry-After": "0"})

    return httpx.MockTransport(handler)


def _client(transport) -> A2AClient:
    return A2AClient(transport=transport, retry=_policy(), poll_interval=0.01,
                     max_poll_interval=0.02)  # fmt: skip


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
@pytest.mark.parametrize(
    "blip", [503, 502, 504, httpx.ConnectError("refused"), httpx.ReadError("reset")]
)
def test_a_poll_that_fails_transiently_is_asked_again_and_the_message_is_sent_once(dialect, blip):
    methods: list[str] = []
    client = _client(_accepting_agent(dialect, [blip, blip], methods))
    reply = asyncio.run(client.send(BASE, "hi", retries=2, stream=False))
    send, get = ("SendMessage", "GetTask") if dialect == "1.0" else ("message/send", "tasks/get")
    assert methods == [send, get, get, get]
    assert (reply.status, reply.text, reply.attempts, reply.polls) == ("success", "all done", 1, 3)


def test_a_poll_that_keeps_failing_is_a_failed_call_still_sent_once():
    methods: list[str] = []
    client = _client(_accepting_agent("1.0", [503] * 50, methods))
    reply = asyncio.run(client.send(BASE, "hi", retries=2, stream=False, timeout=5))
    assert methods.count("SendMessage") == 1 and reply.attempts == 1
    assert (reply.status, reply.error_type, reply.http_status) == ("error", "http_status", 503)
    assert reply.task_id == "t-1" and "t-1" in reply.error and "HTTP 503" in reply.error
    assert reply.polls == methods.count("GetTask") >= 3


def test_a_poll_failure_with_no_retries_still_never_re_sends(tmp_path):
    methods: list[str] = []
    client = _client(_accepting_agent("1.0", [503] * 50, methods))
    reply = asyncio.run(client.send(BASE, "hi", stream=False, timeout=5))
    assert methods.count("SendMessage") == 1 and reply.attempts == 1
    assert reply.status == "error"


def test_a_poll_that_fails_until_the_deadline_times_out_without_re_sending():
    methods: list[str] = []
    client = A2AClient(
        transport=_accepting_agent("1.0", [503] * 1000, methods),
        retry=RetryPolicy(retries=10, backoff=0.01, max_backoff=0.01),
        poll_interval=0.05,
        max_poll_interval=0.05,
    )
    reply = asyncio.run(client.send(BASE, "hi", stream=False, timeout=0.6))
    assert methods.count("SendMessage") == 1 and reply.attempts == 1
    assert reply.status in ("timeout", "error") and reply.task_id == "t-1"


def test_a_503_on_the_send_itself_is_still_retried():
    methods: list[str] = []
    inner = _accepting_agent("1.0", [], methods)
    sends = [503]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and sends and b"SendMessage" in request.content:
            sends.pop()
            methods.append("503")
            return httpx.Response(503, headers={"Retry-After": "0"})
        return await inner.handle_async_request(request)

    reply = asyncio.run(_client(httpx.MockTransport(handler)).send(BASE, "hi", retries=2,
                                                                   stream=False))  # fmt: skip
    assert methods == ["503", "SendMessage", "GetTask"]
    assert (reply.status, reply.attempts) == ("success", 2)
