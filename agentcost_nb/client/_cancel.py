"""Cancel a call in flight, from a button, from code, or from another thread.

``CancelToken.cancel()`` cancels the asyncio task that is inside
``token.guard()`` at that moment, and only while it is inside: a cancel that
arrives after the call finished does nothing.  The guarded code tells a
cancel it asked for from any other one with ``token.claim()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CancelToken"]


class CancelToken:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._delivered = False
        self._bound: tuple[asyncio.AbstractEventLoop, asyncio.Task[object]] | None = None

    @property
    def requested(self) -> bool:
        return self._requested

    def cancel(self) -> None:
        """Ask the call to stop; safe from any thread, any number of times."""
        with self._lock:
            self._requested = True
            bound = self._bound
        if bound is not None:
            loop, task = bound
            try:
                loop.call_soon_threadsafe(self._deliver, task)
            except RuntimeError:  # the loop is closed: nothing left to cancel
                pass

    def _deliver(self, task: asyncio.Task[object]) -> None:
        # On the loop's thread: the task is still inside guard() only if still bound.
        if self._bound is not None and self._bound[1] is task and not self._delivered:
            self._delivered = True
            task.cancel("canceled by the user")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Make the current task the one ``cancel()`` stops, for the ``with`` block."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("CancelToken.guard() needs a running asyncio task")
        with self._lock:
            self._bound = (asyncio.get_running_loop(), task)
        try:
            yield
        finally:
            with self._lock:
                self._bound = None

    def claim(self) -> bool:
        """In an ``except CancelledError`` inside the guard: True if this token caused it.

        Then the cancellation is consumed (``Task.uncancel``); any other one
        (a kernel interrupt, a timeout) must propagate.
        """
        task = asyncio.current_task()
        if not self._delivered or task is None:
            return False
        self._delivered = False
        # Our cancel is consumed; if another one is pending too, it must propagate.
        return task.uncancel() == 0
