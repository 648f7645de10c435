"""Helpers for the event-log reliability tests, and the worker processes they start.

Run as a script, this is the worker::

    python tests/_logtools.py zygote EVENTS REPORT   # forks writers/compactors on command
    python tests/_logtools.py append EVENTS PROC N MODE REPORT

The zygote imports everything once and then ``os.fork()``s a fresh child per
command (``write SEED`` or ``compact SEED``), printing its pid, so a test can
start and SIGKILL dozens of writers quickly. Report lines: ``A id id …`` before
an append (attempted) and ``W id id …`` once it returned (written).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agentcost_nb.eventlog import EventLog  # noqa: E402
from agentcost_nb.events import Event  # noqa: E402
from agentcost_nb.pricing import PriceSheet, TokenUsage, compute_cost  # noqa: E402

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)
SHEET = PriceSheet(
    cost_per_query=Decimal("0.001"),
    input_cost_per_token=Decimal("0.000002"),
    output_cost_per_token=Decimal("0.000008"),
)


def make_event(
    event_id: str, n: int, *, days: int = 3, run: int = 500, agent: str = "agent-a"
) -> Event:
    """A priced event whose day, tokens and cost follow from ``n`` (so totals are known).

    Runs of ``run`` consecutive ``n`` share a day (so a batch mostly lands in one file).
    """
    usage = TokenUsage(input_tokens=n % 101, output_tokens=n % 37)
    ts = DAY0 + timedelta(days=(n // run) % days, seconds=n % 86_000)
    return Event.priced(
        sheet=SHEET,
        usage=usage,
        cost=compute_cost(SHEET, usage),
        event_id=event_id,
        timestamp=ts,
        agent_name=agent,
        status="success",
    )


def expected_cost(n: int) -> Decimal:
    cost = compute_cost(SHEET, TokenUsage(input_tokens=n % 101, output_tokens=n % 37)).total
    assert cost is not None
    return cost


def cost_of_id(event_id: str) -> Decimal:
    """Ids are ``<prefix>-<n>``: the cost follows from ``n``."""
    return expected_cost(int(event_id.rsplit("-", 1)[1]))


def read_report(path: Path) -> tuple[set[str], set[str]]:
    """(attempted, written) ids; a torn last line (killed mid-write) is ignored."""
    attempted: set[str] = set()
    written: set[str] = set()
    if not path.exists():
        return attempted, written
    for line in path.read_text().split("\n"):
        kind, _, rest = line.partition(" ")
        if not line.endswith(";"):
            continue
        ids = rest.rstrip(";").split()
        (attempted if kind == "A" else written).update(ids)
    return attempted, written


def _report(fd: int, kind: str, ids: Iterable[str]) -> None:
    os.write(fd, f"{kind} {' '.join(ids)};\n".encode())


# ----------------------------------------------------------------- worker modes


def _writer(events: Path, report: Path, seed: int) -> None:
    log = EventLog(events)
    rng = random.Random(seed)
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    n = 0
    while True:
        batch = [make_event(f"s{seed}-{n + k}", n + k) for k in range(rng.randint(1, 40))]
        n += len(batch)
        ids = [e.event_id for e in batch]
        _report(fd, "A", ids)
        log.append(batch)
        _report(fd, "W", ids)


def _compactor(events: Path, seed: int) -> None:
    log = EventLog(events)
    while True:
        log.compact(stale_after=3600)
        time.sleep(random.Random(seed).random() * 0.02)


def zygote(events: Path, report: Path) -> None:
    children: list[int] = []
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        for pid in list(children):
            if os.waitpid(pid, os.WNOHANG)[0]:
                children.remove(pid)
        if cmd[0] == "quit":
            break
        pid = os.fork()
        if pid == 0:  # the child: never returns (it is SIGKILLed)
            try:
                if cmd[0] == "write":
                    _writer(events, report, int(cmd[1]))
                else:
                    _compactor(events, int(cmd[1]))
            except BaseException:
                traceback.print_exc()  # to the test's stderr: a worker must not die by itself
                (report.parent / f"died-{os.getpid()}").write_text(traceback.format_exc())
            finally:
                os._exit(1)
        children.append(pid)
        print(pid, flush=True)
    for pid in children:
        os.waitpid(pid, 0)


def append_worker(events: Path, proc: int, n: int, mode: str, report: Path) -> None:
    """Append ``n`` events ``p<proc>-<i>`` in one of several concurrency styles."""
    log = EventLog(events)
    events_ = [make_event(f"p{proc}-{i}", i) for i in range(n)]

    def run(chunk: list[Event], size: int) -> None:
        for i in range(0, len(chunk), size):
            log.append(chunk[i : i + size])

    parts = 4
    step = -(-n // parts)
    chunks = [events_[i : i + step] for i in range(0, n, step)]
    if mode == "loop":
        run(events_, 500)
    elif mode == "threads":
        threads = [threading.Thread(target=run, args=(c, 250)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elif mode == "asyncio":

        async def task(chunk: list[Event]) -> None:
            for i in range(0, len(chunk), 250):
                await asyncio.to_thread(log.append, chunk[i : i + 250])

        async def main() -> None:
            await asyncio.gather(*(task(c) for c in chunks))

        asyncio.run(main())
    elif mode == "buffered":
        writer = log.buffered(max_events=500, max_age=0.5)

        def feed(chunk: list[Event]) -> None:
            for e in chunk:
                writer.append(e)

        threads = [threading.Thread(target=feed, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert writer.close(), writer.last_error
    else:
        raise SystemExit(f"unknown mode {mode}")
    report.write_text(f"done {n}\n")


def compact_loop(events: Path, stop: Path, report: Path) -> None:
    log = EventLog(events)
    runs = merged = 0
    while not stop.exists():
        result = log.compact()
        runs += 1
        merged += len(result.days)
        if runs == 1:
            (report.parent / "compactor-ready").touch()
        time.sleep(0.05)
    report.write_text(f"{runs} {merged}\n")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "zygote":
        zygote(Path(sys.argv[2]), Path(sys.argv[3]))
    elif what == "append":
        append_worker(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                      Path(sys.argv[6]))  # fmt: skip
    elif what == "compact":
        compact_loop(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
