"""Shutdown: buffered events are written at exit and kernel shutdown; a failed write drops nothing."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _logtools import make_event

from agentcost_nb.errors import LogError
from agentcost_nb.eventlog import EventLog, LogWarning
from agentcost_nb.writer import BufferedWriter

HERE = Path(__file__).resolve().parent


def _ids(log: EventLog) -> list[str]:
    return sorted(log.read(["event_id"])["event_id"].to_pylist())


def _eventually(check, what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _broken_log(tmp_path: Path) -> tuple[EventLog, Path]:
    """A log whose folder cannot be created (a file is in the way) until ``blocker`` goes."""
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    return EventLog(blocker / "events"), blocker


def test_flushes_when_full_when_old_and_on_close(tmp_path):
    log = EventLog(tmp_path / "events")
    with log.buffered(max_events=3, max_age=3600) as writer:
        writer.append([make_event("a-0", 0), make_event("a-1", 1)])
        assert _ids(log) == [] and len(writer.pending) == 2
        writer.append(make_event("a-2", 2))  # full: written at once
        assert _ids(log) == ["a-0", "a-1", "a-2"] and writer.pending == []
        writer.append(make_event("a-3", 3))
    assert _ids(log) == ["a-0", "a-1", "a-2", "a-3"]  # close() flushed the rest
    with pytest.raises(LogError):
        writer.append(make_event("late", 4))

    aged = log.buffered(max_events=1000, max_age=0.05)
    aged.append(make_event("b-0", 0))
    _eventually(lambda: "b-0" in _ids(log), "the age-based flush")
    assert aged.pending == [] and aged.written == 1


def test_a_failed_flush_keeps_the_events_says_so_and_retries(tmp_path, caplog):
    log, blocker = _broken_log(tmp_path)
    writer = BufferedWriter(log, max_events=100, max_age=3600, retry_after=0.05)
    events = [make_event(f"f-{i}", i) for i in range(5)]
    writer.append(events)
    with caplog.at_level(logging.WARNING, "agentcost_nb"), pytest.warns(LogWarning) as caught:
        assert writer.flush() is False
    assert "kept in memory" in str(caught[0].message) and "5 event(s)" in str(caught[0].message)
    assert any("kept in memory" in r.getMessage() for r in caplog.records)
    assert writer.last_error and "could not write events" in writer.last_error
    assert writer.failed_flushes == 1
    assert [e.event_id for e in writer.pending] == [e.event_id for e in events]

    blocker.unlink()  # the problem goes away: the retry timer writes them, once
    blocker.mkdir()
    _eventually(lambda: not writer.pending, "the retry after a failed flush")
    assert writer.last_error is None
    assert _ids(log) == sorted(e.event_id for e in events)
    assert writer.close()


class LandsThenFails(EventLog):
    """A filesystem that reports failure after the data landed (the retry must not double)."""

    failures = 1

    def append(self, events):  # type: ignore[no-untyped-def]
        written = super().append(events)
        if self.failures:
            self.failures -= 1
            raise LogError("could not write events to …: Input/output error")
        return written


def test_a_retried_flush_after_a_write_that_did_land_counts_once(tmp_path):
    log = LandsThenFails(tmp_path / "events")
    writer = log.buffered(max_events=1000, max_age=3600)
    writer.append([make_event(f"r-{i}", i * 300) for i in range(10)])  # several days
    with pytest.warns(LogWarning):
        assert not writer.flush()
    files = sorted(log.path.rglob("part-*.parquet"))
    assert writer.flush()
    assert sorted(log.path.rglob("part-*.parquet")) == files  # replaced, not added
    assert log.read(["event_id"], dedupe=False).num_rows == 10


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from _logtools import make_event
        from agentcost_nb.eventlog import EventLog
        """
    ) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )


@pytest.mark.parametrize(
    "ending",
    ["del writer", "sys.exit(3)", "raise RuntimeError('boom')"],
)
def test_buffered_events_are_written_at_interpreter_exit(tmp_path, ending):
    events = tmp_path / "events"
    done = _run(
        f"""
        writer = EventLog({str(events)!r}).buffered(max_events=1000, max_age=3600)
        writer.append([make_event(f"x-{{i}}", i) for i in range(7)])
        {ending}
        """,
        tmp_path,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    assert _ids(EventLog(events)) == sorted(f"x-{i}" for i in range(7))


def test_events_that_cannot_be_written_at_exit_are_rescued_and_the_path_is_said(tmp_path):
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    done = _run(
        f"""
        writer = EventLog({str(blocker / "events")!r}).buffered(max_events=1000, max_age=3600)
        writer.append([make_event(f"y-{{i}}", i) for i in range(4)])
        """,
        tmp_path,
    )
    (rescue,) = tmp_path.glob("agentcost-nb-unwritten-*.parquet")
    assert str(rescue) in done.stderr and "4 event(s) could not be written" in done.stderr
    assert "append_table" in done.stderr  # says how to import them
    log = EventLog(tmp_path / "events")
    log.append_table(pq.read_table(rescue))
    assert _ids(log) == [f"y-{i}" for i in range(4)]


@pytest.mark.slow
def test_buffered_events_are_written_when_the_kernel_shuts_down(tmp_path):
    from jupyter_client.manager import start_new_kernel

    events = tmp_path / "events"
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.execute_interactive(
            textwrap.dedent(
                f"""
                import sys
                sys.path.insert(0, {str(HERE)!r})
                from _logtools import make_event
                from agentcost_nb.eventlog import EventLog
                writer = EventLog({str(events)!r}).buffered(max_events=1000, max_age=3600)
                writer.append([make_event(f"k-{{i}}", i) for i in range(6)])
                assert len(writer.pending) == 6
                """
            ),
            timeout=120,
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        assert _ids(EventLog(events)) == []  # still in the kernel's memory
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert _ids(EventLog(events)) == sorted(f"k-{i}" for i in range(6))
