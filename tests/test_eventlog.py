from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pandas as pd
import pyarrow.parquet as pq

from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import EVENT_SCHEMA, SCHEMA_VERSION, Event
from agentcost_nb.pricing import PriceSheet, TokenUsage, compute_cost


def _event(ts: datetime, price: str = "0.10", **kw) -> Event:
    sheet = PriceSheet(cost_per_query=D(price))
    usage = TokenUsage(5, 7)
    return Event.priced(sheet=sheet, usage=usage, cost=compute_cost(sheet, usage), timestamp=ts,
                        agent_name=kw.pop("agent_name", "a"), status="success", **kw)  # fmt: skip


def test_events_land_in_utc_date_partitions_and_read_in_pandas(tmp_path):
    log = EventLog(tmp_path / "events")
    t = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    log.append([_event(t), _event(t + timedelta(hours=1))])
    assert sorted(p.name for p in (tmp_path / "events").iterdir()) == [
        "date=2026-03-09", "date=2026-03-10",
    ]  # fmt: skip
    df = pd.read_parquet(tmp_path / "events")
    assert len(df) == 2
    assert set(EVENT_SCHEMA.names) <= set(df.columns)
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert (df["schema_version"] == SCHEMA_VERSION).all()


def test_ten_dimes_sum_to_exactly_one_dollar(tmp_path):
    log = EventLog(tmp_path / "events")
    now = datetime.now(UTC)
    for _ in range(10):
        log.append([_event(now)])
    df = log.to_pandas()
    assert df["cost_usd"].sum() == D("1.00")
    assert len(list((tmp_path / "events").rglob("*.parquet"))) == 10


def test_files_have_the_fixed_schema_even_when_columns_are_null(tmp_path):
    log = EventLog(tmp_path / "events")
    (path,) = log.append([Event(agent_name="a", status="error", error="boom")])
    schema = pq.read_schema(path)
    assert schema.field("cost_usd").type == EVENT_SCHEMA.field("cost_usd").type
    assert schema.field("team").type == EVENT_SCHEMA.field("team").type  # not "null"
    row = log.to_pandas().iloc[0]
    assert row["cost_usd"] is None or pd.isna(row["cost_usd"])


def test_empty_or_missing_log_reads_as_empty_with_columns(tmp_path):
    df = EventLog(tmp_path / "nowhere").to_pandas()
    assert len(df) == 0 and "cost_usd" in df.columns


def test_no_temporary_files_left_behind(tmp_path):
    log = EventLog(tmp_path / "events")
    log.append([_event(datetime.now(UTC))])
    assert [p.name for p in (tmp_path / "events").rglob("*") if p.name.startswith(".")] == []


def test_duckdb_reads_the_hive_layout_as_is(tmp_path):
    duckdb = __import__("duckdb")
    log = EventLog(tmp_path / "events")
    t = datetime(2026, 12, 1, 12, tzinfo=UTC)
    log.append([_event(t, "0.10", agent_name="a"), _event(t + timedelta(days=1), "0.25", agent_name="a"),
                _event(t, "0.05", agent_name="b")])  # fmt: skip
    rows = duckdb.sql(
        f"select agent_name, sum(cost_usd) as spend, count(distinct date) as days "
        f"from read_parquet('{tmp_path}/events/*/*.parquet', hive_partitioning=true) "
        "group by 1 order by 1"
    ).fetchall()
    assert rows == [("a", D("0.35"), 2), ("b", D("0.05"), 1)]
