"""The CLI runs as a real subprocess, the way a script would use it."""

import json
import os
import subprocess
import sys
from decimal import Decimal as D

import pandas as pd


def _cli(home, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "agentcost_nb.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AGENTCOST_NB_HOME": str(home), **(env or {})},
    )


def test_add_list_send_logs_one_priced_event(demo_server, tmp_path):
    add = _cli(tmp_path, "agents", "add", "cli-echo", "--display-name", "CLI Echo",
               "--url", demo_server.agent_url("echo"), "--cost-per-query", "0.05",
               "--input-cost-per-token", "2", "--output-cost-per-token", "8", "--unit", "1M")  # fmt: skip
    assert add.returncode == 0, add.stderr
    listed = _cli(tmp_path, "agents", "list")
    assert "cli-echo\tCLI Echo" in listed.stdout and "$0.000002" in listed.stdout

    sent = _cli(tmp_path, "send", "--agent", "cli-echo", "--team", "finance", "hello from the CLI")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "echo: hello from the CLI"
    events = pd.read_parquet(tmp_path / "events")
    assert len(events) == 1
    e = events.iloc[0]
    expected = D("0.05") + e["input_tokens"] * D("0.000002") + e["output_tokens"] * D("0.000008")
    assert e["cost_usd"] == expected and e["team"] == "finance"
    assert f"${expected.normalize()}" in sent.stderr


def test_failed_send_exits_1_and_is_still_recorded(tmp_path):
    _cli(
        tmp_path, "agents", "add", "gone", "--url", "http://127.0.0.1:9/x", "--cost-per-query", "1"
    )
    sent = _cli(tmp_path, "send", "--agent", "gone", "--timeout", "5", "hi")
    assert sent.returncode == 1
    assert "error: could not connect" in sent.stderr and "127.0.0.1:9" in sent.stderr
    assert "error: error:" not in sent.stderr
    events = pd.read_parquet(tmp_path / "events")
    assert list(events["status"]) == ["error"] and events["cost_usd"].iloc[0] == 0


def test_bad_input_is_one_clear_line_and_exit_2(tmp_path):
    bad = _cli(tmp_path, "agents", "add", "x", "--url", "http://h/x", "--cost-per-query", "-1")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "cost_per_query: must not be negative" in bad.stderr
    assert not (tmp_path / "agents.json").exists()
    unknown = _cli(tmp_path, "send", "--agent", "nobody", "hi")
    assert unknown.returncode == 2 and "no agent named 'nobody'" in unknown.stderr


def test_api_key_is_masked_in_the_log(demo_server, tmp_path):
    secret = "sk-test-0123456789abcdefSECRET"
    _cli(
        tmp_path,
        "agents",
        "add",
        "e",
        "--url",
        demo_server.agent_url("echo"),
        "--cost-per-query",
        "0",
    )
    sent = _cli(tmp_path, "send", "--agent", "e", "--api-key-env", "MY_KEY", "hi",
                env={"MY_KEY": secret})  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    e = pd.read_parquet(tmp_path / "events").iloc[0]
    assert e["api_key"] == "sk-…CRET" and len(e["api_key_hash"]) == 16
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in sent.stdout + sent.stderr


def test_set_price_adds_a_version_and_old_events_keep_their_price(demo_server, tmp_path):
    _cli(
        tmp_path,
        "agents",
        "add",
        "v",
        "--url",
        demo_server.agent_url("echo"),
        "--cost-per-query",
        "0.01",
    )
    assert _cli(tmp_path, "send", "--agent", "v", "before").returncode == 0
    out = _cli(tmp_path, "agents", "set-price", "v", "--output-cost-per-token", "0.000008")
    assert out.returncode == 0, out.stderr
    changed = _cli(
        tmp_path,
        "agents",
        "set-price",
        "v",
        "--cost-per-query",
        "0.02",
        "--input-cost-per-token",
        "3",
        "--unit",
        "1M",
    )
    assert changed.returncode == 0 and "price version 3" in changed.stdout
    assert _cli(tmp_path, "send", "--agent", "v", "after").returncode == 0
    events = pd.read_parquet(tmp_path / "events").sort_values("timestamp")
    assert list(events["cost_per_query"]) == [D("0.01"), D("0.02")]
    assert events["input_cost_per_token"].iloc[1] == D("0.000003")
    # A price not given carries over from the version before: never silently dropped.
    assert events["output_cost_per_token"].iloc[1] == D("0.000008")
    unset = _cli(tmp_path, "agents", "set-price", "v", "--output-cost-per-token", "none")
    assert unset.returncode == 0
    prices = json.loads((tmp_path / "agents.json").read_text())["agents"][0]["prices"]
    assert prices[-1]["output_cost_per_token"] is None and prices[-1]["cost_per_query"] == "0.02"
    nothing = _cli(tmp_path, "agents", "set-price", "v")
    assert nothing.returncode == 2 and "at least one price" in nothing.stderr
    assert events["cost_usd"].iloc[0] == D("0.01")
    bad = _cli(tmp_path, "agents", "set-price", "v", "--cost-per-query", "nan")
    assert bad.returncode == 2 and "cost_per_query" in bad.stderr


def test_empty_message_is_refused_before_any_call(tmp_path):
    _cli(tmp_path, "agents", "add", "e", "--url", "http://127.0.0.1:9/x", "--cost-per-query", "1")
    sent = _cli(tmp_path, "send", "--agent", "e", "   ")
    assert sent.returncode == 2 and "message is empty" in sent.stderr
    assert not (tmp_path / "events").exists()


def test_concurrent_adds_keep_every_agent(tmp_path):
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentcost_nb.cli",
                "agents",
                "add",
                f"r{i}",
                "--url",
                "http://h/x",
                "--cost-per-query",
                f"0.{i}",
            ],
            env={**os.environ, "AGENTCOST_NB_HOME": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(1, 7)
    ]
    codes = [p.wait(timeout=60) for p in procs]
    assert codes == [0] * 6, [p.stderr.read() for p in procs]
    names = {a["name"] for a in json.loads((tmp_path / "agents.json").read_text())["agents"]}
    assert names == {f"r{i}" for i in range(1, 7)}


def test_an_emptied_registry_is_refused_not_taken_for_no_agents(tmp_path):
    _cli(tmp_path, "agents", "add", "keep", "--url", "http://h/x", "--cost-per-query", "1")
    (tmp_path / "agents.json").write_text("")
    listed = _cli(tmp_path, "agents", "list")
    assert listed.returncode == 2 and "the file is empty" in listed.stderr
    added = _cli(tmp_path, "agents", "add", "fresh", "--url", "http://h/y")
    assert added.returncode == 2
    assert (tmp_path / "agents.json").read_text() == ""
    assert not (tmp_path / "agents.json.bak").exists()  # nothing was saved over anything


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_errors_that_used_to_be_tracebacks_are_one_line_and_exit_2(tmp_path, capsys):
    from agentcost_nb.cli import main

    assert main(["--home", "/proc/nope", "agents", "add", "z", "--url", "http://h/"]) == 2
    assert "/proc/nope: cannot use this data home folder" in _one_error_line(capsys)
    assert main(["--home", "/proc/nope", "budgets", "set", "team", "t", "1"]) == 2
    assert "cannot write" in _one_error_line(capsys)
    home = ["--home", str(tmp_path)]
    for since in ("99999999d", "9999999999h", "0001-01-01", "9" * 5000 + "d"):
        assert main([*home, "report", "--since", since, "--out", str(tmp_path / "r")]) == 2
        assert "reaches back before 1900-01-01" in _one_error_line(capsys)
    until = ["report", "--since", "2026-01-01", "--until", "9999-12-31"]
    assert main([*home, *until, "--out", str(tmp_path / "r")]) == 2
    assert "until" in _one_error_line(capsys)
    (tmp_path / "agents.json").write_text('{"version": 1, "agents": ' + "[" * 100_000)
    assert main([*home, "agents", "list"]) == 2
    assert "nested too deeply" in _one_error_line(capsys)
    assert not (tmp_path / "r").exists()


def test_usage_mistakes_are_one_line_too(capsys):
    import pytest

    from agentcost_nb.cli import main

    for argv in (["demo-agent", "--port", "99999"], ["agents", "add", "z", "--retries", "x"],
                 ["agents"], ["nonsense"]):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert "--help" in _one_error_line(capsys)


def test_an_unexpected_error_is_one_line_without_the_secret(tmp_path, capsys, monkeypatch):
    from agentcost_nb import cli

    secret = "sk-live-0123456789abcdefSECRET"
    monkeypatch.setenv("MY_KEY", secret)

    def boom(args):
        raise RuntimeError(f"something broke near {secret}\nsecond line")

    def gone(args):
        raise PermissionError(13, "Permission denied", "/some/file")

    for func, words in ((boom, "send failed unexpectedly (RuntimeError"), (gone, "/some/file")):
        monkeypatch.setattr(cli, "_send", func)
        assert cli.main(["--home", str(tmp_path), "send", "--agent", "a",
                         "--api-key-env", "MY_KEY", "hi"]) == 2  # fmt: skip
        err = _one_error_line(capsys)
        assert words in err and secret not in err


def test_an_error_quoting_part_of_a_key_or_an_escape_prints_neither(tmp_path, capsys, monkeypatch):
    from agentcost_nb import cli

    secret = "sk-live-0123456789abcdefSECRET"
    monkeypatch.setenv("MY_KEY", secret)

    def boom(args):
        raise RuntimeError(f"key {secret[3:23]}... refused \x1b]0;pwned\x07\u202e")

    monkeypatch.setattr(cli, "_send", boom)
    assert cli.main(["--home", str(tmp_path), "send", "--agent", "a",
                     "--api-key-env", "MY_KEY", "hi"]) == 2  # fmt: skip
    err = _one_error_line(capsys)
    assert "key ****... refused" in err and secret[3:11] not in err
    assert err.strip().isprintable() and "]0;pwned" in err


def test_send_refuses_control_characters_in_caller_fields(tmp_path, capsys):
    from agentcost_nb.cli import main

    for option in ("--team", "--project", "--tag"):
        assert main(["--home", str(tmp_path), "send", "--agent", "a", option, "fi\x00n", "hi"]) == 2
        assert f"{option}: must not contain control characters" in _one_error_line(capsys)
    assert main(["--home", str(tmp_path), "budgets", "set", "team", "fi\nn", "1"]) == 2
    assert "control characters" in _one_error_line(capsys)
