import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from agentcost_nb.errors import ConfigError, ValidationError
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig, Registry, validate_agent_input

GOOD = {"name": "support-bot", "display_name": "Support", "url": "http://127.0.0.1:1/x"}


def test_valid_input_builds_an_agent_with_mixed_prices():
    cfg, problems = validate_agent_input(
        {
            **GOOD,
            "cost_per_query": "0.05",
            "input_cost_per_token": "2",
            "output_cost_per_token": "8",
        },
        {"input_cost_per_token": "1M", "output_cost_per_token": "1M"},
    )
    assert problems == {}
    p = cfg.current_prices
    assert (p.cost_per_query, p.input_cost_per_token, p.output_cost_per_token) == (
        D("0.05"), D("0.000002"), D("0.000008"),
    )  # fmt: skip


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("cost_per_query", "-0.01", "negative"),
        ("input_cost_per_token", "nan", "finite"),
        ("output_cost_per_token", "Infinity", "finite"),
        ("cost_per_query", "ten cents", "not a number"),
        ("url", "ftp://x", "http"),
        ("name", "has space", "letters"),
        ("name", "", "letters"),
    ],
)
def test_bad_input_names_the_field(field, value, reason):
    cfg, problems = validate_agent_input({**GOOD, field: value})
    assert cfg is None
    assert reason in problems[field]


def test_round_trip_is_exact_human_readable_and_atomic(tmp_path):
    path = tmp_path / "agents.json"
    reg = Registry(path)
    cfg, _ = validate_agent_input({**GOOD, "input_cost_per_token": "0.0000003"})
    reg.add(cfg)
    text = path.read_text()
    assert '"input_cost_per_token": "0.0000003"' in text  # a string: exact, and diff-friendly
    assert not list(tmp_path.glob(".*tmp"))
    again = Registry(path).get("support-bot")
    assert again.current_prices.input_cost_per_token == D("0.0000003")
    assert again == reg.get("support-bot")


def test_duplicate_names_are_refused_ignoring_case(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    reg.add(validate_agent_input(GOOD)[0])
    with pytest.raises(ValidationError, match="already exists") as info:
        reg.add(validate_agent_input({**GOOD, "name": "Support-Bot"})[0])
    assert "name" in info.value.fields
    assert len(Registry(tmp_path / "agents.json")) == 1


def test_price_change_adds_a_version_and_keeps_identity(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    t0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
    reg.add(AgentConfig(**GOOD, prices=(PriceSheet(cost_per_query=D("0.01"), effective_from=t0),)))
    t1 = t0 + timedelta(hours=3)
    reg.set_prices("support-bot", PriceSheet(cost_per_query=D("0.02")), effective_from=t1)
    agent = Registry(tmp_path / "agents.json").get("support-bot")
    assert agent.name == "support-bot"
    assert agent.price_at(t0 + timedelta(hours=1)).cost_per_query == D("0.01")
    assert agent.price_at(t1 + timedelta(seconds=1)).cost_per_query == D("0.02")
    with pytest.raises(ValidationError):
        reg.set_prices("support-bot", PriceSheet(), effective_from=t0)


def test_broken_registry_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "agents.json"
    path.write_text('{\n  "version": 1,\n  "agents": [\n    {"name": "a",,}\n  ]\n}\n')
    with pytest.raises(ConfigError, match=r"agents.json, line 4"):
        Registry(path)
    path.write_text(json.dumps({"version": 1, "agents": [
        {**GOOD, "prices": [{"input_cost_per_token": "-3"}]}]}))  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"agents\[0\].*input_cost_per_token: must not be negative"
    ):
        Registry(path)
    path.write_text(json.dumps({"version": 1, "agents": [{**GOOD, "colour": "red"}]}))
    with pytest.raises(ConfigError, match="unknown field.*colour"):
        Registry(path)
    path.write_text(json.dumps({"version": 1, "agents": [{"name": "x"}]}))
    with pytest.raises(ConfigError, match="missing field.*display_name"):
        Registry(path)


BAD_URLS = [
    ("http://[::1", "not a valid URL"),
    ("http://exa mple.com/", "spaces"),
    ("http://h/\tx", "control"),
    ("http://127.0.0.1:99999/", "port"),
    ("http://h:0/", "port"),
    ("http://h:abc/", "port"),
    ("ftp://h/", "http"),
    ("javascript:alert(1)", "http"),
    ("http:///x", "no host"),
    ("http://", "no host"),
    ("http://exa%20mple.com/", "host"),
    ("http://[zz]/", "not a valid URL"),
    ("http://user:pw@h/", "password"),
    ("", "required"),
]


@pytest.mark.parametrize("url, reason", BAD_URLS)
def test_a_bad_url_is_refused_with_a_reason_not_a_traceback(url, reason):
    cfg, problems = validate_agent_input({**GOOD, "url": url})
    assert cfg is None and reason in problems["url"]


@pytest.mark.parametrize("url", ["http://[::1]:8080/x", "HTTPS://Example.com", "http://h:65535/"])
def test_good_urls_pass(url):
    assert validate_agent_input({**GOOD, "url": url})[1] == {}


def test_a_bad_url_in_the_form_the_cli_and_the_file(tmp_path, capsys):
    from agentcost_nb.cli import main
    from agentcost_nb.widgets.agent_form import AgentForm

    reg = Registry(tmp_path / "agents.json")
    form = AgentForm(reg).fill(name="ok2", url="http://[::1")
    assert form.submit() is None and "not a valid URL" in form.errors["url"].value
    home = ["--home", str(tmp_path)]
    assert main([*home, "agents", "add", "x4", "--url", "http://[::1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "url: not a valid URL" in err
    path = tmp_path / "agents.json"
    path.write_text(
        json.dumps({"version": 1, "agents": [{**GOOD, "url": "http://[::1"}]}, indent=2)
    )
    assert main([*home, "agents", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, line 7: ") and "url" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://h:abc/", "http://h/\x00", "http://[zz]/", "http://[::1]x/",
     "http://h:/", "http://[::1]:8080/x", "https://münchen.de/a", "http://a.b.c:1/p?q=1#f"],
)  # fmt: skip
def test_every_url_that_passes_is_one_httpx_can_send_to(url):
    import httpx

    if validate_agent_input({**GOOD, "url": url})[1] == {}:
        parsed = httpx.URL(url)
        assert parsed.scheme in ("http", "https") and parsed.host
