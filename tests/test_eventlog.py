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


# ------------------------------------------------------------------ idempotence


def _retried_log(tmp_path):
    """e1..e4 over two days; e2 and e3 written twice, in batches with other events."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from _logtools import make_event

    log = EventLog(tmp_path / "events")
    ns = (0, 1, 2, 600)  # three on one day, one on the next
    e = [make_event(f"i-{i}", n, agent="a" if i % 2 else "b") for i, n in enumerate(ns)]
    log.append([e[0], e[1], e[2]])
    log.append([e[1], e[2], e[3]])  # a retried flush that also carries a new event
    log.append([e[2]])  # and a retry of one
    return log, e


def test_the_same_batch_twice_is_one_file(tmp_path):
    log = EventLog(tmp_path / "events")
    batch = [_event(datetime(2026, 5, 1, 10, tzinfo=UTC)) for _ in range(3)]
    first = log.append(batch)
    assert log.append(list(reversed(batch))) == first  # same ids, any order: same file
    assert log.append(batch + batch[:1]) == first  # an event twice in a batch: once
    assert len(list((tmp_path / "events").rglob("*.parquet"))) == 1
    assert log.read(dedupe=False).num_rows == 3


def test_an_event_written_twice_counts_once_in_every_aggregate(tmp_path):
    from agentcost_nb import analytics as an
    from agentcost_nb.budgets import Budget, Budgets
    from agentcost_nb.repricing import reprice

    log, events = _retried_log(tmp_path)
    assert log.read(["event_id"], dedupe=False).num_rows == 7  # the raw rows hold repeats
    spend = sum((x.cost_usd for x in events), D(0))
    tokens_in = sum(x.input_tokens for x in events)
    f = an.Filters(tz="UTC")

    t = an.totals(log, f)
    assert (t.requests, t.spend, t.input_tokens) == (4, spend, tokens_in)
    assert an.kpis(log, f).current.requests == 4
    assert an.dashboard_data(log, f).totals.spend == spend
    assert an.spend_per_agent(log, f)["spend"].sum() == spend
    assert an.spend_per_agent(log, f)["requests"].sum() == 4
    assert an.daily_spend(log, f)["spend"].sum() == spend
    assert an.model_usage(log, f)["requests"].sum() == 4
    assert an.activity(log, f)["requests"].sum() == 4
    assert an.spend_by(log, "team", f)["requests"].sum() == 4
    assert an.tokens_over_time(log, f)["input_tokens"].sum() == tokens_in
    assert an.recent_events(log, f).total == 4
    assert an.filtered_events(log, f).num_rows == 4
    assert len(log.to_pandas()) == 4
    assert len(reprice(log.to_pandas(), {})) == 4

    budgets = Budgets(tmp_path / "budgets.json")
    for agent in ("a", "b"):
        budgets.add(Budget("agent", agent, D("100")))
    checks = budgets.status(log, now=datetime(2026, 11, 20, tzinfo=UTC), tz="UTC")
    assert sum((c.spent for c in checks), D(0)) == spend

    # Compaction removes the repeats for readers that do not dedupe (pandas, DuckDB).
    assert log.compact().duplicates_removed == 3
    assert len(pd.read_parquet(tmp_path / "events")) == 4


def test_dedupe_is_checked_only_on_days_with_several_files_and_cached(tmp_path, monkeypatch):
    import agentcost_nb.eventlog as el

    log, _ = _retried_log(tmp_path)
    log.compact()
    calls = []
    real = el.pc.count_distinct
    monkeypatch.setattr(el.pc, "count_distinct", lambda *a, **k: calls.append(1) or real(*a, **k))
    log.read(["cost_usd"])
    assert calls == []  # one file a day: no check at all
    extra = _event(datetime(2026, 11, 2, 8, tzinfo=UTC))
    log.append([extra])
    log.read(["cost_usd"])
    assert len(calls) == 1  # the day that has two files
    log.read(["cost_usd"])
    log.read(["status"])
    assert len(calls) == 1  # cached for the same files


def test_read_columns_and_filters_with_dedupe(tmp_path):
    import pyarrow.dataset as ds

    log, events = _retried_log(tmp_path)
    only_a = log.read(["cost_usd"], filter=ds.field("agent_name") == "a")
    assert only_a.column_names == ["cost_usd"]
    assert sum(only_a["cost_usd"].to_pylist(), D(0)) == sum(
        (x.cost_usd for x in events if x.agent_name == "a"), D(0)
    )
    full = log.read()
    assert full.column_names == [*EVENT_SCHEMA.names, "date"]
    assert full.num_rows == 4


def test_append_table_splits_by_utc_date_and_checks_the_schema(tmp_path):
    import pytest

    from agentcost_nb.errors import LogError
    from agentcost_nb.events import events_to_table

    log = EventLog(tmp_path / "events")
    t = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    table = events_to_table([_event(t), _event(t + timedelta(hours=1))])
    paths = log.append_table(table)
    assert [p.parent.name for p in paths] == ["date=2026-03-09", "date=2026-03-10"]
    assert pq.read_schema(paths[0]).metadata == EVENT_SCHEMA.metadata
    with pytest.raises(LogError, match="not an event table"):
        log.append_table(table.drop_columns(["status"]))


def test_a_failed_write_says_where_and_leaves_no_temp_file(tmp_path):
    import pytest

    from agentcost_nb.errors import LogError

    blocker = tmp_path / "home"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(LogError, match="could not write events to"):
        EventLog(blocker / "events").append([_event(datetime.now(UTC))])
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_reading_creates_nothing_in_the_log_folder(tmp_path):
    """A shipped sample or a read-only copy stays untouched; compaction brings the locks."""
    log = EventLog(tmp_path / "events")
    t = datetime(2026, 5, 1, 10, tzinfo=UTC)
    log.append([_event(t)])
    log.append([_event(t)])
    before = sorted(p.name for p in (tmp_path / "events").rglob("*"))
    assert log.read().num_rows == 2 and EventLog(log.path).to_pandas().shape[0] == 2
    assert sorted(p.name for p in (tmp_path / "events").rglob("*")) == before
    log.compact()
    assert {".compact.lock", ".swap.lock"} <= {p.name for p in (tmp_path / "events").iterdir()}
    assert log.read().num_rows == 2


def test_a_one_day_read_checks_and_opens_only_that_days_files(tmp_path, monkeypatch):
    import warnings
    from datetime import date

    import pyarrow.dataset as ds

    import agentcost_nb.eventlog as el
    from agentcost_nb import analytics as an

    log = EventLog(tmp_path / "events")
    day = datetime(2026, 4, 1, 9, tzinfo=UTC)
    e1, e2 = _event(day), _event(day + timedelta(hours=1), price="0.25")
    log.append([e1])
    log.append([e1, e2])  # a retried batch: e1 is in two files of 2026-04-01
    far = datetime(2026, 4, 10, 9, tzinfo=UTC)  # a day with several files, one corrupt
    log.append([_event(far)])
    log.append([_event(far + timedelta(hours=1))])
    (tmp_path / "events" / "date=2026-04-10" / "part-zzzz.parquet").write_bytes(b"not parquet")

    checked: list[str] = []
    real = el.EventLog._has_repeats
    monkeypatch.setattr(
        el.EventLog, "_has_repeats", lambda self, g: checked.append(g[0].date) or real(self, g)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a touched corrupt file would warn
        one_day = log.read(["event_id", "cost_usd"], filter=ds.field("date") == "2026-04-01")
        t = an.totals(log, an.Filters(start=date(2026, 4, 1), end=date(2026, 4, 1), tz="UTC"))
    assert sorted(one_day["event_id"].to_pylist()) == sorted([e1.event_id, e2.event_id])
    assert (t.requests, t.spend) == (2, D("0.35"))  # e1 counted once
    assert set(checked) == {"2026-04-01"}
    assert log.skipped == {}

    # A read over every day still checks the other day, and skips the corrupt file.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert log.read(["event_id"]).num_rows == 4
    assert "2026-04-10" in checked
    assert list(log.skipped) == [str(tmp_path / "events" / "date=2026-04-10" / "part-zzzz.parquet")]


def test_dictionary_reads_same_values_one_dictionary_per_column(tmp_path):
    import pyarrow as pa
    import pytest

    from agentcost_nb.errors import LogError
    from agentcost_nb.eventlog import DICTIONARY_COLUMNS

    log, _ = _retried_log(tmp_path)  # repeats: the dedupe path
    log.append([_event(datetime(2026, 11, 5, 8, tzinfo=UTC), agent_name="c", model="m")])
    cols = ["event_id", "agent_name", "model", "status", "cost_usd"]
    plain = log.read(cols)
    enc = log.read(cols, dictionary=True)
    assert enc.num_rows == plain.num_rows == 5
    for name in cols:
        column = enc[name]
        if name in DICTIONARY_COLUMNS:
            assert pa.types.is_dictionary(column.type), name
            first = column.chunk(0).dictionary
            assert all(c.dictionary.equals(first) for c in column.chunks), name  # unified
            column = column.cast(pa.string())
        else:
            assert column.type == plain[name].type, name
        assert column.to_pylist() == plain[name].to_pylist(), name
    assert enc.group_by(["agent_name"]).aggregate([([], "count_all")]).num_rows == 3

    only_model = log.read(["agent_name", "model"], dictionary=["model"])
    assert only_model["agent_name"].type == pa.string()
    assert pa.types.is_dictionary(only_model["model"].type)
    empty = EventLog(tmp_path / "nothing").read(["agent_name"], dictionary=True)
    assert empty.num_rows == 0 and pa.types.is_dictionary(empty["agent_name"].type)
    with pytest.raises(LogError, match="cost_usd"):
        log.read(["cost_usd"], dictionary=["cost_usd"])

    df = log.to_pandas()  # users get plain strings, never categoricals
    assert not isinstance(df["agent_name"].dtype, pd.CategoricalDtype)
    assert set(df["agent_name"]) == {"a", "b", "c"}
