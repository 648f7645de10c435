"""Reports and exports: exact files from the log, and the ``report`` command."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentcost_nb import analytics as an
from agentcost_nb.cli import main
from agentcost_nb.errors import ValidationError
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import EVENT_SCHEMA, Event
from agentcost_nb.report import (
    CHART_NAMES,
    SUMMARY_NAMES,
    export_events,
    report_filters,
    write_report,
)


def ev(ts: str, agent: str = "alpha", cost: str | None = "0.10", **columns: Any) -> Event:
    return Event(
        agent_name=agent,
        status=columns.pop("status", "success"),
        timestamp=datetime.fromisoformat(ts),
        cost_usd=Decimal(cost) if cost is not None else None,
        **columns,
    )


def make_log(tmp_path: Path, events: list[Event]) -> EventLog:
    log = EventLog(tmp_path / "home" / "events")
    log.append(events)
    return log


# ------------------------------------------------------------ analytics additions


def test_since_keeps_only_events_at_or_after_the_instant(tmp_path: Path) -> None:
    log = make_log(
        tmp_path,
        [
            ev("2026-03-09T10:59:59Z", cost="1"),
            ev("2026-03-09T11:00:00Z", cost="2"),
            ev("2026-03-10T09:00:00Z", cost="4"),
        ],
    )
    since = datetime(2026, 3, 9, 11, tzinfo=UTC)
    assert an.totals(log, an.Filters(since=since, tz="UTC")).spend == Decimal("6.00")
    f = an.Filters(start=date(2026, 3, 9), since=since, tz="UTC")
    assert an.totals(log, f).spend == Decimal("6.00")
    prev = f.previous_period(today=date(2026, 3, 10))
    assert prev is not None
    assert (prev.start, prev.end) == (date(2026, 3, 7), date(2026, 3, 8))
    assert prev.since == datetime(2026, 3, 7, 11, tzinfo=UTC)
    with pytest.raises(ValidationError, match="since"):
        an.Filters(since=datetime(2026, 3, 9, 11))


def test_filtered_events_are_every_stored_column_oldest_first(tmp_path: Path) -> None:
    log = make_log(
        tmp_path,
        [
            ev("2026-03-10T09:00:00Z", agent="b", cost="0.000000000000000001"),
            ev("2026-03-09T09:00:00Z", agent="a", cost="0.05036"),
            ev("2026-03-09T08:00:00Z", agent="c", cost=None),
        ],
    )
    table = an.filtered_events(log, an.Filters(agents=("a", "b"), tz="UTC"))
    assert table.schema.names == EVENT_SCHEMA.names
    assert table.schema.field("cost_usd").type == EVENT_SCHEMA.field("cost_usd").type
    assert table["agent_name"].to_pylist() == ["a", "b"]
    assert table["cost_usd"].to_pylist() == [Decimal("0.05036"), Decimal("1E-18")]
    only = an.filtered_events(log, an.Filters(tz="UTC"), columns=["agent_name"])
    assert only.column_names == ["agent_name"]
    assert only["agent_name"].to_pylist() == ["c", "a", "b"]
    assert an.filtered_events(EventLog(tmp_path / "none"), None).num_rows == 0


# ------------------------------------------------------------------ --since


NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 11:30 in New York (EDT since 8 March)


@pytest.mark.parametrize(
    ("since", "start", "end", "instant"),
    [
        ("30d", date(2026, 2, 9), date(2026, 3, 10), None),
        ("1d", date(2026, 3, 10), date(2026, 3, 10), None),
        ("24h", date(2026, 3, 9), None, datetime(2026, 3, 9, 15, 30, tzinfo=UTC)),
        ("36H", date(2026, 3, 8), None, datetime(2026, 3, 9, 3, 30, tzinfo=UTC)),
        ("2026-03-01", date(2026, 3, 1), date(2026, 3, 10), None),
        ("2026-03-09T09:00", date(2026, 3, 9), None, datetime(2026, 3, 9, 13, tzinfo=UTC)),
        ("2026-03-09T01:00+00:00", date(2026, 3, 8), None, datetime(2026, 3, 9, 1, tzinfo=UTC)),
    ],
)
def test_since_reads_days_hours_and_iso_dates(
    since: str, start: date, end: date | None, instant: datetime | None
) -> None:
    f = report_filters(since, tz="America/New_York", now=NOW, teams=["t"])
    assert (f.start, f.end, f.since, f.zone, f.teams) == (
        start,
        end,
        instant,
        "America/New_York",
        ("t",),
    )


@pytest.mark.parametrize("since", ["0d", "30m", "yesterday", "2026-13-01", ""])
def test_since_refuses_what_it_cannot_read(since: str) -> None:
    with pytest.raises(ValidationError, match="since"):
        report_filters(since, tz="UTC", now=NOW)


def test_until_and_time_zone_are_checked() -> None:
    assert report_filters("2026-03-01", until="2026-03-05", tz="UTC", now=NOW).end == date(
        2026, 3, 5
    )
    with pytest.raises(ValidationError, match="until"):
        report_filters("30d", until="soon", tz="UTC", now=NOW)
    with pytest.raises(ValidationError, match="tz"):
        report_filters("30d", tz="Mars/Olympus", now=NOW)


# ------------------------------------------------------------------ reports


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def small_log(tmp_path: Path) -> EventLog:
    return make_log(
        tmp_path,
        [
            # New York: 03:30Z on 9 March is still 8 March; 04:30Z is 9 March.
            ev("2026-03-09T03:30:00Z", "a.b:c", "1", display_name='Say "hi" 🚀', team="t1"),
            ev("2026-03-09T04:30:00Z", "a.b:c", "2", display_name='Say "hi" 🚀', team="t1"),
            ev("2026-03-09T12:00:00Z", "other", "0.05036", team="t2", latency_ms=100.0),
            ev(
                "2026-03-09T13:00:00Z",
                "other",
                "0.000000000000000001",
                team="t2",
                status="error",
                latency_ms=300.0,
            ),
            ev("2026-02-01T13:00:00Z", "old", "9"),
        ],
    )


def test_write_report_writes_every_chart_and_exact_csv_summaries(
    small_log: EventLog, tmp_path: Path
) -> None:
    f = report_filters("2026-03-01", tz="America/New_York", now=NOW)
    done = write_report(small_log, f, tmp_path / "out")
    names = sorted(p.name for p in done.files)
    assert names == sorted(
        [f"{n}.csv" for n in SUMMARY_NAMES]
        + [f"{c}.{k}" for c in CHART_NAMES for k in ("png", "svg")]
    )
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in done.files)
    for chart in CHART_NAMES:
        assert (tmp_path / "out" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / "out" / f"{chart}.svg").read_text().startswith("<svg")
    assert 'Say "hi" 🚀' in (tmp_path / "out" / "spend_per_agent.svg").read_text().replace(
        "&quot;", '"'
    )

    per_agent = read_csv(tmp_path / "out" / "spend_per_agent.csv")
    assert [(r["agent_name"], r["display_name"], r["spend"]) for r in per_agent] == [
        ("a.b:c", 'Say "hi" 🚀', "3.00"),
        ("other", "other", "0.050360000000000001"),
    ]
    assert "spend_float" not in per_agent[0]
    daily = read_csv(tmp_path / "out" / "daily_spend.csv")
    assert [(r["day"], r["agent_name"], r["spend"]) for r in daily] == [
        ("2026-03-08", "a.b:c", "1.00"),
        ("2026-03-09", "a.b:c", "2.00"),
        ("2026-03-09", "other", "0.050360000000000001"),
    ]
    (totals,) = read_csv(tmp_path / "out" / "totals.csv")
    assert {k: totals[k] for k in ("start", "end", "time_zone", "spend", "requests", "failed")} == {
        "start": "2026-03-01",
        "end": "2026-03-10",
        "time_zone": "America/New_York",
        "spend": "3.050360000000000001",
        "requests": "4",
        "failed": "1",
    }
    activity = {r["agent_name"]: r for r in read_csv(tmp_path / "out" / "activity.csv")}
    assert (activity["other"]["success_rate"], activity["other"]["latency_p50_ms"]) == (
        "0.5",
        "200.0",
    )
    assert activity["a.b:c"]["latency_p50_ms"] == ""  # no latency recorded: blank, not "nan"
    assert "4 calls, $3.050360000000000001 (3 ok, 1 failed)" in done.summary()


def test_report_of_an_empty_selection_still_writes_every_file(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "nothing" / "events")
    done = write_report(log, an.Filters(tz="UTC"), tmp_path / "out", formats=("svg",))
    assert len(done.files) == len(SUMMARY_NAMES) + len(CHART_NAMES)
    for chart in CHART_NAMES:
        assert "no data for this selection" in (tmp_path / "out" / f"{chart}.svg").read_text()
    assert read_csv(tmp_path / "out" / "spend_per_agent.csv") == []
    assert (tmp_path / "out" / "spend_per_agent.csv").read_text().startswith("agent_name,")
    (totals,) = read_csv(tmp_path / "out" / "totals.csv")
    assert (totals["requests"], totals["spend"]) == ("0", "0.00")


def test_report_command(
    small_log: EventLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = small_log.path.parent
    out = tmp_path / "report"
    code = main(
        ["--home", str(home), "report", "--since", "2026-03-01", "--until", "2026-03-31",
         "--tz", "UTC", "--out", str(out), "--team", "t2"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "2026-03-01 to 2026-03-31 (UTC); teams: t2: 2 calls" in printed
    assert f"wrote 16 files to {out}" in printed
    assert [r["agent_name"] for r in read_csv(out / "spend_per_agent.csv")] == ["other"]
    assert (out / "daily_spend.png").exists() and (out / "tokens_per_day.svg").exists()

    assert main(["--home", str(home), "report", "--since", "last week", "--out", str(out)]) == 2
    assert "since" in capsys.readouterr().err


# ------------------------------------------------------------------ exports


def test_csv_export_is_exact_text(small_log: EventLog, tmp_path: Path) -> None:
    f = an.Filters(start=date(2026, 3, 1), tz="UTC", teams=("t2",))
    done = export_events(small_log, f, "csv", tmp_path / "exports", now=NOW)
    assert done.path.name == "agentcost-events_2026-03-01_now_filtered_20260310-153000.csv"
    assert (done.rows, done.format, done.media_type) == (2, "csv", "text/csv")
    rows = read_csv(done.path)
    assert list(rows[0]) == EVENT_SCHEMA.names
    assert [r["cost_usd"] for r in rows] == ["0.05036", "0.000000000000000001"]
    assert [r["timestamp"] for r in rows] == [
        "2026-03-09T12:00:00.000000Z",
        "2026-03-09T13:00:00.000000Z",
    ]
    assert [r["status"] for r in rows] == ["success", "error"]
    assert rows[0]["tags"] == "[]" and rows[0]["latency_ms"] == "100"
    assert not list(done.path.parent.glob(".*"))  # no temporary file left behind


def test_parquet_export_keeps_decimal128(small_log: EventLog, tmp_path: Path) -> None:
    done = export_events(small_log, an.Filters(tz="UTC"), "PARQUET", tmp_path, name="all.parquet")
    assert (done.path, done.rows, done.format) == (tmp_path / "all.parquet", 5, "parquet")
    table = pq.read_table(done.path)
    assert table.schema.field("cost_usd").type == pa.decimal128(38, 18)
    assert table.schema.names == EVENT_SCHEMA.names
    assert table["cost_usd"].to_pylist() == [
        Decimal("9"),
        Decimal("1"),
        Decimal("2"),
        Decimal("0.05036"),
        Decimal("1E-18"),
    ]
    frame = pd.read_parquet(done.path)
    assert frame["cost_usd"].sum() == Decimal("12.050360000000000001")


def test_export_of_nothing_and_bad_formats(tmp_path: Path) -> None:
    empty = EventLog(tmp_path / "none")
    csv_done = export_events(empty, an.Filters(tz="UTC"), "csv", tmp_path, name="e.csv")
    assert csv_done.rows == 0
    assert csv_done.path.read_text().splitlines() == [
        ",".join(f'"{n}"' for n in EVENT_SCHEMA.names)
    ]
    assert pq.read_table(export_events(empty, an.Filters(), "parquet", tmp_path).path).num_rows == 0
    with pytest.raises(ValidationError, match="csv or parquet"):
        export_events(empty, an.Filters(), "xlsx", tmp_path)


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_files_keep_text_a_spreadsheet_would_run_as_text(tmp_path: Path, formula: str) -> None:
    log = make_log(
        tmp_path,
        [ev("2026-03-09T12:00:00+00:00", agent=f"a{formula}", team=formula, cost="0.5")],
    )
    f = an.Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), tz="UTC")
    rows = read_csv(export_events(log, f, "csv", tmp_path / "exports", now=NOW).path)
    assert rows[0]["team"] == "'" + formula  # shown as typed, never run
    assert rows[0]["agent_name"] == "a" + formula  # not at the start: left as it is
    assert Decimal(rows[0]["cost_usd"]) == Decimal("0.5")
    write_report(log, f, tmp_path / "report", formats=())
    spend = read_csv(tmp_path / "report" / "spend_per_agent.csv")
    assert spend[0]["agent_name"] == "a" + formula and Decimal(spend[0]["spend"]) == Decimal("0.5")


def test_negative_money_in_csv_summaries_stays_a_number(tmp_path: Path) -> None:
    from agentcost_nb.report import write_csv

    path = write_csv(
        pd.DataFrame({"team": ["-x"], "difference_usd": [Decimal("-0.06")]}), tmp_path / "d.csv"
    )
    assert read_csv(path) == [{"team": "'-x", "difference_usd": "-0.06"}]
