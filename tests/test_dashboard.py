"""The dashboard widget without a browser: every action from code, real values after it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from agentcost_nb import analytics as an
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
from agentcost_nb.keys import key_hash, mask_key

KEY_A = "sk-live-aaaaaaaaaaaaaaaa1111"
KEY_B = "sk-live-bbbbbbbbbbbbbbbb2222"


def ev(ts: str, agent: str = "alpha", cost: str | None = "0.10", **columns: Any) -> Event:
    return Event(
        agent_name=agent,
        status=columns.pop("status", "success"),
        timestamp=datetime.fromisoformat(ts),
        cost_usd=Decimal(cost) if cost is not None else None,
        **columns,
    )


def keyed(ts: str, agent: str, key: str, **columns: Any) -> Event:
    return ev(ts, agent, api_key=mask_key(key), api_key_hash=key_hash(key), **columns)


def test_filter_choices_come_from_the_data_busiest_first(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            keyed("2026-03-01T10:00:00Z", "a", KEY_A, display_name="Old A", team="t1"),
            keyed("2026-03-02T10:00:00Z", "a", KEY_A, display_name="Ant", project="p"),
            keyed("2026-03-02T11:00:00Z", "b", KEY_B, team="t2"),
            keyed("2026-03-02T12:00:00Z", "b", KEY_B, team="t2"),
            ev("2026-03-02T13:00:00Z", "b"),
            ev("2026-01-01T13:00:00Z", "gone", team="old"),
        ]
    )
    got = an.filter_choices(log, an.Filters(start=datetime(2026, 3, 1), tz="UTC"))
    assert list(got.columns) == list(an.CHOICE_COLUMNS)
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        ("agent", "b", "b", 3),
        ("agent", "a", "Ant", 2),
        ("api_key", key_hash(KEY_A), "sk-…1111", 2),
        ("api_key", key_hash(KEY_B), "sk-…2222", 2),
        ("team", "t2", "t2", 2),
        ("team", "t1", "t1", 1),
        ("project", "p", "p", 1),
    ]
    assert len(an.filter_choices(EventLog(tmp_path / "none"))) == 0
