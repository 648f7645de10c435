"""The walking skeleton end to end: form -> chat widget -> real a2a-sdk agent -> Parquet."""

import asyncio
from decimal import Decimal as D

import pandas as pd
import pytest

from agentcost_nb.tokens import count_tokens
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import AgentForm, ChatWidget

PRICES = {"cost_per_query": "0.05", "input_cost_per_token": "0.000002",
          "output_cost_per_token": "0.000008"}  # fmt: skip


def _register(tracker: Tracker, url: str, name: str = "priced-echo", display: str = "Priced Echo"):
    form = AgentForm(tracker.registry)
    form.fill(name=name, display_name=display, url=url, **PRICES)
    form.save_button.click()
    assert form.status.value.startswith("saved"), form.status.value
    return tracker.registry.get(name)


def _click_send(chat: ChatWidget, text: str):
    async def run():
        chat.message.value = text
        chat.send_button.click()
        assert chat.send_button.disabled, "Send must be disabled while the call is in flight"
        result = await chat.pending
        assert not chat.send_button.disabled
        return result

    return asyncio.run(run())


@pytest.mark.parametrize("dialect", ["1.0", "0.3"])
def test_click_send_logs_exactly_one_priced_event(demo_server, tmp_path, dialect):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo", dialect))
    chat = ChatWidget(tracker)
    chat.select("Priced Echo")
    result = _click_send(chat, "hello agent, what does this cost?")

    assert result.reply.text == "echo: hello agent, what does this cost?"
    assert result.reply.protocol == f"a2a-{dialect}"
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    assert e["status"] == "success" and e["agent_name"] == "priced-echo"
    # The echo agent reports no usage: the toolkit counts both texts with its tokenizer.
    assert e["input_tokens"] == count_tokens("hello agent, what does this cost?")[0] == 8
    assert e["output_tokens"] == count_tokens(result.reply.text)[0]
    assert e["token_source"] == "counted"
    expected = D("0.05") + e["input_tokens"] * D("0.000002") + e["output_tokens"] * D("0.000008")
    assert e["cost_usd"] == expected
    assert e["cost_query_usd"] + e["cost_input_usd"] + e["cost_output_usd"] == expected
    assert (e["cost_per_query"], e["input_cost_per_token"]) == (D("0.05"), D("0.000002"))
    # The widget shows the reply, its cost and token counts.
    shown = chat.transcript.children[-1].value
    assert "echo: hello agent" in shown and f"${expected.normalize()}" in shown
    assert f"{e['input_tokens']} in / {e['output_tokens']} out" in shown


@pytest.mark.parametrize(
    ("agent", "source"),
    [("summarizer", "reported"), ("translator", "reported"), ("echo", "counted")],
)
@pytest.mark.parametrize(
    ("stream", "switch"),
    [(True, " #stream"), (False, "")],
    ids=["streamed-chunks", "blocking"],
)
def test_the_same_agent_behind_a_1_0_and_a_0_3_server_gives_the_same_reply_and_cost(
    demo_server, tmp_path, agent, source, switch, stream
):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url(agent, "1.0"), "a10", "A 1.0")
    _register(tracker, demo_server.agent_url(agent, "0.3"), "a03", "A 0.3")  # 0.3-only server
    text = "compare the two dialects of this protocol please" + switch
    a = tracker.call_sync("a10", text, stream=stream)
    b = tracker.call_sync("a03", text, stream=stream)
    assert (a.reply.protocol, b.reply.protocol) == ("a2a-1.0", "a2a-0.3")
    assert (a.reply.status, b.reply.status) == ("success", "success")
    assert a.reply.text == b.reply.text and a.reply.text
    assert (a.reply.streamed_chunks > 0, b.reply.streamed_chunks > 0) == (stream, stream)
    assert a.event.token_source == b.event.token_source == source
    assert (a.event.input_tokens, a.event.output_tokens) == (
        b.event.input_tokens,
        b.event.output_tokens,
    )
    assert a.event.cost_usd == b.event.cost_usd is not None


def test_failed_calls_are_recorded_and_the_widget_keeps_working(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo"))
    _register(tracker, "http://127.0.0.1:9/nothing-listens-here", "gone", "Gone Agent")
    chat = ChatWidget(tracker, timeout=5)

    chat.select("Gone Agent")
    unreachable = _click_send(chat, "anyone there?")
    chat.select("Priced Echo")
    rpc_error = _click_send(chat, "please #error")
    ok = _click_send(chat, "still working?")

    assert (unreachable.event.status, unreachable.event.error_type) == ("error", "connect")
    assert (rpc_error.event.status, rpc_error.event.error_type) == ("error", "jsonrpc")
    assert "-32603" in rpc_error.event.error
    assert ok.event.status == "success"
    events = pd.read_parquet(tmp_path / "events").sort_values("timestamp")
    assert list(events["status"]) == ["error", "error", "success"]
    # Failed calls cost nothing by default but keep their token counts and reason.
    failed = events[events["status"] == "error"]
    assert (failed["cost_usd"] == 0).all() and (failed["input_tokens"] > 0).all()
    assert failed["error"].str.len().gt(0).all()
    assert "error" in chat.transcript.children[-3].value
    assert chat.status.value == ""  # the last call succeeded: no stale error shown


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("cost_per_query", "-1", "negative"),
        ("input_cost_per_token", "NaN", "finite"),
        ("output_cost_per_token", "inf", "finite"),
        ("cost_per_query", "twelve", "not a number"),
        ("name", "dup", "already exists"),
    ],
)
def test_form_refuses_bad_input_beside_the_field_and_saves_nothing(tmp_path, field, value, reason):
    tracker = Tracker(tmp_path)
    AgentForm(tracker.registry).fill(name="dup", display_name="D", url="http://h/x").submit()
    before = (tmp_path / "agents.json").read_text()
    form = AgentForm(tracker.registry)
    form.fill(**{"name": "new", "display_name": "New", "url": "http://h/y", field: value})
    assert form.submit() is None
    assert reason in form.errors[field].value
    assert "not saved" in form.status.value
    assert (tmp_path / "agents.json").read_text() == before
    assert len(Tracker(tmp_path).registry) == 1


def test_form_previews_unit_conversion(tmp_path):
    form = AgentForm(Tracker(tmp_path).registry)
    form.fill(input_cost_per_token="2", unit_input_cost_per_token="1M")
    assert "0.000002 $/token" in form.preview.value
    assert "1,000 input tokens cost $0.002" in form.preview.value
    form.fill(name="x", display_name="X", url="http://h/x")
    cfg = form.submit()
    assert cfg.current_prices.input_cost_per_token == D("0.000002")


def test_clear_starts_a_new_thread_and_the_agent_key_never_reaches_the_transcript(
    demo_server, tmp_path
):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("translator"))
    chat = ChatWidget(tracker)
    asked = _click_send(chat, "translate #input")
    assert chat.task_id == asked.reply.task_id and chat.context_id == asked.reply.context_id
    chat.clear_button.click()
    assert (chat.task_id, chat.context_id, chat.history, chat.results) == (None, None, [], [])
    assert chat.transcript.children == () and "Session: 0 call(s), $0" in chat.total.value
    assert chat.cancel() is False  # nothing in flight
    chat.set_agent_key("sk-agent-key-0123456789")
    assert "key set" in chat.agent_key.placeholder and chat.agent_key.value == ""
    chat.forget_agent_key()
    assert chat._agent_key is None and "never stored" in chat.agent_key.placeholder


def test_untrusted_reply_is_shown_as_text(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo"))
    chat = ChatWidget(tracker)
    _click_send(chat, "<img src=x onerror=alert(1)>")
    shown = chat.transcript.children[-1].value
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown


def test_caller_identity_is_attributed_and_the_key_only_masked(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo"))
    chat = ChatWidget(tracker)
    key = "sk-proj-0123456789abcdefghijKLMN"
    chat.api_key.value, chat.team.value, chat.project.value = key, "finance", "q4"
    chat.tags.value = "pilot, eu ,"
    result = _click_send(chat, "who pays for this?")
    e = pd.read_parquet(tmp_path / "events").iloc[0]
    assert (e["team"], e["project"], list(e["tags"])) == ("finance", "q4", ["pilot", "eu"])
    assert e["api_key"] == "sk-…KLMN" and e["api_key_hash"] == result.event.api_key_hash
    assert key not in repr(result) and key not in repr(chat.transcript.children)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_an_empty_message_is_not_sent_and_says_so(tmp_path):
    tracker = Tracker(tmp_path)
    AgentForm(tracker.registry).fill(
        name="x", display_name="X", url="http://127.0.0.1:9/x"
    ).submit()
    chat = ChatWidget(tracker)
    chat.message.value = "   "
    assert chat.click_send() is None
    assert "type a message first" in chat.status.value
    assert not chat.send_button.disabled and not (tmp_path / "events").exists()


def test_a_failed_write_is_kept_said_and_written_by_the_next_call(demo_server, tmp_path):
    import warnings

    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo"))
    events = tmp_path / "events"
    events.write_text("a file where the events folder should be")  # every write fails
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = tracker.call_sync("priced-echo", "one")
    assert first.ok and "1 event(s) kept in memory" in first.log_error
    assert [e.event_id for e in tracker.pending] == [first.event.event_id]
    events.unlink()
    second = tracker.call_sync("priced-echo", "two")
    assert second.log_error is None and tracker.pending == []
    ids = set(pd.read_parquet(events)["event_id"])
    assert ids == {first.event.event_id, second.event.event_id}  # nothing lost, none twice


def test_a_batching_tracker_writes_every_call_once_in_batches(demo_server, tmp_path):
    tracker = Tracker(tmp_path, batch_events=3, batch_age=60)
    _register(tracker, demo_server.agent_url("echo"))
    events = tmp_path / "events"

    def written() -> list[str]:
        return sorted(pd.read_parquet(events)["event_id"]) if events.exists() else []

    calls = [tracker.call_sync("priced-echo", f"call {i}") for i in range(2)]
    assert written() == [] and len(tracker.pending) == 2  # only enqueued
    calls += [tracker.call_sync("priced-echo", "call 2")]  # the third fills the batch
    assert written() == sorted(c.event.event_id for c in calls) and tracker.pending == []
    calls += [tracker.call_sync("priced-echo", "call 3")]
    assert len(written()) == 3
    tracker.flush()  # what exit does for what is left
    assert written() == sorted(c.event.event_id for c in calls)
    assert len(list(events.rglob("*.parquet"))) == 2  # two writes for four calls


def test_clear_after_cancel_also_clears_the_status_line(demo_server, tmp_path):
    tracker = Tracker(tmp_path)
    _register(tracker, demo_server.agent_url("echo"))
    chat = ChatWidget(tracker)
    chat._on_text = lambda _delta: chat.cancel()  # type: ignore[method-assign]
    result = asyncio.run(chat.send("a long answer #stream #slow"))
    assert result is not None and result.event.status == "canceled"
    assert "the call failed (canceled)" in chat.status.value
    chat.clear_button.click()
    assert chat.transcript.children == () and "Session: 0 call(s)" in chat.total.value
    assert chat.status.value == ""  # no stale red line about a call no longer shown


def test_a_call_refused_by_a_budget_says_so_in_the_thread_beside_the_message(tmp_path):
    from agentcost_nb.budgets import Budget

    tracker = Tracker(tmp_path, tz="UTC")
    AgentForm(tracker.registry).fill(
        name="x", display_name="X", url="http://127.0.0.1:9/x"
    ).submit()
    tracker.budgets.add(Budget("team", "<b>ops</b>", D("0"), period="day"))
    chat = ChatWidget(tracker)
    chat.team.value = "<b>ops</b>"
    assert asyncio.run(chat.send("hello <i>there</i>")) is None
    (turn,) = chat.transcript.children  # the message, with the refusal beside it
    assert "hello &lt;i&gt;there&lt;/i&gt;" in turn.value and "<i>" not in turn.value
    assert "not sent" in turn.value and "daily budget reached" in turn.value
    assert "&lt;b&gt;ops&lt;/b&gt;" in turn.value and "<b>ops</b>" not in turn.value
    assert "not sent" in chat.status.value
    assert (chat.history, chat.results) == ([], [])  # it does not count as sent
    assert "Session: 0 call(s)" in chat.total.value and not (tmp_path / "events").exists()
    assert not chat.send_button.disabled and chat.cancel_button.disabled


def test_the_session_total_never_shows_unpriced_calls_as_zero(demo_server, tmp_path):
    from agentcost_nb.registry import AgentConfig

    tracker = Tracker(tmp_path)
    tracker.registry.add(
        AgentConfig(name="free", display_name="Free", url=demo_server.agent_url("echo"))
    )
    chat = ChatWidget(tracker)
    chat.select("Free")
    _click_send(chat, "one")
    _click_send(chat, "two")
    assert chat.total.value == "Session: 2 call(s), unpriced"
    _register(tracker, demo_server.agent_url("echo"))
    chat.refresh_agents()
    chat.select("Priced Echo")
    result = _click_send(chat, "three")
    assert chat.total.value == (
        f"Session: 3 call(s), ${result.event.cost_usd.normalize()} + 2 unpriced"
    )
