from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from agentcost_nb.demo_setup import copy_sample, register_demo_agents
from agentcost_nb.registry import Registry

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sample_seeds_an_empty_home_shifted_to_today_and_never_overwrites(tmp_path):
    assert copy_sample(DATA, tmp_path)
    seeded = pd.read_parquet(tmp_path / "events")
    original = pd.read_parquet(DATA / "events")
    assert len(seeded) == len(original) > 0
    assert seeded["timestamp"].max().date() == datetime.now(UTC).date()
    assert seeded["cost_usd"].sum() == original["cost_usd"].sum()  # exact, nothing lost
    assert set(seeded["event_id"]) == set(original["event_id"])
    assert not copy_sample(DATA, tmp_path)  # a home with data is left alone
    assert len(pd.read_parquet(tmp_path / "events")) == len(original)


def test_demo_agents_follow_the_server_without_changing_identity(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    register_demo_agents(reg, "http://127.0.0.1:8765")
    prices = reg.get("echo").prices
    register_demo_agents(reg, "http://127.0.0.1:9999")
    again = Registry(tmp_path / "agents.json").get("echo")
    assert again.url == "http://127.0.0.1:9999/echo"
    assert again.prices == prices and again.name == "echo"
