"""The fast paths give the same answers as the slow, obvious ones (equivalence, not timing).

- ``events_to_table`` (column by column) equals ``Table.from_pylist`` of ``as_row()``;
- ``analytics.Snapshot`` / ``dashboard_data`` (one read, one rollup) equal the seven
  module functions and a naive Python computation: exact Decimal money, DST days,
  filters.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from agentcost_nb import analytics as an
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import EVENT_SCHEMA, Event, events_to_table
from agentcost_nb.synthetic import write_synthetic

NY = "America/New_York"


def slow_table(rows: list[Any]) -> pa.Table:
    """The reference: row dicts through ``Table.from_pylist`` (the old implementation)."""
    dicts = [r.as_row() if isinstance(r, Event) else r for r in rows]
    return pa.Table.from_pylist(dicts, schema=EVENT_SCHEMA)


def assert_tables_equal(fast: pa.Table, slow: pa.Table) -> None:
    """Equal schemas (with metadata) and values, NaN equal to NaN."""
    assert fast.schema.equals(slow.schema, check_metadata=True)
    for name in fast.column_names:
        a, b = fast[name].combine_chunks(), slow[name].combine_chunks()
        if pa.types.is_floating(a.type):
            a, b = pc.fill_null(a, -1.0), pc.fill_null(b, -1.0)  # nulls where they were
            assert a.is_nan().equals(b.is_nan()), name
            a, b = pc.if_else(a.is_nan(), 0.0, a), pc.if_else(b.is_nan(), 0.0, b)
        assert a.equals(b), name


def varied_events() -> list[Event]:
    t0 = datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC)
    return [
        Event(agent_name="a", status="success", timestamp=t0),  # defaults, no money
        Event(
            agent_name="b",
            status="error",
            timestamp=t0 + timedelta(hours=1),
            display_name="Bee",
            endpoint="http://x/a2a",
            protocol="a2a-1.0",
            model=None,
            api_key="sk-…abcd",
            api_key_hash="h1",
            team="t",
            project="p",
            tags=("urgent", "émoji ✓", ""),
            error_type="timeout",
            error="took too long",
            http_status=504,
            attempts=3,
            input_tokens=0,
            output_tokens=10**12,
            latency_ms=float("nan"),
            price_effective_from=datetime(2025, 1, 1, tzinfo=ZoneInfo(NY)),
            input_cost_per_token=Decimal("0.000000000000000001"),
            cost_input_usd=Decimal("12345678901234567890.123456789012345678"),
            cost_usd=Decimal("0"),
        ),
        Event(
            agent_name="c",
            status="success",
            timestamp=datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo(NY)).replace(fold=1),
            tags=(),
            latency_ms=None,
            cost_usd=Decimal("-0.05036"),
            cost_query_usd=Decimal("1E-18"),
        ),
    ]


def test_events_to_table_equals_the_row_by_row_reference() -> None:
    events = varied_events()
    fast, slow = events_to_table(events), slow_table(events)
    assert fast.schema.equals(EVENT_SCHEMA, check_metadata=True)
    assert_tables_equal(fast, slow)
    assert fast["latency_ms"].to_pylist()[0] is None
    assert fast["cost_input_usd"][1].as_py() == Decimal("12345678901234567890.123456789012345678")
    assert fast["cost_query_usd"][2].as_py() == Decimal("1E-18")
    assert fast["tags"].to_pylist() == [[], ["urgent", "émoji ✓", ""], []]


def test_events_to_table_takes_mappings_with_missing_keys_and_empty_input() -> None:
    events = varied_events()
    rows: list[Any] = [events[0], {"agent_name": "m", "status": "success", "tags": ["x"],
                                   "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
                                   "event_id": "e1", "schema_version": 1}, events[2]]  # fmt: skip
    assert_tables_equal(events_to_table(rows), slow_table(rows))
    assert_tables_equal(events_to_table([]), slow_table([]))
    assert events_to_table(iter(events)).num_rows == 3  # any iterable, read once


def test_events_to_table_refuses_money_it_cannot_hold_exactly() -> None:
    too_fine = Event(agent_name="a", status="success", cost_usd=Decimal("0.0000000000000000001"))
    with pytest.raises(pa.ArrowInvalid):
        events_to_table([too_fine])
    with pytest.raises(pa.ArrowInvalid):
        slow_table([too_fine])


# ------------------------------------------------------------------- snapshot


def assert_same_as_functions(log: EventLog, f: an.Filters) -> an.DashboardData:
    d = an.dashboard_data(log, f, limit=7, offset=2)
    assert d.totals == an.totals(log, f)
    for name in ("spend_per_agent", "daily_spend", "model_usage", "activity", "tokens_over_time"):
        pd.testing.assert_frame_equal(getattr(d, name), getattr(an, name)(log, f), obj=name)
    page = an.recent_events(log, f, limit=7, offset=2)
    pd.testing.assert_frame_equal(d.recent.frame, page.frame)
    assert (d.recent.total, d.recent.offset, d.recent.limit) == (page.total, 2, 7)
    snap = an.Snapshot(log, f)
    for limit, offset in ((0, 0), (1, 0), (50, 0), (3, 10**6)):
        a, b = snap.recent_events(limit, offset), an.recent_events(log, f, limit, offset)
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.total == b.total
    return d


@pytest.fixture(scope="module")
def synthetic_log(tmp_path_factory: pytest.TempPathFactory) -> EventLog:
    log = EventLog(tmp_path_factory.mktemp("synthetic") / "events")
    # Over the US spring-forward and fall-back days, several files per day.
    write_synthetic(log, 6000, end=datetime(2026, 11, 3, tzinfo=UTC), days=240, seed=3,
                    batch_size=1000)  # fmt: skip
    return log


@pytest.mark.parametrize(
    "filters",
    [
        an.Filters(tz="UTC"),
        an.Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), tz=NY),
        an.Filters(start=date(2026, 10, 20), end=date(2026, 11, 2), tz=NY),
        an.Filters(start=date(2026, 6, 1), tz="Asia/Kolkata", agents=("research-agent",)),
        an.Filters(end=date(2026, 5, 1), tz="Pacific/Kiritimati", statuses=("error",)),
        an.Filters(tz="Australia/Lord_Howe", agents=("research-agent", "support-bot")),
        an.Filters(start=date(2030, 1, 1), tz="UTC"),  # nothing in view
    ],
    ids=["all", "ny-march", "ny-fall-back", "kolkata-agent", "kiritimati-errors", "two", "empty"],
)
def test_snapshot_equals_the_module_functions(synthetic_log: EventLog, filters: an.Filters) -> None:
    assert_same_as_functions(synthetic_log, filters)


def test_snapshot_money_is_exact_and_days_follow_dst(tmp_path: Path) -> None:
    ny = ZoneInfo(NY)
    costs = ["0.1", "0.2", "0.000000000000000001", None, "1000000.05036", "0.3"]
    events = []
    # 2026-11-01 in New York has 25 hours: 00:30 EDT and 01:30 EST (fold) are the same day.
    stamps = [
        datetime(2026, 11, 1, 0, 30, tzinfo=ny),
        datetime(2026, 11, 1, 1, 30, tzinfo=ny),
        datetime(2026, 11, 1, 1, 30, tzinfo=ny).replace(fold=1),
        datetime(2026, 11, 1, 23, 59, tzinfo=ny),
        datetime(2026, 3, 8, 3, 0, tzinfo=ny),  # the 23-hour day
        datetime(2026, 3, 7, 23, 59, tzinfo=ny),
    ]
    for i, (ts, cost) in enumerate(zip(stamps, costs, strict=True)):
        events.append(
            Event(
                agent_name="free" if cost is None else f"agent-{i % 2}",
                status="success" if i % 3 else "error",
                timestamp=ts,
                model="m" if i % 2 else None,
                cost_usd=Decimal(cost) if cost is not None else None,
                input_tokens=i,
                output_tokens=10 * i,
                latency_ms=float(i),
            )
        )
    log = EventLog(tmp_path / "events")
    log.append(events)
    d = assert_same_as_functions(log, an.Filters(tz=NY))

    # Naive Python over the Event objects.
    assert d.totals.spend == sum(Decimal(c) for c in costs if c is not None)
    assert str(d.totals.spend) == "1000000.650360000000000001"
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for e in events:
        by_day[e.timestamp.astimezone(ny).date()][e.agent_name] += 1
    got = {(r.day, r.agent_name): r.requests for r in d.daily_spend.itertuples()}
    assert got == {(day, a): n for day, c in by_day.items() for a, n in c.items()}
    assert sorted(by_day) == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 11, 1)]
    free = d.spend_per_agent.set_index("agent_name").loc["free"]
    assert free["spend"] is None and free["unpriced_requests"] == 1


def everything_shown(log: EventLog, f: an.Filters) -> dict[str, Any]:
    """Every public analytics answer for ``f``, as plain Python / pandas values."""
    d = an.dashboard_data(log, f, limit=7, offset=2)
    out: dict[str, Any] = {"totals": d.totals, "recent": d.recent.frame, "total": d.recent.total}
    for name in ("spend_per_agent", "daily_spend", "model_usage", "activity", "tokens_over_time"):
        out[name] = getattr(d, name)
        out[f"fn_{name}"] = getattr(an, name)(log, f)
    for by in ("api_key", "team", "project"):
        out[f"spend_by_{by}"] = an.spend_by(log, by, f)  # type: ignore[arg-type]
    out["choices"] = an.filter_choices(log, f)
    out["kpis"] = an.kpis(log, f, today=max(date(2026, 11, 2), f.start or date.min))
    out["filtered"] = an.filtered_events(log, f).to_pylist()
    return out


@pytest.mark.parametrize(
    "filters",
    [
        an.Filters(tz="UTC"),
        an.Filters(start=date(2026, 10, 20), end=date(2026, 11, 2), tz=NY),
        an.Filters(start=date(2026, 6, 1), tz="Asia/Kolkata", agents=("research-agent",)),
        an.Filters(end=date(2026, 5, 1), tz="UTC", statuses=("error",)),
        an.Filters(start=date(2030, 1, 1), tz="UTC"),  # nothing in view
    ],
    ids=["all", "ny-fall-back", "kolkata-agent", "errors", "empty"],
)
def test_dictionary_reads_give_the_same_answers_as_plain_strings(
    synthetic_log: EventLog, filters: an.Filters, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    real_read = EventLog.read

    def spy(self: EventLog, *args: Any, **kw: Any) -> pa.Table:
        asked.append(kw.get("dictionary", False))
        return real_read(self, *args, **kw)

    monkeypatch.setattr(EventLog, "read", spy)
    fast = everything_shown(synthetic_log, filters)
    assert True in asked  # the aggregates do read dictionaries
    snap = an.Snapshot(synthetic_log, filters)
    for name in ("agent_name", "display_name", "model", "status"):
        assert pa.types.is_dictionary(snap.table[name].type), name

    def plain(self: EventLog, *args: Any, **kw: Any) -> pa.Table:
        return real_read(self, *args, **{**kw, "dictionary": False})

    monkeypatch.setattr(EventLog, "read", plain)
    slow = everything_shown(synthetic_log, filters)
    assert not pa.types.is_dictionary(an.Snapshot(synthetic_log, filters).table["agent_name"].type)
    assert fast.keys() == slow.keys()
    for key in fast:
        if isinstance(fast[key], pd.DataFrame):
            pd.testing.assert_frame_equal(fast[key], slow[key], obj=key)
            for column, dtype in fast[key].dtypes.items():
                assert not isinstance(dtype, pd.CategoricalDtype), (key, column)
        else:
            assert fast[key] == slow[key], key
