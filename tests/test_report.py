"""Reports and exports: exact files from the log, and the ``report`` command."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agentcost_nb import analytics as an
from agentcost_nb.errors import ValidationError
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import EVENT_SCHEMA, Event


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
