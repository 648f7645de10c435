"""The agent form's advanced prices and failure policy, and the price editor (no browser)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from agentcost_nb.registry import Registry
from agentcost_nb.widgets import App
from agentcost_nb.widgets.agent_form import AgentForm, PriceEditor


def _agent(reg: Registry, name="a", **prices):
    return (
        AgentForm(reg)
        .fill(name=name, display_name=name.upper(), url="http://h/x", **prices)
        .submit()
    )


def test_cached_and_reasoning_prices_and_failure_policy_are_saved(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    cfg = AgentForm(reg).fill(
        name="a", display_name="A", url="http://h/a", input_cost_per_token="3",
        unit_input_cost_per_token="1M", cached_input_cost_per_token="0.3",
        unit_cached_input_cost_per_token="1M", reasoning_cost_per_token="0.00002",
        charge_query_on_failure=True,
    ).submit()  # fmt: skip
    p = Registry(tmp_path / "agents.json").get("a").current_prices
    assert p.cached_input_cost_per_token == D("0.0000003")
    assert p.reasoning_cost_per_token == D("0.00002")
    assert cfg.charge_query_on_failure and not cfg.charge_input_on_failure


def test_preview_makes_a_per_million_slip_visible(tmp_path):
    form = AgentForm(Registry(tmp_path / "agents.json"))
    form.fill(output_cost_per_token="15", unit_output_cost_per_token="1M")
    assert "stored as 0.000015 $/token" in form.preview.value
    assert "1,000 output tokens cost $0.015" in form.preview.value
    form.fill(output_cost_per_token="15", unit_output_cost_per_token="token")
    assert "1,000 output tokens cost $15,000.00" in form.preview.value


def test_price_editor_adds_a_dated_version_and_keeps_identity(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    _agent(reg, cost_per_query="0.01")
    editor = PriceEditor(reg)
    assert editor.agent.value == "a"
    editor.prices.inputs["cost_per_query"].value = "0.02"
    editor.prices.inputs["input_cost_per_token"].value = "2"
    editor.prices.units["input_cost_per_token"].value = "1M"
    when = datetime.now(UTC) + timedelta(hours=1)
    editor.effective_from.value = when.isoformat()
    agent = editor.submit()
    assert agent.name == "a" and len(agent.prices) == 2
    stored = Registry(tmp_path / "agents.json").get("a")
    assert stored.price_at(datetime.now(UTC)).cost_per_query == D("0.01")
    assert stored.price_at(when).cost_per_query == D("0.02")
    assert stored.price_at(when).input_cost_per_token == D("0.000002")
    assert editor.versions.value.count("<tr>") == 3  # header + two versions
    assert "added version 2" in editor.status.value


def test_price_editor_refuses_bad_prices_and_times_beside_the_field(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    _agent(reg, cost_per_query="0.01")
    before = (tmp_path / "agents.json").read_text()
    editor = PriceEditor(reg)
    editor.prices.inputs["output_cost_per_token"].value = "-1"
    editor.effective_from.value = "yesterday-ish"
    assert editor.submit() is None
    assert "negative" in editor.prices.errors["output_cost_per_token"].value
    assert "ISO 8601" in editor.effective_error.value
    editor.prices.inputs["output_cost_per_token"].value = "1"
    editor.effective_from.value = "1970-01-01T00:00Z"  # the time of the first version
    assert editor.submit() is None
    assert "already effective at 1970-01-01T00:00:00Z" in editor.effective_error.value
    assert (tmp_path / "agents.json").read_text() == before


def test_app_wires_the_forms_to_the_chat(tmp_path):
    app = App(tmp_path, demo=False)
    app.form.fill(name="new-agent", display_name="New Agent", url="http://h/x", cost_per_query="1")
    app.form.submit()
    assert ("New Agent", "new-agent") in app.chat.agent.options
    assert ("New Agent", "new-agent") in app.price_editor.agent.options
    assert "new-agent" in app.agents_table.value


def test_connection_settings_are_saved_from_the_form(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    cfg = AgentForm(reg).fill(
        name="gw", display_name="Gateway", url="http://h/v1", endpoint_type="openai-chat",
        dialect="0.3", stream=False, retries=2, auth_env="GW_KEY", cost_per_query="0.01",
    ).submit()  # fmt: skip
    stored = Registry(tmp_path / "agents.json").get("gw")
    assert (stored.endpoint_type, stored.dialect, stored.stream, stored.retries, stored.auth_env) == (
        "openai-chat", "0.3", False, 2, "GW_KEY",
    )  # fmt: skip
    assert cfg == stored
    form = AgentForm(reg).fill(name="bad", display_name="B", url="http://h/x", auth_env="not a var")
    assert form.submit() is None and "environment variable" in form.errors["auth_env"].value


def test_demo_chat_completions_agent_is_registered_and_priced(demo_server, tmp_path):
    from agentcost_nb.demo_setup import register_demo_agents
    from agentcost_nb.tracker import Tracker

    tracker = Tracker(tmp_path)
    register_demo_agents(tracker.registry, demo_server.base_url)
    agent = tracker.registry.get("chat-completions")
    assert agent.endpoint_type == "openai-chat"
    result = tracker.call_sync("chat-completions", "price this reply")
    assert result.ok and result.event.protocol == "openai-chat"
    assert result.event.token_source == "reported"
    e = result.event
    p = agent.current_prices
    cached = e.cached_input_tokens
    expected = (e.input_tokens - cached) * p.input_cost_per_token + cached * p.cached_input_cost_per_token \
        + e.output_tokens * p.output_cost_per_token  # fmt: skip
    assert e.cost_usd == expected and e.cost_usd > 0


def test_price_editor_starts_from_the_current_prices_so_nothing_is_dropped(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    _agent(
        reg,
        cost_per_query="0.05",
        input_cost_per_token="0.000002",
        output_cost_per_token="0.000008",
    )
    editor = PriceEditor(reg)
    assert editor.prices.inputs["output_cost_per_token"].value == "0.000008"
    editor.prices.inputs["cost_per_query"].value = "0.04"  # change one price only
    agent = editor.submit()
    p = agent.current_prices
    assert (p.cost_per_query, p.input_cost_per_token, p.output_cost_per_token) == (
        D("0.04"), D("0.000002"), D("0.000008"),
    )  # fmt: skip
    assert editor.prices.inputs["cost_per_query"].value == "0.04"  # shows the new current
    editor.prices.inputs["output_cost_per_token"].value = ""  # clearing a field unsets it
    assert editor.submit().current_prices.output_cost_per_token is None


def test_fill_names_unknown_fields(tmp_path):
    import pytest

    with pytest.raises(TypeError, match="unknown field.*input_cost.*known:"):
        AgentForm(Registry(tmp_path / "agents.json")).fill(input_cost="1")


def test_fill_reads_a_switch_strictly(tmp_path):
    import pytest

    form = AgentForm(Registry(tmp_path / "agents.json"))
    form.fill(charge_input_on_failure="false", charge_query_on_failure="true")
    assert form.charge_input_on_failure.value is False and form.charge_query_on_failure.value
    with pytest.raises(TypeError, match="charge_input_on_failure"):
        form.fill(charge_input_on_failure="nope")


def test_a_scheduled_version_is_not_current_and_does_not_block_changes(tmp_path, capsys):
    from agentcost_nb.cli import main

    reg = Registry(tmp_path / "agents.json")
    _agent(reg, name="ok1", cost_per_query="0.1")
    editor = PriceEditor(reg)
    editor.prices.inputs["cost_per_query"].value = "9"
    editor.effective_from.value = "2999-01-01"
    assert editor.submit() is not None and "(scheduled)" in editor.status.value
    assert editor.prices.inputs["cost_per_query"].value == "0.1"  # prefilled from what applies now
    assert "scheduled" in editor.versions.value and "current" in editor.versions.value
    agent = Registry(tmp_path / "agents.json").get("ok1")
    assert agent.current_prices.cost_per_query == D("0.1")
    assert [p.cost_per_query for p in agent.scheduled_prices] == [D("9")]

    home = ["--home", str(tmp_path)]
    assert main([*home, "agents", "set-price", "ok1", "--cost-per-query", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "ok1: price version 2 effective from" in out and "scheduled" not in out
    assert main([*home, "agents", "list"]) == 0
    listed = capsys.readouterr().out
    assert "query $0.20" in listed.splitlines()[0]
    assert "  scheduled from 2999-01-01T00:00:00+00:00: query $9.00" in listed
    agent = Registry(tmp_path / "agents.json").get("ok1")
    assert [p.cost_per_query for p in agent.prices] == [D("0.1"), D("0.2"), D("9")]  # in order
    assert agent.current_prices.cost_per_query == D("0.2")

    # --effective-from: UTC when no zone; any free time, also between versions.
    args = [*home, "agents", "set-price", "ok1", "--cost-per-query", "0.5"]
    assert main([*args, "--effective-from", "2500-06-01T12:00"]) == 0
    assert "effective from 2500-06-01T12:00:00+00:00 (scheduled" in capsys.readouterr().out
    assert main([*args, "--effective-from", "2500-06-01T14:00+02:00"]) == 2  # the same instant
    assert "already effective at 2500-06-01T12:00:00Z" in capsys.readouterr().err
    assert main([*args, "--effective-from", "soon"]) == 2
    assert "ISO 8601" in capsys.readouterr().err
    agent = Registry(tmp_path / "agents.json").get("ok1")
    assert [p.cost_per_query for p in agent.prices] == [D("0.1"), D("0.2"), D("0.5"), D("9")]


def test_whatif_uses_the_prices_in_effect_now_not_a_scheduled_version(tmp_path):
    import pandas as pd

    from agentcost_nb.pricing import PriceSheet
    from agentcost_nb.repricing import reprice

    reg = Registry(tmp_path / "agents.json")
    _agent(reg, name="w", cost_per_query="0.1")
    reg.set_prices(
        "w", PriceSheet(cost_per_query=D("9")), effective_from=datetime(2999, 1, 1, tzinfo=UTC)
    )
    events = pd.DataFrame([{"agent_name": "w", "status": "success", "cost_usd": D("0.1")}])
    assert reprice(events, reg)["repriced_usd"].tolist() == [D("0.1")]


def test_long_labels_are_sized_to_fit_and_placeholders_kept_short(tmp_path):
    """ipywidgets gives checkboxes and buttons a fixed width: long texts were cut ("…").

    The real measurement is tests/browser/test_layout_browser.py; this checks the settings.
    """
    app = App(tmp_path, demo=False)
    form, chat = app.form, app.chat
    for box in (form.stream, form.charge_query_on_failure, form.charge_input_on_failure):
        assert (box.indent, box.layout.width, box.style.description_width) == (
            False,
            "auto",
            "initial",
        ), box.description
    assert app.whatif.button.layout.width == "auto"
    fields = [
        chat.agent_key,
        chat.api_key,
        form.inputs["auth_env"],
        app.price_editor.effective_from,
    ]
    for field in fields:
        assert len(field.placeholder) <= 30, field.placeholder
    # The detail moved to a tooltip and the help line under the fields.
    assert "never stored" in chat.agent_key.tooltip and "mask" in chat.api_key.tooltip
    assert "environment variable" in form.inputs["auth_env"].tooltip
    help_line = " ".join(getattr(c, "value", "") for c in chat.children)
    assert "never stored" in help_line and "stored only masked" in help_line
    chat.set_agent_key("sk-agent-key-0123456789")
    chat.set_api_key("sk-proj-0123456789abcdefghijKLMN")
    assert len(chat.agent_key.placeholder) <= 30 and len(chat.api_key.placeholder) <= 30


def test_agents_sharing_a_display_name_are_told_apart_and_the_form_warns(tmp_path):
    import pytest

    from agentcost_nb.errors import AgentCostError

    app = App(tmp_path, demo=False)
    _agent(app.tracker.registry, "solo")
    app.form.fill(name="echo", display_name="Echo Agent", url="http://h/e").submit()
    assert "note" not in app.form.status.value and app.form.errors["display_name"].value == ""
    app.form.fill(name="echo2", display_name="Echo Agent ")  # typing: a warning, not a refusal
    warning = app.form.errors["display_name"].value
    assert "acnb-warning" in warning and "echo already has this display name" in warning
    assert app.form.same_display_name() == ["echo"]
    cfg = app.form.fill(url="http://h/e2").submit()
    assert cfg is not None and cfg.display_name == "Echo Agent"  # saved all the same
    assert "saved" in app.form.status.value and "note: echo already has" in app.form.status.value
    assert app.form.errors["display_name"].value == ""  # the form is empty again
    expected = [("Echo Agent (echo)", "echo"), ("Echo Agent (echo2)", "echo2"), ("SOLO", "solo")]
    assert sorted(app.chat.agent.options) == expected
    assert sorted(app.price_editor.agent.options) == expected
    app.chat.select("Echo Agent (echo2)")
    assert app.chat.agent.value == "echo2"
    app.chat.select("echo")
    assert app.chat.agent.value == "echo"
    app.chat.select("SOLO")  # a display name only one agent has still works
    assert app.chat.agent.value == "solo"
    with pytest.raises(AgentCostError, match=r"2 agents are called 'Echo Agent'.*echo, echo2"):
        app.chat.select("Echo Agent")


def test_refresh_on_the_agents_tab_picks_up_agents_added_elsewhere(tmp_path):
    app = App(tmp_path, demo=False)
    _agent(app.tracker.registry, "here")
    elsewhere = Registry(tmp_path / "agents.json")  # the CLI, another kernel
    _agent(elsewhere, "cli-bot")
    assert ("CLI-BOT", "cli-bot") not in app.chat.agent.options  # not seen yet
    app.refresh_agents_button.click()
    assert ("CLI-BOT", "cli-bot") in app.chat.agent.options
    assert ("CLI-BOT", "cli-bot") in app.price_editor.agent.options
    assert "cli-bot" in app.agents_table.value and "2 agent(s)" in app.agents_status.value
    assert app.tracker.registry.get("cli-bot").url == "http://h/x"  # callable from the chat
    (tmp_path / "agents.json").write_text('{"version": 1, "agents": [')  # broken by hand
    assert app.refresh_agents() is False
    assert "cannot reload the agents" in app.agents_status.value
    assert "agents.json" in app.agents_status.value
    assert ("CLI-BOT", "cli-bot") in app.chat.agent.options  # what was loaded stays
