import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from decimal import Decimal as D

import pytest

from agentcost_nb.billing import Caller
from agentcost_nb.budgets import Budget, period_start
from agentcost_nb.errors import BudgetExceeded
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import AgentForm, ChatWidget


def test_period_start_is_local_midnight_and_month_start():
    now = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)  # 8 Mar 23:30 in New York
    assert period_start(now, "day", "America/New_York") == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert period_start(now, "month", "America/New_York") == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert period_start(now, "day", "UTC") == datetime(2026, 3, 9, tzinfo=UTC)


def _setup(demo_server, tmp_path):
    tracker = Tracker(tmp_path, tz="UTC")
    AgentForm(tracker.registry).fill(name="e", display_name="E", url=demo_server.agent_url("echo"),
                                     cost_per_query="0.10").submit()  # fmt: skip
    return tracker


def test_hard_team_budget_refuses_once_reached_and_warns_before(demo_server, tmp_path):
    tracker = _setup(demo_server, tmp_path)
    tracker.budgets.add(Budget("team", "finance", D("0.30"), period="day"))
    finance = Caller(team="finance")
    first = tracker.call_sync("e", "one", caller=finance)
    assert first.warnings == ()
    tracker.call_sync("e", "two", caller=finance)
    third = tracker.call_sync("e", "three", caller=finance)  # $0.20 spent before: 67 %
    assert third.warnings == ()
    with pytest.raises(
        BudgetExceeded, match=r"team 'finance' daily budget reached: \$0.30 of \$0.30"
    ):
        tracker.call_sync("e", "four", caller=finance)
    assert len(tracker.log.to_pandas()) == 3  # the refused call was never sent
    # Another team is not affected.
    assert tracker.call_sync("e", "five", caller=Caller(team="support")).ok


def test_soft_key_budget_warns_in_the_chat_without_refusing(demo_server, tmp_path):
    tracker = _setup(demo_server, tmp_path)
    key = "sk-live-abcdefghijklmnop1234"
    tracker.budgets.add(Budget.for_key(key, D("0.12"), hard=False))
    assert key not in (tmp_path / "budgets.json").read_text()
    chat = ChatWidget(tracker)
    chat.api_key.value = key
    asyncio.run(chat.send("a"))
    result = asyncio.run(chat.send("b"))  # $0.10 of $0.12 spent before this call
    assert result.ok and "nearly reached" in result.warnings[0]
    assert "nearly reached" in chat.status.value
    assert asyncio.run(chat.send("c")).ok  # soft: over, still sent


def test_cli_sets_and_lists_budgets_with_spend(demo_server, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGENTCOST_NB_HOME": str(tmp_path), "FIN_KEY": "sk-fin-0123456789abcdef"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "agentcost_nb.cli", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    _setup(demo_server, tmp_path)
    assert cli("budgets", "set", "team", "finance", "0.25", "--period", "day").returncode == 0
    assert cli("budgets", "set", "api_key", "FIN_KEY", "5", "--soft").returncode == 0
    bad = cli("budgets", "set", "team", "x", "-3")
    assert bad.returncode == 2 and "must not be negative" in bad.stderr
    assert cli("send", "--agent", "e", "--team", "finance", "hi").returncode == 0
    listed = cli("budgets", "list", "--tz", "UTC").stdout
    assert "team 'finance' daily budget: $0.25 (hard), spent $0.10" in listed
    assert "monthly budget: $5.00 (soft), spent $0.00" in listed
    assert "sk-fin-0123456789abcdef" not in listed + (tmp_path / "budgets.json").read_text()
    refused = [cli("send", "--agent", "e", "--team", "finance", "again") for _ in range(3)][-1]
    assert refused.returncode == 2 and "daily budget reached" in refused.stderr


def test_an_agent_budget_matches_the_agent_name_as_the_registry_does(demo_server, tmp_path, capsys):
    import json

    from agentcost_nb.cli import main

    tracker = _setup(demo_server, tmp_path)  # agent "e", $0.10 a call
    # Set through the CLI: stored under the registered spelling.
    assert main(["--home", str(tmp_path), "budgets", "set", "agent", "E", "0.10"]) == 0
    assert json.loads((tmp_path / "budgets.json").read_text())[0]["value"] == "e"
    tracker.call_sync("e", "one")
    with pytest.raises(BudgetExceeded, match="agent 'e' monthly budget reached"):
        tracker.call_sync("E", "two")
    # Set from Python in another spelling: it still applies, and replaces the same budget.
    tracker.budgets.add(Budget("agent", "E", D("0.30")))
    assert len(list(tracker.budgets)) == 1
    tracker.call_sync("e", "two")
    tracker.call_sync("e", "three")
    with pytest.raises(BudgetExceeded, match=r"\$0.30 of \$0.30"):
        tracker.call_sync("e", "four")


@pytest.mark.parametrize("scope", ["agent", "team", "api_key"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_budget_value_is_refused(scope, value):
    from agentcost_nb.errors import ConfigError

    with pytest.raises(ConfigError, match="never applies"):
        Budget(scope, value, D("1"))


def test_cli_refuses_an_empty_value_and_an_unset_or_invalid_key_variable(
    tmp_path, capsys, monkeypatch
):
    from agentcost_nb.cli import main

    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    monkeypatch.setenv("EMPTY_KEY_VAR", "")
    home = ["--home", str(tmp_path)]
    cases = [
        (["budgets", "set", "team", "", "1"], "never applies"),
        (["budgets", "set", "api_key", "NO_SUCH_KEY_VAR", "1"], "NO_SUCH_KEY_VAR is not set"),
        (["budgets", "set", "api_key", "EMPTY_KEY_VAR", "1"], "EMPTY_KEY_VAR is empty"),
        (["budgets", "set", "api_key", "sk-live-secret-1234", "1"], "name of an environment variable"),
        (["send", "--agent", "a", "--api-key-env", "NO_SUCH_KEY_VAR", "hi"], "--api-key-env: environment variable NO_SUCH_KEY_VAR is not set"),
        (["send", "--agent", "a", "--auth-env", "NO_SUCH_KEY_VAR", "hi"], "--auth-env: environment variable NO_SUCH_KEY_VAR is not set"),
        (["send", "--agent", "a", "--auth-env", "sk-live-secret-1234", "hi"], "name of an environment variable"),
    ]  # fmt: skip
    for argv, words in cases:
        assert main([*home, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, (argv, err)
        assert "sk-live-secret-1234" not in err
    assert not (tmp_path / "budgets.json").exists() and not (tmp_path / "events").exists()


def test_a_budgets_file_with_wrong_types_is_refused(tmp_path):
    import json

    from agentcost_nb.budgets import Budgets
    from agentcost_nb.errors import ConfigError

    path = tmp_path / "budgets.json"
    good = {"scope": "team", "value": "t", "limit_usd": "1", "period": "day", "hard": True}
    for bad, words in [({"value": ""}, "never applies"), ({"hard": "false"}, "true or false"),
                       ({"limit_usd": "0,5"}, "use a dot"), ({"limit_usd": True}, "not a price"),
                       ({"warn_at": "2"}, "warn_at"), ({"colour": "red"}, "colour")]:  # fmt: skip
        path.write_text(json.dumps([{**good, **bad}]))
        with pytest.raises(ConfigError, match=words):
            Budgets(path)
    path.write_text("[" * 100_000)
    with pytest.raises(ConfigError, match="not a valid budgets file"):
        Budgets(path)


def test_a_raw_key_given_as_a_key_budget_is_kept_only_as_its_hash(tmp_path):
    from agentcost_nb.budgets import Budget, Budgets
    from agentcost_nb.keys import key_hash

    key = "sk-CALLERSECRET-abcdefghijklmnopqrstuvwxyz-0123456789"
    budgets = Budgets(tmp_path / "budgets.json")
    budgets.add(Budget("api_key", key, Decimal("0.01")))
    assert key not in (tmp_path / "budgets.json").read_text()
    assert [b.value for b in budgets] == [key_hash(key)]
    assert budgets.applicable("echo", key, "")  # and it applies to that key's calls
    # Hand-written into the file: read as its hash, and the file no longer holds it.
    (tmp_path / "budgets.json").write_text(
        json.dumps([{"scope": "api_key", "value": key, "limit_usd": "1"}])
    )
    again = Budgets(tmp_path / "budgets.json")
    assert [b.value for b in again] == [key_hash(key)]
    assert key not in (tmp_path / "budgets.json").read_text()
    assert all(key not in b.label for b in again)
