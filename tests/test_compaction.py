"""Compaction: a day's files become one; nothing lost, nothing doubled, one compactor at a time."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
from _logtools import cost_of_id, make_event

from agentcost_nb.compaction import COMPACT_LOCK, compact
from agentcost_nb.eventlog import EventLog, file_lock
from agentcost_nb.events import EVENT_SCHEMA


def _parts(log: EventLog) -> list:
    return sorted(log.path.rglob("part-*.parquet"))


def _fill(log: EventLog, n: int = 60, size: int = 7) -> list[str]:
    events = [make_event(f"e-{i}", i, run=1) for i in range(n)]
    for i in range(0, n, size):
        log.append(events[i : i + size])
    return [e.event_id for e in events]


def test_each_day_becomes_one_sorted_file_with_the_same_events(tmp_path):
    log = EventLog(tmp_path / "events")
    ids = _fill(log)
    before = log.read(["event_id", "cost_usd", "date"]).sort_by("event_id")
    assert len(_parts(log)) > 3
    result = log.compact()
    assert [d.date for d in result.days] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert result.duplicates_removed == 0 and result.files_removed > 0
    files = _parts(log)
    assert len(files) == 3
    for f in files:
        table = pq.read_table(f)
        assert table.schema.metadata == EVENT_SCHEMA.metadata  # schema version kept
        stamps = table["timestamp"].to_pylist()
        assert stamps == sorted(stamps)
    after = log.read(["event_id", "cost_usd", "date"]).sort_by("event_id")
    assert after.equals(before)
    assert sorted(after["event_id"].to_pylist()) == sorted(ids)
    assert log.compact().days == ()  # nothing left to do


def test_one_day_only_and_min_files(tmp_path):
    log = EventLog(tmp_path / "events")
    _fill(log)
    result = compact(log, date(2026, 11, 3))
    assert [d.date for d in result.days] == ["2026-11-03"]
    assert len(list((log.path / "date=2026-11-03").glob("part-*"))) == 1
    assert len(list((log.path / "date=2026-11-02").glob("part-*"))) > 1
    assert log.compact("2026-11-02", min_files=100).days == ()


def test_repeated_events_are_merged_away(tmp_path):
    log = EventLog(tmp_path / "events")
    a, b, c = (make_event(f"r-{i}", 0) for i in range(3))
    log.append([a])
    log.append([a, b])  # a retried with more: two files hold a
    log.append([b, c])
    assert log.read(["event_id"], dedupe=False).num_rows == 5
    assert log.read(["event_id"]).num_rows == 3
    (day,) = log.compact().days
    assert (day.rows_in, day.rows_out) == (5, 3)
    assert log.read(["event_id"], dedupe=False).num_rows == 3


def test_a_compaction_cut_short_is_finished_by_the_next(tmp_path):
    """Killed after renaming the merged file in, before deleting its inputs."""
    log = EventLog(tmp_path / "events")
    ids = _fill(log, n=20, size=3)
    inputs = {p: p.read_bytes() for p in _parts(log)}
    log.compact()
    for path, data in list(inputs.items())[::2]:  # half the inputs "survived"
        path.write_bytes(data)
    assert log.read(["event_id"], dedupe=False).num_rows > 20
    table = log.read(["event_id", "cost_usd"])
    assert sorted(table["event_id"].to_pylist()) == sorted(ids)
    assert sum(table["cost_usd"].to_pylist(), Decimal(0)) == sum(map(cost_of_id, ids), Decimal(0))
    log.compact()
    assert len(_parts(log)) == 3
    assert log.read(["event_id"], dedupe=False).num_rows == 20


def test_a_second_compactor_waits_or_steps_aside(tmp_path):
    log = EventLog(tmp_path / "events")
    _fill(log)
    with file_lock(log.path / COMPACT_LOCK, exclusive=True) as held:
        assert held
        assert log.compact(wait=False).busy
        done = threading.Event()
        waiting = threading.Thread(target=lambda: (log.compact(), done.set()))
        waiting.start()
        assert not done.wait(0.3)  # blocked by the lock (a liveness check, not a timing one)
    waiting.join(30)
    assert done.is_set() and len(_parts(log)) == 3


def test_readers_never_see_an_event_twice_or_not_at_all_while_compacting(tmp_path):
    """Raw reads (no dedupe) during compactions: the swap lock keeps every snapshot exact."""
    log = EventLog(tmp_path / "events")
    committed = set(_fill(log, n=60, size=5))  # ids whose append returned
    lock = threading.Lock()
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def reader() -> None:
        mine = EventLog(log.path)
        while not stop.is_set():
            with lock:
                before = set(committed)
            got = mine.read(["event_id"], dedupe=False)["event_id"].to_pylist()
            reads[0] += 1
            if len(got) != len(set(got)):
                problems.append(f"read {len(got) - len(set(got))} event(s) twice")
            if not before <= set(got):
                problems.append(f"missed {len(before - set(got))} event(s)")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        n = 60
        for _ in range(4):
            for _ in range(4):  # fresh small files on the days
                batch = [make_event(f"e-{n + k}", n + k, run=5) for k in range(5)]
                log.append(batch)
                n += 5
                with lock:
                    committed.update(e.event_id for e in batch)
            assert log.compact().days
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert reads[0] > 5
    assert problems == []
    assert sorted(log.read(["event_id"], dedupe=False)["event_id"].to_pylist()) == sorted(committed)
