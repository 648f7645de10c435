"""A buffered writer for the event log: fewer, larger files, and nothing dropped.

``EventLog.append`` writes one file per call. A process recording many events
can hold them in a :class:`BufferedWriter` instead (``log.buffered()``):
``append`` only adds to memory; the buffer is written as one batch when it holds
``max_events``, when its oldest event is ``max_age`` seconds old (a background
timer), on :meth:`~BufferedWriter.flush` / :meth:`~BufferedWriter.close`, and
at interpreter exit — which includes a Jupyter kernel shut down or restarted
normally (a kernel *killed* cannot run anything: keep ``max_age`` short).

A write that fails keeps its batch, says so (``last_error``, a ``LogWarning``
and a log record) and is retried on the next flush and by the timer. Batches
are retried unchanged, and a batch's file is named after its event ids, so a
retry after a write that did land replaces that file instead of doubling it.
If the very last flush at exit fails, the events are saved to a rescue file
in the temporary folder and the log record says where, and how to import it.
An event the log's schema cannot hold (built by hand with a wrong type) is set
aside to a JSON-lines rescue file and ``rejected``, with a ``LogWarning``, so
that it cannot block the events after it.
"""

from __future__ import annotations

import atexit
import json
import logging
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq

from .errors import LogError
from .eventlog import EventLog, LogWarning
from .events import Event, events_to_table

__all__ = ["BufferedWriter", "flush_all"]

logger = logging.getLogger("agentcost_nb.writer")

# Writers holding unwritten events, kept alive (strong references) until they are
# written: a writer dropped with events in it is still flushed at exit.
_UNWRITTEN: set[BufferedWriter] = set()
_REGISTRY_LOCK = threading.Lock()


class BufferedWriter:
    """Buffer events in memory; write them in batches to an :class:`EventLog`."""

    def __init__(
        self,
        log: EventLog,
        *,
        max_events: int = 500,
        max_age: float = 5.0,
        retry_after: float = 5.0,
    ) -> None:
        if max_events < 1 or not max_age > 0 or not retry_after > 0:
            raise ValueError("max_events must be ≥ 1; max_age and retry_after > 0 seconds")
        self.log = log
        self.max_events = max_events
        self.max_age = max_age
        self.retry_after = retry_after
        self.last_error: str | None = None  # why the last flush failed; None after a success
        self.failed_flushes = 0
        self.written = 0  # events written so far
        self.closed = False
        self._buffer: list[Event] = []
        self._batches: list[list[Event]] = []  # taken for writing or failed: retried as they are
        self.rejected: list[Event] = []  # events the schema cannot hold, set aside (see flush)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._timer_due = 0.0

    def __repr__(self) -> str:
        return f"BufferedWriter({self.log!r}, pending={len(self.pending)})"

    def __enter__(self) -> BufferedWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def pending(self) -> list[Event]:
        """Events not yet written (failed batches first, then the buffer)."""
        with self._lock:
            return [e for batch in self._batches for e in batch] + list(self._buffer)

    def append(self, events: Event | Iterable[Event]) -> None:
        """Buffer one event or several; flushes at once when ``max_events`` are buffered."""
        batch = [events] if isinstance(events, Event) else list(events)
        if not batch:
            return
        with self._lock:
            if self.closed:
                raise LogError("this BufferedWriter is closed")
            self._buffer.extend(batch)
            full = len(self._buffer) >= self.max_events
        _hold(self)
        if full:
            self.flush()
        else:
            self._schedule(self.max_age)

    def flush(self) -> bool:
        """Write everything pending. True if all was written; else the events stay pending."""
        with self._flush_lock:
            with self._lock:
                if self._buffer:
                    self._batches.append(self._buffer)
                    self._buffer = []
                batches = list(self._batches)
            for batch in batches:
                if not self._write(batch):
                    return False
            self.last_error = None
        with self._lock:
            empty = not self._buffer and not self._batches
        if empty:
            _release(self)
        return empty

    def close(self) -> bool:
        """Flush and stop; True if nothing is left unwritten (else see ``last_error``)."""
        with self._lock:
            self.closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        ok = self.flush()
        if not ok:
            message = (
                f"{len(self.pending)} event(s) still not written to {self.log.location} after "
                f"close(): {self.last_error}; they stay in .pending — call flush() to retry"
            )
            _say(logging.ERROR, message, stacklevel=3)
        return ok

    # ------------------------------------------------------------------ internals

    def _failed(self, exc: LogError) -> None:
        self.failed_flushes += 1
        self.last_error = str(exc)
        n = len(self.pending)
        message = f"could not write {n} event(s), kept in memory for the next try: {exc}"
        _say(logging.WARNING, message, stacklevel=4)
        if not self.closed:
            self._schedule(self.retry_after)

    def _schedule(self, delay: float) -> None:
        """A flush in ``delay`` seconds, unless one is already due sooner."""
        due = time.monotonic() + delay
        with self._lock:
            if self.closed or (self._timer is not None and self._timer_due <= due):
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(delay, self._on_timer)
            self._timer.daemon = True
            self._timer_due = due
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        except Exception:  # a background thread must not die silently
            logger.exception("buffered flush to %s failed", self.log.location)
            self._schedule(self.retry_after)

    def _write(self, batch: list[Event]) -> bool:
        """Write one pending batch; False (batch kept) if the write failed."""
        try:
            self.log.append(batch)
        except LogError as exc:
            self._failed(exc)
            return False
        except Exception:  # not I/O: an event the schema cannot hold
            kept = self._set_aside_unencodable(batch)
            if kept is None:
                raise
            return not kept or self._write(kept)
        with self._lock:
            self._batches.remove(batch)
            self.written += len(batch)
        return True

    def _set_aside_unencodable(self, batch: list[Event]) -> list[Event] | None:
        """Take out of ``batch`` the events that cannot be encoded, so that one bad
        event cannot block every later write. They are saved as JSON lines to a
        rescue file (never dropped) and reported. Returns the pending batch that
        replaces it (empty if nothing is left), or None if every event encodes."""
        bad = []
        for event in batch:
            try:
                events_to_table([event])
            except Exception as exc:
                bad.append((event, exc))
        if not bad:
            return None
        target = Path(tempfile.gettempdir()) / f"agentcost-nb-unencodable-{uuid.uuid4().hex}.jsonl"
        try:
            with open(target, "w", encoding="utf-8") as out:
                for event, _ in bad:
                    out.write(json.dumps(event.as_row(), default=str) + "\n")
            where = f"saved to {target}"
        except OSError as exc:
            where = f"kept in .rejected (could not save them to {target}: {exc})"
        keep = [e for e in batch if all(e is not b for b, _ in bad)]
        with self._lock:
            self.rejected.extend(e for e, _ in bad)
            i = next(i for i, b in enumerate(self._batches) if b is batch)
            if keep:
                self._batches[i] = keep
            else:
                del self._batches[i]
        message = (
            f"{len(bad)} event(s) for {self.log.location} cannot be stored in the log's schema "
            f"({type(bad[0][1]).__name__}: {bad[0][1]}); {where}; the rest is written"
        )
        _say(logging.ERROR, message, stacklevel=4)
        return keep

    def _rescue(self) -> Path | None:
        """Last resort at exit: save unwritten events where they can be imported later."""
        events = self.pending
        target = Path(tempfile.gettempdir()) / f"agentcost-nb-unwritten-{uuid.uuid4().hex}.parquet"
        try:
            pq.write_table(events_to_table(events), target)
        except Exception as exc:
            logger.error(
                "%d event(s) for %s are lost: could not write them (%s) nor save them to %s (%s)",
                len(events), self.log.location, self.last_error, target, exc,
            )  # fmt: skip
            return None
        logger.error(
            "%d event(s) could not be written to %s (%s); saved to %s — import them with "
            "EventLog(%r).append_table(pyarrow.parquet.read_table(%r))",
            len(events), self.log.location, self.last_error, target, self.log.location, str(target),
        )  # fmt: skip
        return target


def _say(level: int, message: str, *, stacklevel: int) -> None:
    """Tell both the log (for servers) and a ``LogWarning`` (for notebooks and tests)."""
    logger.log(level, message)
    warnings.warn(message, LogWarning, stacklevel=stacklevel)


def _hold(writer: BufferedWriter) -> None:
    with _REGISTRY_LOCK:
        _UNWRITTEN.add(writer)


def _release(writer: BufferedWriter) -> None:
    with _REGISTRY_LOCK:
        _UNWRITTEN.discard(writer)


def flush_all(*, at_exit: bool = False) -> int:
    """Flush every writer holding events; returns how many events are still unwritten.

    Runs at interpreter exit. Events whose final write fails there are saved to a
    rescue file (and the log says where) rather than dropped.
    """
    with _REGISTRY_LOCK:
        writers = list(_UNWRITTEN)
    left = 0
    for writer in writers:
        deadline = time.monotonic() + 1.0
        ok = writer.flush()
        while not ok and at_exit and time.monotonic() < deadline:
            time.sleep(0.2)  # a short retry: transient errors (e.g. a full disk just freed)
            ok = writer.flush()
        if not ok:
            left += len(writer.pending)
            if at_exit:
                writer._rescue()
    return left


def _at_exit() -> None:
    flush_all(at_exit=True)


atexit.register(_at_exit)
