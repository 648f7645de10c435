"""Bad configuration: clear errors (file, line, field); the file is never overwritten with less."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _logtools import make_event

from agentcost_nb.errors import ConfigError
from agentcost_nb.eventlog import EventLog
from agentcost_nb.registry import AgentConfig, Registry

GOOD = {"name": "support-bot", "display_name": "Support", "url": "http://127.0.0.1:1/x"}


def _agent(name: str) -> AgentConfig:
    return AgentConfig(name=name, display_name=name.title(), url=f"http://127.0.0.1:1/{name}")


BROKEN = {
    # case: (file text, field named (None: no single field), words in the message)
    "invalid JSON": ('{\n  "version": 1,\n  "agents": [\n    {"name": "a",,}\n  ]\n}\n', None, "not valid JSON"),
    "trailing comma": ('{"version": 1, "agents": [\n  {"name": "a", "display_name": "A", "url": "http://x/y"},\n]}', None, "not valid JSON"),
    "negative price": ({"version": 1, "agents": [GOOD, {**GOOD, "name": "b", "prices": [{"cost_per_query": "0.1"}, {"input_cost_per_token": "-3"}]}]}, "input_cost_per_token", "must not be negative"),
    "NaN price": ('{\n "version": 1,\n "agents": [\n  {"name": "a", "display_name": "A",\n   "url": "http://x/y",\n   "prices": [{"output_cost_per_token": NaN}]}\n ]\n}', "output_cost_per_token", "finite"),
    "infinite price": ({"version": 1, "agents": [{**GOOD, "prices": [{"cost_per_query": "Infinity"}]}]}, "cost_per_query", "finite"),
    "float price": ({"version": 1, "agents": [{**GOOD, "prices": [{"cost_per_query": "ten"}]}]}, "cost_per_query", "not a number"),
    "unknown agent field": ({"version": 1, "agents": [{**GOOD, "colour": "red"}]}, "colour", "unknown field"),
    "unknown price field": ({"version": 1, "agents": [{**GOOD, "prices": [{"cost_per_request": "1"}]}]}, "cost_per_request", "unknown field"),
    "unknown top-level field": ({"version": 1, "agents": [], "teams": []}, "teams", "unknown field"),
    "missing fields": ({"version": 1, "agents": [GOOD, {"name": "x"}]}, None, "missing field(s) display_name, url"),
    "bad url": ({"version": 1, "agents": [{**GOOD, "url": "ftp://x"}]}, "url", "http"),
    "bad retries": ({"version": 1, "agents": [{**GOOD, "retries": -1}]}, "retries", "whole number"),
    "bad time": ({"version": 1, "agents": [{**GOOD, "prices": [{"effective_from": "yesterday"}]}]}, "effective_from", "ISO 8601"),
    "duplicate key": ('{"version": 1,\n "agents": [{"name": "a",\n   "name": "b", "display_name": "A", "url": "http://x/y"}]}', "name", "twice"),
    "duplicate agent": ({"version": 1, "agents": [GOOD, {**GOOD, "name": "Support-Bot"}]}, "name", "duplicate Agent Name"),
    "newer version": ({"version": 2, "agents": []}, "version", "another version"),
    "not an object": ('["just", "a", "list"]', None, "expected"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_hand_edited_mistake_names_the_file_the_line_and_the_field(tmp_path, case):
    text, field, words = BROKEN[case]
    if not isinstance(text, str):
        text = json.dumps(text, indent=2)
    path = tmp_path / "agents.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Registry(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line ")
    assert words in message
    line = int(message.split(", line ")[1].split(":")[0].split(",")[0])
    assert 1 <= line <= len(text.splitlines())
    if field is not None:
        assert field in message
        assert f'"{field}"' in text.splitlines()[line - 1], (case, line)
    assert path.read_text() == text  # reading never rewrites


def test_a_registry_that_did_not_load_is_never_saved_over(tmp_path):
    path = tmp_path / "agents.json"
    Registry(path).add(_agent("alpha"))
    broken = path.read_text().replace('"alpha"', '"alpha",,', 1)
    path.write_text(broken)
    reg = Registry(path, strict=False)
    assert reg.load_error and str(path) in reg.load_error and "line" in reg.load_error
    assert len(reg) == 0
    with pytest.raises(ConfigError, match="fix the registry file first"):
        reg.add(_agent("beta"))
    with pytest.raises(ConfigError, match="not saved"):
        reg.save()
    assert path.read_text() == broken and len(reg) == 0
    # Fixed by hand: the same object picks it up and works again.
    path.write_text(broken.replace('"alpha",,', '"alpha"', 1))
    reg.add(_agent("beta"))
    assert [a.name for a in Registry(path)] == ["alpha", "beta"] and reg.load_error is None


def test_changes_made_elsewhere_are_kept_not_overwritten(tmp_path):
    path = tmp_path / "agents.json"
    mine = Registry(path)
    mine.add(_agent("alpha"))
    Registry(path).add(_agent("beta"))  # another kernel, or the CLI
    mine.add(_agent("gamma"))
    assert [a.name for a in Registry(path)] == ["alpha", "beta", "gamma"]
    mine.remove("alpha")
    assert [a.name for a in Registry(path)] == ["beta", "gamma"]


def test_a_change_racing_another_writer_is_refused_and_undone_in_memory(tmp_path, monkeypatch):
    path = tmp_path / "agents.json"
    mine = Registry(path)
    mine.add(_agent("alpha"))
    monkeypatch.setattr(mine, "_refresh", lambda: None)  # the other write lands just after
    Registry(path).add(_agent("beta"))
    with pytest.raises(ConfigError, match="changed by someone else"):
        mine.add(_agent("gamma"))
    assert [a.name for a in mine] == ["alpha"]
    assert [a.name for a in Registry(path)] == ["alpha", "beta"]


def test_the_previous_version_is_backed_up_before_each_overwrite(tmp_path):
    path = tmp_path / "agents.json"
    reg = Registry(path)
    reg.add(_agent("alpha"))
    first = path.read_text()
    assert not path.with_name("agents.json.bak").exists()  # nothing to back up yet
    reg.add(_agent("beta"))
    assert path.with_name("agents.json.bak").read_text() == first
    assert not list(tmp_path.glob(".agents.json.*"))  # no temp files left


def test_the_app_starts_with_a_broken_registry_and_says_what_is_wrong(tmp_path):
    from agentcost_nb.widgets import App

    EventLog(tmp_path / "events").append([make_event("old-1", 1), make_event("old-2", 2)])
    path = tmp_path / "agents.json"
    text = json.dumps({"version": 1, "agents": [{**GOOD, "prices": [{"cost_per_query": "-1"}]}]})
    path.write_text(text)
    app = App(tmp_path, demo=False)
    assert str(path) in app.problem.value and "line 1" in app.problem.value
    assert "cost_per_query" in app.problem.value and "read-only" in app.problem.value
    assert app.read_only
    # The dashboard still reads the log.
    app.dashboard.refresh()
    assert "Total spend" in app.dashboard.kpis.value and not app.dashboard.message.value
    assert app.dashboard.event_log.read().num_rows == 2
    assert app.tabs.selected_index == 2
    assert path.read_text() == text


def test_the_app_starts_with_a_broken_budgets_file(tmp_path):
    from agentcost_nb.widgets import App

    (tmp_path / "budgets.json").write_text("{not json")
    app = App(tmp_path, demo=False)
    assert "budgets.json" in app.problem.value and app.read_only


def test_the_cli_reports_a_broken_registry_in_one_line(tmp_path, capsys):
    from agentcost_nb.cli import main

    (tmp_path / "agents.json").write_text(json.dumps({"version": 1, "agents": [{"name": "x"}]}))
    assert main(["--home", str(tmp_path), "agents", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(Path(tmp_path) / "agents.json") in err and "line" in err and "display_name" in err


WRONG_TYPES = {
    # field: value written by hand that must be refused, never coerced and saved back
    "charge_query_on_failure": "false",
    "charge_input_on_failure": 0,
    "stream": "yes",
    "display_name": None,
    "name": 123,
    "model": ["a"],
    "endpoint_type": None,
    "dialect": 1.0,
    "auth_env": False,
    "url": {"host": "h"},
    "created_at": None,
    "prices": {},
}


@pytest.mark.parametrize("field", [*WRONG_TYPES, "prices=null", "prices=[]", "name\\n", "version"])
def test_a_wrong_type_is_refused_with_file_line_and_field(tmp_path, field):
    agent = {**GOOD, "model": "m"}
    top = {"version": 1}
    if field == "prices=null":
        field, agent["prices"] = "prices", None
    elif field == "prices=[]":
        field, agent["prices"] = "prices", []
    elif field == "name\\n":
        field, agent["name"] = "name", "support\n"
    elif field == "version":
        top["version"] = True
    else:
        agent[field] = WRONG_TYPES[field]
    text = json.dumps({**top, "agents": [agent]}, indent=2)
    path = tmp_path / "agents.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Registry(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line ") and field in message
    line = int(message.split(", line ")[1].split(":")[0])
    assert f'"{field}"' in text.splitlines()[line - 1]
    reg = Registry(path, strict=False)
    with pytest.raises(ConfigError):
        reg.add(_agent("other"))
    assert path.read_text() == text  # never saved over


def test_two_price_versions_at_the_same_time_are_refused(tmp_path):
    path = tmp_path / "agents.json"
    when = "2026-01-01T00:00:00Z"
    prices = [{"effective_from": when, "cost_per_query": "1"},
              {"effective_from": when, "cost_per_query": "2"}]  # fmt: skip
    path.write_text(json.dumps({"version": 1, "agents": [{**GOOD, "prices": prices}]}, indent=2))
    with pytest.raises(ConfigError, match=r"line 1\d: .*prices\[1\]\.effective_from: two price"):
        Registry(path)


def test_form_input_is_typed_strictly_too():
    from agentcost_nb.registry import validate_agent_input

    cfg, problems = validate_agent_input({**GOOD, "charge_input_on_failure": "false"})
    assert problems == {} and cfg.charge_input_on_failure is False
    cfg, problems = validate_agent_input({**GOOD, "charge_query_on_failure": "TRUE"})
    assert cfg.charge_query_on_failure is True
    for field, value in [("charge_input_on_failure", "maybe"), ("charge_query_on_failure", 2),
                         ("name", 123), ("dialect", 1.0), ("model", ["a"]),
                         ("name", "sup\nport"), ("display_name", "a\nb")]:  # fmt: skip
        cfg, problems = validate_agent_input({**GOOD, field: value})
        assert cfg is None and field in problems, (field, value)
