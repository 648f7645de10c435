"""Concurrency: 4 processes append 10,000 events each while a compactor runs.

The processes append in different styles (a plain loop, threads, asyncio tasks,
a BufferedWriter shared by threads), all at once; a separate process compacts
in a loop until they are done, and this process reads meanwhile.
"""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from _logtools import expected_cost, make_event

from agentcost_nb import analytics
from agentcost_nb.eventlog import EventLog

HERE = Path(__file__).resolve().parent
PER_PROCESS = 10_000
MODES = ("loop", "threads", "asyncio", "buffered")


def test_four_processes_and_a_compactor_lose_and_double_nothing(tmp_path):
    events = tmp_path / "events"
    stop = tmp_path / "stop"
    script = str(HERE / "_logtools.py")
    compactor = subprocess.Popen(
        [sys.executable, script, "compact", str(events), str(stop), str(tmp_path / "compact.txt")]
    )
    for _ in range(600):  # the compactor is running before the writers start
        if (tmp_path / "compactor-ready").exists() or compactor.poll() is not None:
            break
        time.sleep(0.1)
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                script,
                "append",
                str(events),
                str(p),
                str(PER_PROCESS),
                mode,
                str(tmp_path / f"done-{p}.txt"),
            ]  # fmt: skip
        )
        for p, mode in enumerate(MODES)
    ]
    log = EventLog(events)
    snapshots: list[list[str]] = []
    try:
        while any(w.poll() is None for w in writers):
            # Raw rows, no dedupe: neither the writers nor the compactor may double a row.
            snapshots.append(log.read(["event_id"], dedupe=False)["event_id"].to_pylist())
            time.sleep(0.5)
        assert [w.wait() for w in writers] == [0, 0, 0, 0]
    finally:
        stop.touch()
        for w in writers:
            if w.poll() is None:
                w.kill()
        assert compactor.wait(timeout=120) == 0
    runs, merged = map(int, (tmp_path / "compact.txt").read_text().split())
    assert merged >= 1, "no compaction happened while the writers ran"

    ids = [f"p{p}-{i}" for p in range(len(MODES)) for i in range(PER_PROCESS)]
    table = log.read(["event_id", "cost_usd", "input_tokens"])
    got = table["event_id"].to_pylist()
    assert len(got) == 40_000 == len(set(got))
    assert set(got) == set(ids)
    assert sum(table["cost_usd"].to_pylist(), Decimal(0)) == 4 * sum(
        (expected_cost(i) for i in range(PER_PROCESS)), Decimal(0)
    )
    raw = log.read(["event_id"], dedupe=False)["event_id"].to_pylist()
    assert len(raw) == 40_000

    # While it all ran: never a row twice, and never fewer rows than a previous read.
    sizes = [len(s) for s in snapshots]
    assert sizes == sorted(sizes)
    for snapshot in snapshots:
        assert len(snapshot) == len(set(snapshot))

    # The analytics see the same exact totals.
    totals = analytics.totals(log)
    assert totals.requests == 40_000
    assert totals.spend == 4 * sum((expected_cost(i) for i in range(PER_PROCESS)), Decimal(0))


def test_asyncio_tasks_and_threads_in_one_kernel(tmp_path):
    """Several asyncio tasks (as in a kernel) sharing one buffered writer and one log."""
    import asyncio

    log = EventLog(tmp_path / "events")
    writer = log.buffered(max_events=64, max_age=0.2)

    async def task(t: int) -> None:
        for i in range(500):
            writer.append(make_event(f"t{t}-{i}", i))
            if i % 50 == 0:
                await asyncio.sleep(0)
        await asyncio.to_thread(log.append, [make_event(f"d{t}-{i}", i) for i in range(100)])

    async def main() -> None:
        await asyncio.gather(*(task(t) for t in range(8)))

    asyncio.run(main())
    assert writer.close()
    ids = log.read(["event_id"])["event_id"].to_pylist()
    assert len(ids) == 8 * 600 == len(set(ids))
