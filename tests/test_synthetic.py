"""Synthetic events: schema, determinism, and costs equal to pricing.compute_cost."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import COST_PART_FIELDS, EVENT_SCHEMA
from agentcost_nb.pricing import PRICE_FIELDS, PriceSheet, TokenUsage, compute_cost
from agentcost_nb.synthetic import DEFAULT_AGENTS, SyntheticAgent, generate_events, write_synthetic

END = datetime(2026, 6, 1, tzinfo=UTC)


def table(n: int, **kw: object) -> pa.Table:
    return pa.concat_tables(generate_events(n, end=END, **kw))  # type: ignore[arg-type]


def test_batches_are_in_the_event_schema() -> None:
    batches = list(generate_events(25_000, end=END, batch_size=10_000))
    assert [b.num_rows for b in batches] == [10_000, 10_000, 5_000]
    for b in batches:
        assert b.schema.equals(EVENT_SCHEMA, check_metadata=False)
        assert b.column("event_id").null_count == 0
    ids = pa.concat_tables(batches)["event_id"]
    assert len(pc.unique(ids)) == 25_000
    assert list(generate_events(0, end=END)) == []


def test_same_seed_same_events_other_seed_other_events() -> None:
    a, b, c = table(3_000, seed=7), table(3_000, seed=7), table(3_000, seed=8)
    assert a.equals(b)
    assert not a.equals(c)
    assert a["event_id"].to_pylist() != c["event_id"].to_pylist()


def test_times_fall_in_the_window_and_in_order() -> None:
    t = table(20_000, days=14)
    stamps = t["timestamp"].to_pylist()
    assert stamps == sorted(stamps)
    assert stamps[0] >= END - timedelta(days=14) and stamps[-1] < END
    days = {s.date() for s in stamps}
    assert len(days) == 14
    weekday = sum(1 for s in stamps if s.weekday() < 5) / 10  # two whole weeks
    weekend = sum(1 for s in stamps if s.weekday() >= 5) / 4
    assert weekday > 2 * weekend  # more traffic on working days


def _sheet(row: dict[str, object]) -> PriceSheet:
    prices = {name: row[name] for name in PRICE_FIELDS}
    return PriceSheet(**prices, effective_from=row["price_effective_from"])  # type: ignore[arg-type]


def test_costs_equal_compute_cost_exactly() -> None:
    t = table(30_000, seed=11, failure_rate=0.2)
    rng = np.random.default_rng(0)
    rows = t.take(rng.choice(t.num_rows, size=600, replace=False)).to_pylist()
    policy = {a.name: a for a in DEFAULT_AGENTS}
    seen_agents, seen_failed = set(), 0
    for row in rows:
        agent = policy[row["agent_name"]]
        ok = row["status"] == "success"
        seen_agents.add(agent.name)
        seen_failed += not ok
        usage = TokenUsage(
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
            reasoning_tokens=row["reasoning_tokens"],
        )
        if agent.sheet.is_priced:
            assert _sheet(row) == agent.sheet
        else:
            assert row["price_effective_from"] is None
        cost = compute_cost(
            agent.sheet,
            usage,
            charge_query=ok or agent.charge_query_on_failure,
            charge_input=ok or agent.charge_input_on_failure,
            charge_output=ok,
        )
        if cost is None:
            assert row["cost_usd"] is None
            assert all(row[p] is None for p in COST_PART_FIELDS)
            continue
        parts = [cost.query, cost.input, cost.cached_input, cost.output, cost.reasoning]
        assert [row[p] for p in COST_PART_FIELDS] == parts
        assert row["cost_usd"] == cost.total
        assert row["cost_usd"] == sum((row[p] for p in COST_PART_FIELDS), Decimal(0))
    assert seen_agents == set(policy) and seen_failed > 50


def test_price_shapes_per_query_per_token_and_mixed() -> None:
    t = table(5_000)
    by_agent = {r["agent_name"]: r for r in t.to_pylist()}
    support, research = by_agent["support-bot"], by_agent["research-agent"]
    reviewer, legacy = by_agent["code-reviewer"], by_agent["legacy-agent"]
    assert support["cost_per_query"] == Decimal("0.05") and support["input_cost_per_token"] is None
    assert research["cost_per_query"] is None and research["input_cost_per_token"] is not None
    assert reviewer["cost_per_query"] is not None and reviewer["output_cost_per_token"] is not None
    assert legacy["cost_usd"] is None and legacy["cost_per_query"] is None
    assert t["cached_input_tokens"].to_numpy().max() > 0
    assert t["reasoning_tokens"].to_numpy().max() > 0


@pytest.mark.parametrize("rate", [0.0, 0.05, 1.0])
def test_failures_follow_the_rate_and_carry_a_reason(rate: float) -> None:
    t = table(20_000, failure_rate=rate)
    failed = pc.not_equal(t["status"], "success")
    share = pc.sum(failed).as_py() / t.num_rows
    assert share == pytest.approx(rate, abs=0.01)
    bad = t.filter(failed)
    assert bad["error_type"].null_count == 0 and bad["error"].null_count == 0
    assert set(pc.unique(bad["status"]).to_pylist()) <= {"error", "timeout", "canceled"}
    silent = bad.filter(pc.not_equal(bad["error_type"], "task_failed"))
    assert pc.sum(silent["output_tokens"]).as_py() in (None, 0)
    good = t.filter(pc.invert(failed))
    assert good["error_type"].null_count == good.num_rows


def test_custom_agents() -> None:
    agent = SyntheticAgent(
        name="odd.agent[1]",
        display_name="Odd 🚀",
        sheet=PriceSheet(cost_per_query=Decimal("0.000000000000000001")),
    )
    t = table(100, agents=[agent], failure_rate=0.0)
    assert set(t["agent_name"].to_pylist()) == {"odd.agent[1]"}
    assert pc.sum(t["cost_usd"]).as_py() == Decimal("1E-16")  # 100 × 1e-18, exactly
    with pytest.raises(ValueError):
        table(10, agents=[])


def test_write_synthetic_partitions_by_utc_date(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    assert write_synthetic(log, 12_000, days=3, end=END, batch_size=5_000) == 12_000
    folders = sorted(p.name for p in log.path.iterdir())
    assert folders == ["date=2026-05-29", "date=2026-05-30", "date=2026-05-31"]
    t = log.read(["timestamp", "date"])
    assert t.num_rows == 12_000
    utc_dates = pc.strftime(t["timestamp"], format="%Y-%m-%d")
    assert pc.all(pc.equal(utc_dates, t["date"])).as_py()
    files = list(log.path.glob("*/*.parquet"))
    assert len(files) <= 3 + 2  # time-ordered batches touch few dates each


def test_vectorised_generation_is_fast() -> None:
    started = time.perf_counter()
    rows = sum(b.num_rows for b in generate_events(200_000, end=END))
    assert rows == 200_000
    assert time.perf_counter() - started < 5.0  # ~0.5 s here; a per-row loop takes minutes
