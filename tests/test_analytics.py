"""Aggregates over a real Parquet log in tmp_path: exact money, local days, filters."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from agentcost_nb import analytics as an
from agentcost_nb.errors import LogError, ValidationError
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
from agentcost_nb.keys import key_hash, mask_key

NY = "America/New_York"


def ev(
    ts: str,
    *,
    agent: str = "alpha",
    cost: str | None = "0.10",
    status: str = "success",
    **columns: Any,
) -> Event:
    return Event(
        agent_name=agent,
        status=status,
        timestamp=datetime.fromisoformat(ts),
        cost_usd=Decimal(cost) if cost is not None else None,
        **columns,
    )


def make_log(tmp_path: Path, events: Sequence[Event]) -> EventLog:
    log = EventLog(tmp_path / "events")
    log.append(events)
    return log


# ----------------------------------------------------------------- exact money


def test_ten_events_at_ten_cents_are_exactly_one_dollar(tmp_path: Path) -> None:
    log = make_log(tmp_path, [ev(f"2026-05-0{1 + i % 3}T12:00:00Z") for i in range(10)])
    t = an.totals(log, an.Filters(tz="UTC"))
    assert isinstance(t.spend, Decimal)
    assert t.spend == Decimal("1.00") and str(t.spend) == "1.00"
    per_agent = an.spend_per_agent(log, an.Filters(tz="UTC"))
    assert per_agent["spend"].tolist() == [Decimal("1.00")]
    assert str(per_agent["spend"].iloc[0]) == "1.00"
    assert per_agent["spend_float"].tolist() == [1.0]
    assert per_agent["requests"].tolist() == [10]


def test_tiny_prices_keep_every_digit(tmp_path: Path) -> None:
    costs = ["0.000000000000000001", "0.05036", "1000000"]
    log = make_log(tmp_path, [ev("2026-05-01T12:00:00Z", cost=c) for c in costs])
    assert an.totals(log).spend == Decimal("1000000.050360000000000001")


def test_unpriced_events_count_as_requests_not_as_zero_dollars(tmp_path: Path) -> None:
    events = [
        ev("2026-05-01T10:00:00Z", agent="priced", cost="0.25"),
        ev("2026-05-01T11:00:00Z", agent="priced", cost=None),
        ev("2026-05-01T12:00:00Z", agent="free-text", cost=None),
        ev("2026-05-01T13:00:00Z", agent="free-text", cost=None),
    ]
    log = make_log(tmp_path, events)
    t = an.totals(log)
    assert (t.spend, t.requests, t.unpriced_requests) == (Decimal("0.25"), 4, 3)
    per_agent = an.spend_per_agent(log).set_index("agent_name")
    assert per_agent.loc["priced", "spend"] == Decimal("0.25")
    assert per_agent.loc["priced", "unpriced_requests"] == 1
    assert per_agent.loc["free-text", "spend"] is None
    assert per_agent.loc["free-text", "requests"] == 2
    assert list(per_agent.index) == ["priced", "free-text"]  # unpriced sorts last
    only_unpriced = an.totals(log, an.Filters(agents=("free-text",)))
    assert only_unpriced.spend is None and only_unpriced.unpriced_requests == 2


# ------------------------------------------------------------------ local days


def test_spring_forward_days_in_new_york(tmp_path: Path) -> None:
    log = make_log(
        tmp_path,
        [
            ev("2026-03-09T03:30:00Z", cost="1"),  # 23:30 EDT on 8 March (DST began that day)
            ev("2026-03-09T04:30:00Z", cost="2"),  # 00:30 EDT on 9 March
        ],
    )
    f = an.Filters(tz=NY)
    daily = an.daily_spend(log, f)
    assert daily["day"].tolist() == [date(2026, 3, 8), date(2026, 3, 9)]
    assert daily["spend"].tolist() == [Decimal("1.00"), Decimal("2.00")]
    on_9th = an.Filters(start=date(2026, 3, 9), end=date(2026, 3, 9), tz=NY)
    assert an.totals(log, on_9th).spend == Decimal("2.00")
    assert an.tokens_over_time(log, f)["day"].tolist() == [date(2026, 3, 8), date(2026, 3, 9)]
    # The same instants are one UTC day.
    assert an.daily_spend(log, an.Filters(tz="UTC"))["day"].tolist() == [date(2026, 3, 9)]


def test_fall_back_hour_stays_on_one_day(tmp_path: Path) -> None:
    log = make_log(
        tmp_path,
        [
            ev("2026-11-01T05:30:00Z", cost="1"),  # 01:30 EDT
            ev("2026-11-01T06:30:00Z", cost="2"),  # 01:30 EST, the repeated hour
            ev("2026-11-02T04:59:00Z", cost="4"),  # 23:59 EST, still 1 November
        ],
    )
    f = an.Filters(start=date(2026, 11, 1), end=date(2026, 11, 1), tz=NY)
    daily = an.daily_spend(log, f)
    assert daily["day"].tolist() == [date(2026, 11, 1)]
    assert daily["spend"].tolist() == [Decimal("7.00")]
    assert an.totals(log, f).requests == 3


def test_local_days_without_arrow_time_zone_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows without tzdata: Arrow cannot convert, zoneinfo does the same job."""
    log = make_log(
        tmp_path,
        [
            ev("2026-03-09T03:30:00Z", cost="1"),
            ev("2026-03-09T04:30:00Z", cost="2"),
            ev("2026-11-01T05:30:00Z", cost="4"),
            ev("2026-11-01T06:30:00Z", cost="8"),
        ],
    )

    def no_tzdb(*args: Any, **kwargs: Any) -> Any:
        raise pa.ArrowInvalid("Cannot locate or parse timezone 'America/New_York'")

    monkeypatch.setattr(an.pc, "local_timestamp", no_tzdb)
    daily = an.daily_spend(log, an.Filters(tz=NY))
    assert daily["day"].tolist() == [date(2026, 3, 8), date(2026, 3, 9), date(2026, 11, 1)]
    assert daily["spend"].tolist() == [Decimal("1.00"), Decimal("2.00"), Decimal("12.00")]


@pytest.mark.parametrize(
    ("zone", "instant", "local_day"),
    [
        ("Asia/Tokyo", "2026-03-08T20:00:00Z", date(2026, 3, 9)),  # UTC partition the day before
        ("Pacific/Honolulu", "2026-03-09T08:00:00Z", date(2026, 3, 8)),  # the day after
        ("Pacific/Kiritimati", "2026-03-08T10:30:00Z", date(2026, 3, 9)),  # UTC+14
    ],
)
def test_date_filter_reaches_neighbouring_utc_partitions(
    tmp_path: Path, zone: str, instant: str, local_day: date
) -> None:
    log = make_log(tmp_path, [ev(instant, cost="3")])
    f = an.Filters(start=local_day, end=local_day, tz=zone)
    assert an.totals(log, f).spend == Decimal("3.00")
    assert an.daily_spend(log, f)["day"].tolist() == [local_day]
    other = date.fromordinal(local_day.toordinal() + 1)
    assert an.totals(log, an.Filters(start=other, end=other, tz=zone)).requests == 0


def test_partitions_outside_the_range_are_never_opened(tmp_path: Path) -> None:
    log = make_log(tmp_path, [ev("2026-03-09T12:00:00Z", cost="1")])
    bad = log.path / "date=2020-01-01" / "part-broken.parquet"
    bad.parent.mkdir()
    bad.write_bytes(b"not parquet at all")
    f = an.Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), tz=NY)
    assert an.totals(log, f).spend == Decimal("1.00")
    assert len(an.daily_spend(log, f)) == 1
    # Without a date range it is opened: an error, or (robust reads) a skip that says so.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            an.totals(log, an.Filters(tz=NY))
        except LogError:
            return
    assert any("part-broken.parquet" in str(w.message) for w in caught)


class SpyLog(EventLog):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.columns: list[list[str]] = []

    def read(self, columns: Any = None, filter: ds.Expression | None = None, **kw: Any) -> pa.Table:
        self.columns.append(list(columns or []))
        return super().read(columns, filter, **kw)


def test_only_needed_columns_are_read(tmp_path: Path) -> None:
    make_log(tmp_path, [ev("2026-03-09T12:00:00Z")])
    log = SpyLog(tmp_path / "events")
    an.totals(log)
    an.spend_per_agent(log)
    an.daily_spend(log, an.Filters(start=date(2026, 3, 9), tz="UTC"))
    assert log.columns[0] == ["status", "cost_usd", "input_tokens", "output_tokens"]
    for read in log.columns:
        assert read and not {"error", "tags", "endpoint", "event_id", "api_key"} & set(read)


# ---------------------------------------------------------------------- filters


@pytest.fixture
def four(tmp_path: Path) -> EventLog:
    """Four events whose costs are powers of two: every subset has its own sum."""
    k1, k2 = "sk-first-key-000000000001", "sk-second-key-00000000002"
    rows = [
        ("2026-04-01T12:00:00Z", "alpha", "t1", k1, "p1", "https://a/x", "success", "1"),
        ("2026-04-02T12:00:00Z", "beta", "t2", k2, "p2", "https://b/x", "error", "2"),
        ("2026-04-02T13:00:00Z", "alpha", "t2", k1, "p2", "https://a/x", "error", "4"),
        ("2026-04-01T14:00:00Z", "beta", "t1", k2, None, "https://b/x", "timeout", "8"),
    ]
    return make_log(
        tmp_path,
        [
            ev(
                ts,
                agent=agent,
                team=team,
                api_key=mask_key(key),
                api_key_hash=key_hash(key),
                project=project,
                endpoint=endpoint,
                status=status,
                cost=cost,
            )
            for ts, agent, team, key, project, endpoint, status, cost in rows
        ],
    )


@pytest.mark.parametrize(
    ("filters", "spend"),
    [
        ({}, "15"),
        ({"agents": ("alpha",)}, "5"),
        ({"agents": ["beta"]}, "10"),
        ({"teams": ("t1",)}, "9"),
        ({"api_keys": (key_hash("sk-second-key-00000000002"),)}, "10"),
        ({"projects": ("p2",)}, "6"),
        ({"endpoints": ("https://a/x",)}, "5"),
        ({"statuses": ("success",)}, "1"),
        ({"statuses": ("error", "timeout")}, "14"),
        ({"start": date(2026, 4, 2), "end": date(2026, 4, 2)}, "6"),
        ({"end": date(2026, 4, 1)}, "9"),
        ({"agents": ("alpha",), "start": date(2026, 4, 2)}, "4"),
        ({"agents": ("nobody",)}, "0"),
    ],
)
def test_each_filter_changes_the_result(
    four: EventLog, filters: dict[str, Any], spend: str
) -> None:
    f = an.Filters(tz="UTC", **filters)
    assert an.totals(four, f).spend == Decimal(spend)
    per_agent = an.spend_per_agent(four, f)
    assert sum(per_agent["spend"], Decimal(0)) == Decimal(spend)
    daily = an.daily_spend(four, f)
    assert sum(daily["spend"], Decimal(0)) == Decimal(spend)


def test_totals_and_success_rate(four: EventLog) -> None:
    t = an.totals(four, an.Filters(tz="UTC"))
    assert (t.requests, t.successful, t.failed, t.unpriced_requests) == (4, 1, 3, 0)
    assert t.success_rate == 0.25
    assert t.to_frame()["requests"].tolist() == [4]


def test_spend_by_key_team_project(four: EventLog) -> None:
    keys = an.spend_by(four, "api_key")
    assert keys.columns[:2].tolist() == ["api_key_hash", "api_key"]
    assert keys["api_key_hash"].tolist() == [
        key_hash("sk-second-key-00000000002"),
        key_hash("sk-first-key-000000000001"),
    ]
    assert keys["api_key"].tolist() == ["sk-…0002", "sk-…0001"]
    assert keys["spend"].tolist() == [Decimal("10.00"), Decimal("5.00")]
    teams = an.spend_by(four, "team", an.Filters(statuses=("error",)))
    assert teams["team"].tolist() == ["t2"] and teams["spend"].tolist() == [Decimal("6.00")]
    projects = an.spend_by(four, "project")
    assert projects["project"].isna().tolist() == [True, False, False]  # no project: one group
    assert projects["project"].tolist()[1:] == ["p2", "p1"]
    assert projects["spend"].tolist() == [Decimal("8.00"), Decimal("6.00"), Decimal("1.00")]
    with pytest.raises(ValueError, match="api_key, team, project"):
        an.spend_by(four, "model")  # type: ignore[arg-type]


# ------------------------------------------------------------ the other frames


def test_model_usage_groups_agent_and_model(tmp_path: Path) -> None:
    events = [
        ev("2026-04-01T10:00:00Z", model="m1", input_tokens=10, output_tokens=1, cost="1"),
        ev("2026-04-01T11:00:00Z", model="m1", input_tokens=20, output_tokens=2, cost="1"),
        ev("2026-04-01T12:00:00Z", model="m2", input_tokens=5, output_tokens=5, cost="3"),
        ev("2026-04-01T13:00:00Z", agent="beta", model=None, input_tokens=7, cost=None),
    ]
    frame = an.model_usage(make_log(tmp_path, events))
    assert list(frame.columns) == list(an.MODEL_USAGE_COLUMNS)
    rows = frame[["agent_name", "model", "requests", "input_tokens", "output_tokens"]]
    assert rows.fillna({"model": "?"}).values.tolist() == [
        ["alpha", "m2", 1, 5, 5],
        ["alpha", "m1", 2, 30, 3],
        ["beta", "?", 1, 7, 0],
    ]
    assert frame["spend"].tolist() == [Decimal("3.00"), Decimal("2.00"), None]


def test_activity_counts_rates_and_exact_latency_percentiles(tmp_path: Path) -> None:
    latencies = [100.0, 200.0, 300.0, 400.0, 1000.0]
    statuses = ["success", "success", "error", "success", "timeout"]
    events = [
        ev(f"2026-04-01T1{i}:00:00Z", latency_ms=lat, status=st, display_name="Alpha")
        for i, (lat, st) in enumerate(zip(latencies, statuses, strict=True))
    ]
    events.append(ev("2026-04-01T10:30:00Z", agent="beta", latency_ms=None))
    frame = an.activity(make_log(tmp_path, events)).set_index("agent_name")
    alpha = frame.loc["alpha"]
    assert (alpha["requests"], alpha["successful"], alpha["failed"]) == (5, 3, 2)
    assert alpha["success_rate"] == pytest.approx(0.6)
    assert alpha["display_name"] == "Alpha"
    assert alpha["latency_p50_ms"] == np.quantile(latencies, 0.5) == 300.0
    assert alpha["latency_p95_ms"] == pytest.approx(np.quantile(latencies, 0.95))
    assert frame.loc["beta", "display_name"] == "beta"
    assert np.isnan(frame.loc["beta", "latency_p50_ms"])


def test_display_name_is_the_latest_one(tmp_path: Path) -> None:
    events = [
        ev("2026-04-01T10:00:00Z", display_name="Old name"),
        ev("2026-04-03T10:00:00Z", display_name="New name"),
        ev("2026-04-02T10:00:00Z", display_name=None),
    ]
    assert an.spend_per_agent(make_log(tmp_path, events))["display_name"].tolist() == ["New name"]


def test_tokens_over_time(tmp_path: Path) -> None:
    events = [
        ev("2026-04-01T10:00:00Z", input_tokens=10, output_tokens=1),
        ev("2026-04-01T23:30:00Z", input_tokens=20, output_tokens=2),  # 2 April in Paris
    ]
    log = make_log(tmp_path, events)
    paris = an.tokens_over_time(log, an.Filters(tz="Europe/Paris"))
    assert paris.values.tolist() == [[date(2026, 4, 1), 10, 1, 11], [date(2026, 4, 2), 20, 2, 22]]
    assert an.tokens_over_time(log, an.Filters(tz="UTC"))["total_tokens"].tolist() == [33]


def test_kpis_compare_with_the_previous_period(tmp_path: Path) -> None:
    events = [
        ev("2026-04-03T12:00:00Z", cost="1"),  # previous week
        ev("2026-04-05T12:00:00Z", cost="3", status="error"),  # previous week
        ev("2026-04-08T12:00:00Z", cost="6"),
        ev("2026-04-09T12:00:00Z", cost="0.5"),
        ev("2026-04-10T12:00:00Z", cost="0.5"),
    ]
    log = make_log(tmp_path, events)
    f = an.Filters(start=date(2026, 4, 7), end=date(2026, 4, 13), tz="UTC")
    k = an.kpis(log, f)
    assert k.previous_filters is not None
    assert (k.previous_filters.start, k.previous_filters.end) == (
        date(2026, 3, 31),
        date(2026, 4, 6),
    )
    assert k.current.spend == Decimal("7.00") and k.previous is not None
    assert k.previous.spend == Decimal("4.00")
    assert k.change("spend") == Decimal("3.00")
    assert k.change_pct("spend") == 0.75
    assert k.change("requests") == 1 and k.change_pct("requests") == 0.5
    assert k.change("success_rate") == pytest.approx(0.5)
    table = k.to_frame().set_index("metric")
    assert table.loc["spend", "value"] == Decimal("7.00")
    assert table.loc["failed", "change_pct"] == -1.0
    # Open-ended start: the period runs to "today".
    open_ended = an.kpis(log, an.Filters(start=date(2026, 4, 7), tz="UTC"), today=date(2026, 4, 13))
    assert open_ended.previous is not None and open_ended.previous.spend == Decimal("4.00")
    # No start: nothing to compare with.
    unbounded = an.kpis(log, an.Filters(tz="UTC"))
    assert unbounded.previous is None and unbounded.change("spend") is None
    # A start after today (a From date picked in the future): a one-day period, no error.
    future = an.kpis(log, an.Filters(start=date(2026, 4, 20), tz="UTC"), today=date(2026, 4, 13))
    assert future.current.requests == 0 and future.previous_filters is not None
    assert (future.previous_filters.start, future.previous_filters.end) == (
        date(2026, 4, 19),
        date(2026, 4, 19),
    )


def test_recent_events_pages_newest_first(tmp_path: Path) -> None:
    events = [ev(f"2026-04-0{d}T1{h}:00:00Z", cost=f"{d}.{h}") for d in (1, 2, 3) for h in range(4)]
    log = make_log(tmp_path, events)
    first = an.recent_events(log, an.Filters(tz=NY), limit=5)
    assert (first.total, first.pages, len(first.frame)) == (12, 3, 5)
    assert list(first.frame.columns) == list(an.RECENT_COLUMNS)
    assert first.frame["cost_usd"].tolist() == [
        Decimal(x) for x in ("3.3", "3.2", "3.1", "3.0", "2.3")
    ]
    assert str(first.frame["time"].dt.tz) == NY
    assert first.frame["time"].iloc[0].hour == 9  # 13:00 UTC is 09:00 EDT
    last = an.recent_events(log, an.Filters(tz=NY), limit=5, offset=10)
    assert last.frame["cost_usd"].tolist() == [Decimal("1.1"), Decimal("1.0")]
    filtered = an.recent_events(
        log, an.Filters(start=date(2026, 4, 2), end=date(2026, 4, 2), tz="UTC")
    )
    assert filtered.total == 4
    assert an.recent_events(log, limit=5, offset=50).frame.empty


def test_recent_events_breaks_timestamp_ties_stably(tmp_path: Path) -> None:
    events = [ev("2026-04-01T10:00:00Z", event_id=f"id{i:02d}") for i in range(6)]
    log = make_log(tmp_path, events)
    ids = [an.recent_events(log, limit=2, offset=o).frame["event_id"].tolist() for o in (0, 2, 4)]
    assert ids == [["id05", "id04"], ["id03", "id02"], ["id01", "id00"]]


# ----------------------------------------------------------- empty and tiny logs


FRAME_FUNCTIONS = [
    (an.spend_per_agent, an.SPEND_PER_AGENT_COLUMNS),
    (an.daily_spend, an.DAILY_SPEND_COLUMNS),
    (an.model_usage, an.MODEL_USAGE_COLUMNS),
    (an.activity, an.ACTIVITY_COLUMNS),
    (an.tokens_over_time, an.TOKENS_COLUMNS),
]


@pytest.mark.parametrize("exists", [False, True])
def test_zero_events_give_empty_frames_with_the_right_columns(tmp_path: Path, exists: bool) -> None:
    log = EventLog(tmp_path / "events")
    if exists:
        log.path.mkdir()
    f = an.Filters(start=date(2026, 1, 1), end=date(2026, 1, 31), tz=NY)
    for function, columns in FRAME_FUNCTIONS:
        for filters in (an.Filters(), f):
            frame = function(log, filters)
            assert frame.empty and list(frame.columns) == list(columns), function
    assert list(an.spend_by(log, "api_key").columns) == [
        "api_key_hash",
        "api_key",
        *an.SPEND_BY_TAIL,
    ]
    t = an.totals(log, f)
    assert (t.spend, t.requests, t.unpriced_requests, t.success_rate) == (
        Decimal("0.00"),
        0,
        0,
        None,
    )
    k = an.kpis(log, f)
    assert k.change("spend") == 0 and k.change_pct("spend") is None
    page = an.recent_events(log, f)
    assert page.total == 0 and page.frame.empty and page.pages == 0


def test_one_event_gives_one_row_everywhere(tmp_path: Path) -> None:
    log = make_log(
        tmp_path,
        [ev("2026-04-01T12:00:00Z", latency_ms=50.0, input_tokens=3, output_tokens=4, model="m")],
    )
    for function, columns in FRAME_FUNCTIONS:
        frame = function(log, an.Filters(tz="UTC"))
        assert len(frame) == 1 and list(frame.columns) == list(columns)
    assert an.activity(log)["latency_p95_ms"].tolist() == [50.0]
    assert an.totals(log).total_tokens == 7
    assert an.recent_events(log).total == 1


# ----------------------------------------------------------------- the Filters


def test_filters_validate_and_normalise() -> None:
    with pytest.raises(ValidationError, match="end"):
        an.Filters(start=date(2026, 2, 2), end=date(2026, 2, 1))
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        an.Filters(tz="Mars/Olympus")
    f = an.Filters(agents=["a", "b"], teams="solo", start=datetime(2026, 2, 1, 15, tzinfo=UTC))  # type: ignore[arg-type]
    assert f.agents == ("a", "b") and f.teams == ("solo",) and f.start == date(2026, 2, 1)
    assert hash(f) == hash(an.Filters(agents=("a", "b"), teams=("solo",), start=date(2026, 2, 1)))
    week = an.Filters.last_days(7, today=date(2026, 3, 10), tz=NY)
    assert (week.start, week.end, week.tz) == (date(2026, 3, 4), date(2026, 3, 10), NY)


def test_default_zone_follows_tz_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    assert an.default_zone() == "Asia/Kolkata"
    assert an.Filters().zone == "Asia/Kolkata"
    assert an.Filters(tz="Europe/Paris").zone == "Europe/Paris"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert an.default_zone() != "Not/AZone"
    assert an._valid_zone(an.default_zone())


def test_dashboard_aggregates_scale_in_arrow(tmp_path: Path) -> None:
    """200k synthetic events: results agree with a direct Arrow computation."""
    from agentcost_nb.synthetic import write_synthetic

    log = EventLog(tmp_path / "events")
    write_synthetic(log, 200_000, days=30, end=datetime(2026, 6, 1, tzinfo=UTC), seed=3)
    raw = log.read(["agent_name", "cost_usd"])
    expected = {
        r["agent_name"]: r["cost_usd_sum"]
        for r in raw.group_by("agent_name").aggregate([("cost_usd", "sum")]).to_pylist()
    }
    got = an.spend_per_agent(log, an.Filters(tz=NY))
    assert dict(zip(got["agent_name"], got["spend"], strict=True)) == expected
    assert an.totals(log).spend == pc.sum(raw["cost_usd"]).as_py()
    daily = an.daily_spend(log, an.Filters(tz=NY))
    assert daily["requests"].sum() == 200_000
    assert daily["day"].nunique() in (30, 31)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"start": "garbage"}, "start"),
        ({"end": 20260301}, "end"),
        ({"start": date(1, 1, 1)}, "start"),
        ({"end": date(9999, 12, 31)}, "end"),
        ({"agents": [1, 2]}, "agents"),
        ({"teams": [None]}, "teams"),
        ({"since": "yesterday"}, "since"),
        ({"tz": 5}, "tz"),
    ],
)
def test_filters_refuse_what_they_cannot_use_when_made_naming_the_field(kw, field) -> None:
    with pytest.raises(ValidationError) as info:
        an.Filters(**kw)
    assert field in info.value.fields


def test_filters_take_iso_dates_and_none_for_all() -> None:
    f = an.Filters(start="2026-03-01", end=" 2026-03-31 ", agents=None, teams="finance")
    assert (f.start, f.end, f.agents, f.teams) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        (),
        ("finance",),
    )
