"""Values an agent (or a hand-built event) sends that the log cannot hold never stop logging.

A token count past int64, a cost past decimal128(38, 18), a wrong type: each is
refused where it enters (usage parser, ``Event``), and the buffered writer sets
aside an event it cannot encode instead of keeping it in front of every later one.
Also: a side the agent left out of its usage report is counted, never logged as 0.
"""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from typing import Any

import httpx
import pytest
from test_bad_replies import Harness

from agentcost_nb.billing import Caller, resolve_usage
from agentcost_nb.client.types import AgentReply, ReportedUsage
from agentcost_nb.errors import ValidationError
from agentcost_nb.eventlog import EventLog, LogWarning
from agentcost_nb.events import Event
from agentcost_nb.registry import AgentConfig
from agentcost_nb.usage import MAX_TOKENS, UsageTally, total_usage, usage_from_metadata


@pytest.mark.parametrize("n", [MAX_TOKENS + 1, 2**63, 10**19, 1e300])
def test_absurd_token_counts_are_garbage(n: Any) -> None:
    assert usage_from_metadata({"usage": {"input_tokens": n, "output_tokens": 1}}) is None
    assert total_usage({"usage": {"prompt_tokens": 1, "completion_tokens": n}}) is None
    assert usage_from_metadata({"adk_usage_metadata": {"promptTokenCount": n}}) is None
    assert usage_from_metadata({"usage": {"input_tokens": MAX_TOKENS, "output_tokens": 1}})


def test_per_call_counts_that_add_up_past_the_bound_are_not_added() -> None:
    tally = UsageTally()
    big = {"adk_usage_metadata": {"promptTokenCount": MAX_TOKENS, "candidatesTokenCount": 1}}
    tally.event(big)
    tally.event(big)
    assert tally.usage == ReportedUsage(input_tokens=MAX_TOKENS, output_tokens=1)


def _a2a_message(usage: dict[str, Any], text: str = "a fairly long reply with words") -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "message": {
                "messageId": "m1",
                "role": "ROLE_AGENT",
                "parts": [{"text": text}],
                "metadata": {"usage": usage},
            }
        },
    }


@pytest.mark.parametrize("count", [2**63, 10**19, 2**64 + 5])
def test_a_huge_reported_count_gives_one_event_and_later_calls_still_log(count: int) -> None:
    harness = Harness()
    bodies = [
        _a2a_message({"input_tokens": count, "output_tokens": 1}),
        _a2a_message({"input_tokens": 3, "output_tokens": 4}),
    ]
    harness.reply = lambda _r: httpx.Response(200, json=bodies.pop(0) if bodies else bodies)
    first = harness.call()
    assert first.event.status == "success"
    assert first.event.token_source in ("counted", "estimated")  # the report was garbage
    assert 0 < first.event.input_tokens < 100
    second = harness.call()
    assert (second.event.input_tokens, second.event.token_source) == (3, "reported")
    assert harness.tracker.pending == []
    harness.check()


@pytest.mark.parametrize(
    ("usage", "src"),
    [
        ({"input_tokens": 0, "output_tokens": 0}, ("counted", "counted")),
        ({"input_tokens": 50}, ("reported", "counted")),
        ({"output_tokens": 7}, ("counted", "reported")),
        ({"input_tokens": 50, "output_tokens": 0}, ("reported", "counted")),
    ],
)
def test_a_side_the_agent_left_out_or_zeroed_is_counted_not_zero(usage, src) -> None:
    reported = usage_from_metadata({"usage": usage})
    reply = AgentReply(
        status="success", text="a fairly long reply with several words", usage=reported
    )
    tokens, source = resolve_usage(reply, "please answer my question")
    assert tokens.input_tokens > 0 and tokens.output_tokens > 0
    if "input_tokens" in usage and usage["input_tokens"]:
        assert tokens.input_tokens == usage["input_tokens"]
    if usage.get("output_tokens"):
        assert tokens.output_tokens == usage["output_tokens"]
    if src == ("counted", "counted"):
        assert source in ("counted", "estimated")
    else:
        assert source in ("reported+counted", "reported+estimated")


def test_reported_zero_for_an_empty_side_stays_reported() -> None:
    reply = AgentReply(
        status="error", text="", usage=ReportedUsage(input_tokens=12, output_tokens=0)
    )
    tokens, source = resolve_usage(reply, "hello")
    assert (tokens.input_tokens, tokens.output_tokens, source) == (12, 0, "reported")


def test_event_refuses_values_its_columns_cannot_hold() -> None:
    with pytest.raises(ValueError, match="input_tokens"):
        Event(agent_name="a", status="success", input_tokens=2**63)
    with pytest.raises(ValueError, match="attempts"):
        Event(agent_name="a", status="success", attempts=2**31)
    with pytest.raises(ValueError, match="output_tokens"):
        Event(agent_name="a", status="success", output_tokens=-1)
    with pytest.raises(ValueError, match="cost_usd"):
        Event(agent_name="a", status="success", cost_usd=Decimal(10) ** 20)
    with pytest.raises(ValueError, match="cost_usd"):
        Event(agent_name="a", status="success", cost_usd=Decimal("NaN"))
    Event(agent_name="a", status="success", cost_usd=Decimal("99999999999999999999.5"))


def test_the_buffered_writer_sets_aside_an_unencodable_event_and_writes_the_rest(tmp_path):
    log = EventLog(tmp_path / "events")
    writer = log.buffered(max_events=100, max_age=60)
    good = [Event(agent_name="a", status="success") for _ in range(3)]
    bad = Event(agent_name="a", status="success")
    object.__setattr__(bad, "agent_name", 123)  # what a hand-built event with a bug looks like
    writer.append([good[0], bad, *good[1:]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert writer.flush() is True
    assert writer.pending == [] and writer.rejected == [bad]
    message = next(str(w.message) for w in caught if w.category is LogWarning)
    assert "cannot be stored" in message
    rescue = message.split("saved to ")[1].split(";")[0]
    rows = [json.loads(line) for line in open(rescue, encoding="utf-8")]
    assert [r["event_id"] for r in rows] == [bad.event_id]
    assert sorted(log.to_pandas()["event_id"]) == sorted(e.event_id for e in good)
    writer.append(Event(agent_name="b", status="success"))  # and the next write goes through
    assert writer.flush() and len(log.to_pandas()) == 4


@pytest.mark.parametrize("field", ["api_key", "team", "project"])
@pytest.mark.parametrize("value", ["a\nb", "x\x00y", "tab\there", "cr\r\nX-Evil: 1"])
def test_caller_fields_with_control_characters_are_refused_by_name(field, value) -> None:
    with pytest.raises(ValidationError) as info:
        Caller(**{field: value})
    assert field in info.value.fields
    assert value not in str(info.value)
    with pytest.raises(ValidationError) as info:
        Caller(tags=("ok", value))
    assert "tags" in info.value.fields


def test_the_endpoint_column_keeps_no_credentials_from_the_url() -> None:
    harness = Harness()
    harness.tracker.registry.add(
        AgentConfig(
            name="creds",
            display_name="Creds",
            url="http://agent.test/a?api_key=sk-QUERY-SECRET-98765",  # (user:pass@ is refused)
        )
    )
    harness.reply = lambda _r: httpx.Response(200, json=_a2a_message({}))
    result = harness.call("creds")
    stored = harness.tracker.log.read(["endpoint", "error"]).to_pylist()[0]
    secret = "sk-QUERY-SECRET-98765"
    assert secret not in repr(stored) and secret not in repr(result.event)
    assert stored["endpoint"].startswith("http://agent.test/")
