"""Schema evolution: logs written by older (or newer) schema versions still read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from _logtools import make_event

from agentcost_nb import analytics
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import EVENT_SCHEMA, SCHEMA_VERSION, events_to_table

OLD_COLUMNS = [
    "event_id", "timestamp", "agent_name", "display_name", "status", "error",
    "input_tokens", "output_tokens", "cost_usd", "schema_version",
]  # fmt: skip


def _old_file(log: EventLog, name: str, *, version: int | None, rows: int = 3) -> None:
    """A file as an older toolkit wrote it: fewer columns (no task_state, no tags ...)."""
    table = events_to_table([make_event(f"{name}-{i}", i) for i in range(rows)])
    columns = OLD_COLUMNS if version is not None else OLD_COLUMNS[:-1]
    table = table.select(columns)
    if version is not None:
        i = table.schema.get_field_index("schema_version")
        table = table.set_column(i, "schema_version", pa.array([version] * rows, pa.int16()))
    table = table.replace_schema_metadata(
        {"agentcost_nb.schema_version": str(version)} if version is not None else None
    )
    folder = log.path / "date=2026-11-02"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{name}.parquet")


def test_the_schema_carries_its_version_in_a_column_and_the_file_metadata(tmp_path):
    log = EventLog(tmp_path / "events")
    (path,) = log.append([make_event("v-0", 0)])
    assert (
        pq.read_schema(path).metadata[b"agentcost_nb.schema_version"]
        == str(SCHEMA_VERSION).encode()
    )
    assert pq.read_table(path)["schema_version"].to_pylist() == [SCHEMA_VERSION]
    assert EVENT_SCHEMA.field("schema_version").type == pa.int16()


def test_an_older_file_reads_with_the_newer_columns_null(tmp_path):
    log = EventLog(tmp_path / "events")
    _old_file(log, "v0", version=0)
    _old_file(log, "pre", version=None)  # from before the schema carried a version
    log.append([make_event("new-0", 0)])
    table = log.read().sort_by("event_id")
    rows = {r["event_id"]: r for r in table.to_pylist()}
    assert len(rows) == 7
    for old in ("v0-0", "pre-0"):
        assert rows[old]["task_state"] is None and rows[old]["tags"] is None
        assert rows[old]["schema_version"] == 0
        assert rows[old]["cost_usd"] == make_event("x", 0).cost_usd
    assert rows["new-0"]["schema_version"] == SCHEMA_VERSION
    assert table.schema.field("task_state").type == pa.string()

    totals = analytics.totals(log, analytics.Filters(tz="UTC"))
    expected = sum((make_event("x", i).cost_usd for i in (0, 1, 2, 0, 1, 2, 0)), Decimal(0))
    assert (totals.requests, totals.spend) == (7, expected)


def test_compaction_upgrades_old_files_to_the_current_schema(tmp_path):
    log = EventLog(tmp_path / "events")
    _old_file(log, "v0", version=0)
    _old_file(log, "pre", version=None)
    log.append([make_event("new-0", 0)])
    (day,) = log.compact().days
    merged = pq.read_table(day.output)
    assert merged.schema.remove_metadata().equals(EVENT_SCHEMA.remove_metadata())
    assert merged.schema.metadata == EVENT_SCHEMA.metadata
    versions = dict(
        zip(merged["event_id"].to_pylist(), merged["schema_version"].to_pylist(), strict=True)
    )
    assert versions["v0-1"] == 0 and versions["pre-1"] == 0
    assert versions["new-0"] == SCHEMA_VERSION
    # Every file now has the current schema, so any reader sees every column.
    import pandas as pd

    assert "task_state" in pd.read_parquet(tmp_path / "events").columns


def test_a_file_from_a_newer_version_still_reads(tmp_path):
    log = EventLog(tmp_path / "events")
    table = events_to_table([make_event("f-0", 0)])
    table = table.append_column("from_the_future", pa.array(["?"]))
    table = table.replace_schema_metadata({"agentcost_nb.schema_version": "99"})
    folder = log.path / "date=2026-11-02"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-future.parquet")
    log.append([make_event("now-0", 1)])
    got = log.read(["event_id", "cost_usd"])
    assert sorted(got["event_id"].to_pylist()) == ["f-0", "now-0"]
    assert log.read().column_names == [*EVENT_SCHEMA.names, "date"]


def test_timestamps_stay_utc_instants(tmp_path):
    log = EventLog(tmp_path / "events")
    log.append([make_event("t-0", 0)])
    ts = log.read(["timestamp"])["timestamp"]
    assert ts.type == pa.timestamp("us", tz="UTC")
    assert ts[0].as_py() == datetime(2026, 11, 2, 0, 0, 0, tzinfo=UTC)


def test_a_file_with_float_money_is_skipped_and_named_not_read_inexactly(tmp_path):
    import pytest

    from agentcost_nb.eventlog import LogWarning

    log = EventLog(tmp_path / "events")
    log.append([make_event("good-0", 0)])
    table = events_to_table([make_event(f"float-{i}", i) for i in range(10)]).select(OLD_COLUMNS)
    i = table.schema.get_field_index("cost_usd")
    table = table.set_column(i, "cost_usd", pa.array([0.1] * 10, pa.float64()))
    folder = log.path / "date=2026-11-02"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-float.parquet")
    with pytest.warns(LogWarning, match="cost_usd stored as floating point"):
        totals = analytics.totals(log, analytics.Filters(tz="UTC"))
    assert (totals.requests, totals.spend) == (1, make_event("x", 0).cost_usd)
    assert any("floating point" in why for why in log.skipped.values())
    assert log.read().num_rows == 1  # every read, not only the aggregates
