"""Crash safety: writers (and compactors) SIGKILLed at random points lose no written event.

A zygote process (tests/_logtools.py) imports the toolkit once and forks a writer
per round; the test kills it after a random delay. Each writer reports the ids of
every batch before ``append`` (attempted) and after it returned (written).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from _logtools import cost_of_id, make_event, read_report

from agentcost_nb.eventlog import EventLog, LogWarning

HERE = Path(__file__).resolve().parent
ROUNDS = 20  # a writer killed each round, and a compactor every third round


class Zygote:
    def __init__(self, events: Path, report: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_logtools.py"), "zygote", str(events), str(report)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def start(self, what: str, seed: int) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{what} {seed}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _wait_dead(pid: int) -> None:
    """The zygote reaps its children; until then /proc shows a zombie."""
    for _ in range(500):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not die")


def test_sigkilled_writers_and_compactors_never_lose_a_written_event(tmp_path):
    events, report = tmp_path / "events", tmp_path / "report.txt"
    rng = random.Random(7)
    zygote = Zygote(events, report)
    kills = 0
    try:
        for round_ in range(ROUNDS):
            pids = [zygote.start("write", round_)]
            if round_ % 3 == 2:  # every third round a compactor runs (and dies) too
                pids.append(zygote.start("compact", round_))
            time.sleep(rng.uniform(0.03, 0.25))
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            for pid in pids:
                _wait_dead(pid)
    finally:
        zygote.close()
    assert kills >= 20

    died = [p.read_text() for p in tmp_path.glob("died-*")]
    assert died == [], "a worker died on its own:\n" + "\n".join(died)
    attempted, written = read_report(report)
    assert len(written) > 100, "the writers hardly wrote anything: the test proves little"

    log = EventLog(events)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LogWarning)  # nothing a killed writer left is unreadable
        table = log.read(["event_id", "cost_usd"])
    ids = table["event_id"].to_pylist()
    assert len(ids) == len(set(ids))
    assert written <= set(ids), f"lost {len(written - set(ids))} written events"
    assert set(ids) <= attempted, "events read that no writer attempted"
    total = sum(table["cost_usd"].to_pylist(), Decimal(0))
    assert total == sum((cost_of_id(i) for i in ids), Decimal(0))

    # Other readers skip the stray temporary files too.
    assert len(pd.read_parquet(events)) >= len(ids)
    duckdb = pytest.importorskip("duckdb")
    n = duckdb.sql(
        f"select count(distinct event_id) from read_parquet('{events}/*/*.parquet')"
    ).fetchall()
    assert n == [(len(ids),)]

    # A final compaction cleans up: one file a day, no repeats, no stray temp files.
    result = log.compact(stale_after=0)
    assert not result.unreadable and not result.quarantined
    assert [p for p in events.rglob("*") if p.name.endswith(".tmp")] == []
    raw = log.read(["event_id"], dedupe=False)["event_id"].to_pylist()
    assert sorted(raw) == sorted(ids)
    for day in events.glob("date=*"):
        assert len(list(day.glob("part-*.parquet"))) == 1


def _days(events: Path) -> list[Path]:
    return sorted(events.glob("date=*"))


def test_half_written_or_empty_part_files_are_skipped_with_a_warning_naming_them(tmp_path):
    """A filesystem without atomic rename can leave a torn ``part-*.parquet``."""
    log = EventLog(tmp_path / "events")
    good = [make_event(f"g-{i}", i) for i in range(30)]
    (first, *_rest) = log.append(good)
    day = first.parent
    torn = day / "part-torn.parquet"
    torn.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # footer missing
    empty = day / "part-empty.parquet"
    empty.write_bytes(b"")
    garbage = _days(tmp_path / "events")[-1] / "part-garbage.parquet"
    garbage.write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")
    (day / ".part-x.parquet.1234.tmp").write_bytes(b"half")  # a killed writer's temp file

    with pytest.warns(LogWarning) as caught:
        table = log.read(["event_id"])
    named = " ".join(str(w.message) for w in caught)
    for bad in (torn, empty, garbage):
        assert str(bad) in named
        assert str(bad) in log.skipped
    assert ".tmp" not in named
    assert sorted(table["event_id"].to_pylist()) == sorted(e.event_id for e in good)

    # The next read skips them quietly (already reported), and still reads every good event.
    with warnings.catch_warnings():
        warnings.simplefilter("error", LogWarning)
        assert log.read(["event_id"]).num_rows == 30

    # A skipped file rewritten whole is read again.
    pq.write_table(pq.read_table(first), torn)
    assert log.read(["event_id"]).num_rows == 30  # same events: counted once
    assert str(torn) not in log.skipped


def test_a_file_that_breaks_mid_scan_is_found_and_skipped(tmp_path):
    """Valid footer, corrupt pages: only a full read finds it."""
    log = EventLog(tmp_path / "events")
    (path,) = log.append([make_event(f"c-{i}", 0) for i in range(50)])
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[100:middle] = os.urandom(middle - 100)  # pages destroyed, footer intact
    broken = path.parent / "part-broken.parquet"
    broken.write_bytes(bytes(data))
    (ok,) = log.append([make_event("c-ok", 0)])
    with pytest.warns(LogWarning, match="part-broken.parquet"):
        ids = log.read(["event_id"])["event_id"].to_pylist()
    assert "c-ok" in ids and len(ids) == len(set(ids)) == 51
    assert Counter(i.split("-")[0] for i in ids) == {"c": 51}


def test_compaction_quarantines_only_old_unreadable_files(tmp_path):
    log = EventLog(tmp_path / "events")
    log.append([make_event(f"q-{i}", 0) for i in range(3)])
    log.append([make_event("q-3", 0)])
    day = _days(tmp_path / "events")[0]
    bad = day / "part-bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.warns(LogWarning, match="part-bad.parquet"):
        young = log.compact()
    assert young.unreadable == (bad,) and bad.exists()
    old = time.time() - 3600
    os.utime(bad, (old, old))
    with pytest.warns(LogWarning, match="moved to"):
        aged = log.compact()
    (moved,) = aged.quarantined
    assert not bad.exists() and moved.read_bytes() == b"not parquet at all"
    assert moved.name.endswith(".bad") and "_quarantine" in moved.parts
    assert len(pd.read_parquet(tmp_path / "events")) == 4  # pandas does not trip on it
    with warnings.catch_warnings():
        warnings.simplefilter("error", LogWarning)
        assert log.read().num_rows == 4
